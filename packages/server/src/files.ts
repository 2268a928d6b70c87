/**
 * Expanding the command line's files and folders into image files, and naming tensor dumps.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { isKnownImagePath } from '@image-classifier/protocol/formats';

/** True for the file names a folder walk picks up: any format in protocol's table (explicit files are always tried). */
export function isImagePath(p: string): boolean {
  return isKnownImagePath(p);
}

export interface InputEntry {
  /** The path as the user will see it in the output (relative inputs stay relative). */
  file: string;
  /** True when it came from a folder walk. */
  fromFolder: boolean;
}

/**
 * Expands inputs in order: a file stays itself (missing ones too, so they get an error record), a folder is
 * walked recursively (sorted, hidden entries and node_modules skipped, symlinked folders not followed).
 */
export async function expandInputs(inputs: string[]): Promise<{ entries: InputEntry[]; folders: number }> {
  const entries: InputEntry[] = [];
  let folders = 0;
  for (const input of inputs) {
    let st;
    try {
      st = await fs.stat(input);
    } catch {
      entries.push({ file: input, fromFolder: false });
      continue;
    }
    if (st.isDirectory()) {
      folders++;
      await walk(input, entries);
    } else {
      entries.push({ file: input, fromFolder: false });
    }
  }
  return { entries, folders };
}

/**
 * A walk of our own rather than `readdir(dir, {recursive: true})`: that one lists everything below before we can
 * prune, so a folder holding node_modules or .git (hundreds of thousands of entries) would be read in full.
 */
async function walk(dir: string, out: InputEntry[]): Promise<void> {
  let names;
  try {
    names = await fs.readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  // Code-unit order, the same on every platform and locale. Symlinked folders are not followed (isDirectory() is
  // false for a link), so a link loop cannot recurse; a symlinked file is taken.
  names.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const d of names) {
    if (d.name.startsWith('.') || d.name === 'node_modules') continue;
    const p = path.join(dir, d.name);
    if (d.isDirectory()) await walk(p, out);
    else if ((d.isFile() || d.isSymbolicLink()) && isImagePath(d.name)) out.push({ file: p, fromFolder: true });
  }
}

/** `skimage_coffee.png` → `skimage_coffee_png` (the reference tensors' naming). */
export function tensorStem(file: string): string {
  const base = path.basename(file);
  const i = base.lastIndexOf('.');
  return i < 0 ? base : `${base.slice(0, i)}_${base.slice(i + 1)}`;
}
