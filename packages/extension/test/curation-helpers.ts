/** Shared by the curation unit tests: a small dataset in a temporary folder. */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CurationCore } from '../src/curation/model/dataset-actions';
import { NodeFileOps } from '../src/curation/model/file-ops';

export interface Dataset {
  root: string;
  osTrash: string;
  cleanup(): void;
}

/** train/cats/a.jpg, train/cats/b.jpg, train/dogs/a.jpg, train/dogs/c.jpg, val/cats/d.jpg: random bytes each. */
export function makeDataset(): Dataset {
  const base = mkdtempSync(path.join(os.tmpdir(), 'curation-'));
  const root = path.join(base, 'dataset');
  for (const f of ['train/cats/a.jpg', 'train/cats/b.jpg', 'train/dogs/a.jpg', 'train/dogs/c.jpg', 'val/cats/d.jpg'])
    write(root, f, randomBytes(200));
  const osTrash = path.join(base, 'os-trash');
  mkdirSync(osTrash);
  return { root, osTrash, cleanup: () => rmSync(base, { recursive: true, force: true }) };
}

export function write(root: string, rel: string, data: Uint8Array | string): void {
  mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
  writeFileSync(path.join(root, rel), data);
}

export function hashOf(root: string, rel: string): string {
  return createHash('sha256')
    .update(readFileSync(path.join(root, rel)))
    .digest('hex');
}

export function exists(root: string, rel: string): boolean {
  try {
    statSync(path.join(root, rel));
    return true;
  } catch {
    return false;
  }
}

/** Every dataset file (not the hidden folders) with its sha256, sorted: a snapshot to compare. */
export function snapshot(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string, rel: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.name.startsWith('.')) continue;
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(path.join(dir, e.name), r);
      else out.push(`${r} ${hashOf(root, r)}`);
    }
  };
  walk(root, '');
  return out.sort();
}

/** The board's state folder for a dataset at `root`: `<parent>/.<name>.curation` (src/curation/model/state.ts). */
export function stateDir(root: string): string {
  return path.join(path.dirname(root), `.${path.basename(root)}.curation`);
}

/** The file a journal path names: `.trash/…` and `.curation/trash/…` are in the state folder, the rest in the dataset. */
export function statePath(root: string, rel: string): string {
  if (rel.startsWith('.trash/')) return path.join(stateDir(root), 'trash', rel.slice(7));
  if (rel.startsWith('.curation/trash/')) return path.join(stateDir(root), 'trash-copies', rel.slice(16));
  return path.join(root, rel);
}

export function journalText(root: string): string {
  try {
    return readFileSync(path.join(stateDir(root), 'journal.jsonl'), 'utf8');
  } catch {
    return '';
  }
}

export function openCore(ds: Dataset, withOsTrash = false): Promise<CurationCore> {
  return CurationCore.open(ds.root, new NodeFileOps(withOsTrash ? ds.osTrash : undefined));
}
