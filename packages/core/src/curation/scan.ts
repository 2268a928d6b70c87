/**
 * Finding a dataset's images and their labels: the ImageFolder layout `root/<class>/**` or
 * `root/<split>/<class>/**` with split folders named train, val, valid, validation or test. Files straight under
 * the root (or a split folder) have no label. Symlinked folders are followed once (a loop is reported, not walked);
 * hidden entries are skipped; files that are not images are listed as skipped.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { isSplitName, type SkippedEntry } from '@image-classifier/protocol';
import { isKnownImagePath } from '@image-classifier/protocol/formats';
import { ClassifierError } from '../errors.js';

export interface DatasetEntry {
  /** Absolute path. */
  path: string;
  /** Relative to the root, `/`-separated. */
  file: string;
  label?: string;
  split?: string;
}

export interface DatasetScan {
  root: string;
  entries: DatasetEntry[];
  skipped: SkippedEntry[];
  splits: string[];
}

interface Walk {
  root: string;
  visited: Set<string>;
  files: string[];
  skipped: SkippedEntry[];
}

const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

async function walk(dir: string, w: Walk): Promise<void> {
  let real: string;
  let names;
  try {
    real = await fs.realpath(dir);
    names = await fs.readdir(dir, { withFileTypes: true });
  } catch (e) {
    w.skipped.push({ file: rel(w.root, dir), reason: `folder cannot be read: ${(e as Error).message}` });
    return;
  }
  if (w.visited.has(real)) {
    w.skipped.push({ file: rel(w.root, dir), reason: 'symlink loop or repeated folder (already walked)' });
    return;
  }
  w.visited.add(real);
  names.sort(byName);
  for (const d of names) {
    if (d.name.startsWith('.') || d.name === 'node_modules') continue;
    const p = path.join(dir, d.name);
    let isDir = d.isDirectory();
    if (d.isSymbolicLink()) {
      const st = await fs.stat(p).catch(() => undefined);
      if (!st) {
        w.skipped.push({ file: rel(w.root, p), reason: 'broken symbolic link' });
        continue;
      }
      isDir = st.isDirectory();
    }
    if (isDir) await walk(p, w);
    else if (isKnownImagePath(d.name)) w.files.push(p);
    else w.skipped.push({ file: rel(w.root, p), reason: 'not an image file (unknown extension)' });
  }
}

function rel(root: string, p: string): string {
  return path.relative(root, p).split(path.sep).join('/');
}

/** The label and split of a root-relative path. */
export function labelOf(file: string, splitMode: boolean): { label?: string; split?: string } {
  const parts = file.split('/');
  let i = 0;
  let split: string | undefined;
  if (splitMode && parts.length > 1 && isSplitName(parts[0]!)) {
    split = parts[0]!;
    i = 1;
  }
  const label = parts.length - i > 1 ? parts[i] : undefined;
  return { ...(label !== undefined ? { label } : {}), ...(split !== undefined ? { split } : {}) };
}

/** Walks `root`; throws FILE_NOT_FOUND / NOT_A_FILE when the root itself is unusable. */
export async function scanDataset(root: string): Promise<DatasetScan> {
  const abs = path.resolve(root);
  const st = await fs.stat(abs).catch(() => undefined);
  if (!st) throw new ClassifierError('FILE_NOT_FOUND', `Dataset folder not found: ${root}.`);
  if (!st.isDirectory())
    throw new ClassifierError('NOT_A_FILE', `${root} is not a folder; curate takes a dataset folder (<class>/<image> files).`);
  const w: Walk = { root: abs, visited: new Set(), files: [], skipped: [] };
  await walk(abs, w);
  const top = new Set(
    w.files
      .map((f) => rel(abs, f).split('/'))
      .filter((p) => p.length > 1)
      .map((p) => p[0]!),
  );
  const splitMode = [...top].some(isSplitName);
  const entries = w.files.map((p) => {
    const file = rel(abs, p);
    return { path: p, file, ...labelOf(file, splitMode) };
  });
  const splits = [...new Set(entries.map((e) => e.split).filter((s): s is string => s !== undefined))].sort();
  return { root: abs, entries, skipped: w.skipped, splits };
}
