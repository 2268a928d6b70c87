/**
 * Finding a dataset's images and their labels: the ImageFolder layout `root/<class>/**` or
 * `root/<split>/<class>/**` with split folders named train, val, valid, validation or test. Files straight under
 * the root (or a split folder) have no label. Names are read as bytes: a name that is not valid UTF-8 is shown with
 * its bad bytes escaped (`\xE9`) and read by its real bytes. Symbolic links are followed only while they stay inside
 * the root: a link leading out of it (a folder such as `/`, or a file elsewhere) is listed as skipped with the reason,
 * never walked or read, and a loop is reported, not walked. FIFOs, sockets and devices with an image name (or links
 * to them) are listed as unreadable (NOT_A_FILE) without being opened. Hidden entries are skipped; files that are
 * not images are listed as skipped.
 */
import { promises as fs, type Dirent, type Stats } from 'node:fs';
import * as path from 'node:path';
import { isSplitName, type SkippedEntry } from '@image-classifier/protocol';
import { isKnownImagePath } from '@image-classifier/protocol/formats';
import { ClassifierError } from '../errors.js';
import { describeKind, displayName, isInsideFolder, isUtf8Name } from '../fs/regular-file.js';

export interface DatasetEntry {
  /** Absolute path (names that are not valid UTF-8 shown escaped: then `rawPath` is the real one). */
  path: string;
  /** Relative to the root, `/`-separated, shown as `path`. */
  file: string;
  /** The path's real bytes, when a name on it is not valid UTF-8: every file operation uses this. */
  rawPath?: Buffer;
  label?: string;
  split?: string;
  /** Set by the scan for a name that is not a regular file (a FIFO, a device): reported unreadable, never opened. */
  refused?: { code: 'NOT_A_FILE'; message: string };
}

export interface DatasetScan {
  root: string;
  /** The root with symlinks resolved: what every read must stay inside. */
  realRoot: string;
  entries: DatasetEntry[];
  skipped: SkippedEntry[];
  splits: string[];
}

/** A path being walked: as bytes (what fs uses) and as shown. */
interface Name {
  raw: Buffer;
  shown: string;
  /** Whether raw and shown name the same file. */
  utf8: boolean;
}

interface Found {
  name: Name;
  refused?: DatasetEntry['refused'];
}

interface Walk {
  root: string;
  realRoot: string;
  visited: Set<string>;
  files: Found[];
  skipped: SkippedEntry[];
}

const byName = (a: Dirent<Buffer>, b: Dirent<Buffer>) => Buffer.compare(a.name, b.name);

const SEP = Buffer.from(path.sep);

function child(dir: Name, raw: Buffer): Name {
  const utf8 = isUtf8Name(raw);
  return {
    raw: Buffer.concat([dir.raw, SEP, raw]),
    shown: path.join(dir.shown, utf8 ? raw.toString('utf8') : displayName(raw)),
    utf8: dir.utf8 && utf8,
  };
}

async function walk(dir: Name, w: Walk): Promise<void> {
  let real: string;
  let names: Dirent<Buffer>[];
  try {
    // Latin-1: one character per byte, so two names that differ only in bytes that are not UTF-8 stay apart.
    real = (await fs.realpath(dir.raw, { encoding: 'buffer' })).toString('latin1');
    names = await fs.readdir(dir.raw, { withFileTypes: true, encoding: 'buffer' });
  } catch (e) {
    w.skipped.push({ file: rel(w.root, dir.shown), reason: `folder cannot be read: ${(e as Error).message}` });
    return;
  }
  if (w.visited.has(real)) {
    w.skipped.push({ file: rel(w.root, dir.shown), reason: 'symlink loop or repeated folder (already walked)' });
    return;
  }
  w.visited.add(real);
  names.sort(byName);
  for (const d of names) {
    // Hidden entries ('.…') and node_modules are not part of a dataset.
    if (d.name[0] === 0x2e || d.name.equals(NODE_MODULES)) continue;
    const p = child(dir, d.name);
    let st: Stats | Dirent<Buffer> = d;
    if (d.isSymbolicLink()) {
      const target = await fs.stat(p.raw).catch(() => undefined);
      if (!target) {
        w.skipped.push({ file: rel(w.root, p.shown), reason: 'broken symbolic link' });
        continue;
      }
      st = target;
      if (target.isDirectory() || target.isFile()) {
        const where = await fs.realpath(p.raw, { encoding: 'buffer' }).catch(() => undefined);
        if (!where || !isInsideFolder(where.toString('utf8'), w.realRoot)) {
          const what = target.isDirectory() ? 'folder' : 'file';
          w.skipped.push({
            file: rel(w.root, p.shown),
            reason: `symbolic link to a ${what} outside the dataset folder: not ${what === 'folder' ? 'walked' : 'read'}`,
          });
          continue;
        }
      }
    }
    if (st.isDirectory()) await walk(p, w);
    else if (!isKnownImagePath(p.shown)) w.skipped.push({ file: rel(w.root, p.shown), reason: 'not an image file (unknown extension)' });
    else if (st.isFile()) w.files.push({ name: p });
    else {
      const kind = d.isSymbolicLink() ? `a symbolic link to ${describeKind(st as Stats)}` : kindOf(d);
      w.files.push({
        name: p,
        refused: { code: 'NOT_A_FILE', message: `${rel(w.root, p.shown)} is not a regular file (${kind}); it is not read.` },
      });
    }
  }
}

const NODE_MODULES = Buffer.from('node_modules');

function kindOf(d: Dirent<Buffer>): string {
  if (d.isFIFO()) return 'a FIFO (named pipe)';
  if (d.isSocket()) return 'a socket';
  if (d.isCharacterDevice() || d.isBlockDevice()) return 'a device';
  return 'not a regular file';
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
  const realRoot = (await fs.realpath(Buffer.from(abs), { encoding: 'buffer' })).toString('utf8');
  const w: Walk = { root: abs, realRoot, visited: new Set(), files: [], skipped: [] };
  await walk({ raw: Buffer.from(abs), shown: abs, utf8: true }, w);
  const top = new Set(
    w.files
      .map((f) => rel(abs, f.name.shown).split('/'))
      .filter((p) => p.length > 1)
      .map((p) => p[0]!),
  );
  const splitMode = [...top].some(isSplitName);
  const entries = w.files.map(({ name, refused }): DatasetEntry => {
    const file = rel(abs, name.shown);
    return {
      path: name.shown,
      file,
      ...(name.utf8 ? {} : { rawPath: name.raw }),
      ...labelOf(file, splitMode),
      ...(refused ? { refused } : {}),
    };
  });
  const splits = [...new Set(entries.map((e) => e.split).filter((s): s is string => s !== undefined))].sort();
  return { root: abs, realRoot, entries, skipped: w.skipped, splits };
}
