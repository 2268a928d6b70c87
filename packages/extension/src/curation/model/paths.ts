/**
 * Dataset-relative paths for the curation actions ('/'-separated, relative to the dataset root): the split and class
 * folder of a file (the same rule as core's scan: `[train|val|valid|validation|test/]<class>/<file>`), where a move
 * puts a file, and the ` (1)`, ` (2)`… suffix that keeps a name clash from overwriting anything.
 */
import * as path from 'node:path';
import { isSplitName } from '@image-classifier/protocol/curation';

export { isSplitName, SPLIT_NAMES } from '@image-classifier/protocol/curation';

/** Where earlier versions kept the board's state inside the dataset root (state.ts moves them out). */
export const CURATION_DIR = '.curation';
export const TRASH_FOLDER = '.trash';

/** The split (a first folder named like a split) and class folder of a root-relative path. */
export function placeOf(rel: string): { split?: string; label?: string } {
  const parts = rel.split('/');
  const i = parts.length > 1 && isSplitName(parts[0]!) ? 1 : 0;
  const split = i === 1 ? parts[0] : undefined;
  const label = parts.length - i > 1 ? parts[i] : undefined;
  return { ...(split !== undefined ? { split } : {}), ...(label !== undefined ? { label } : {}) };
}

/** Where a move to `toLabel` puts `rel`: straight into the class folder of the same split, same file name. */
export function moveTarget(rel: string, toLabel: string): string {
  const { split } = placeOf(rel);
  const name = rel.slice(rel.lastIndexOf('/') + 1);
  return `${split !== undefined ? `${split}/` : ''}${toLabel}/${name}`;
}

/** `a/x.jpg` → `a/x (n).jpg`; a name without extension (or a dot file) gets the suffix at its end. */
export function withSuffix(rel: string, n: number): string {
  const slash = rel.lastIndexOf('/');
  const dir = rel.slice(0, slash + 1);
  const name = rel.slice(slash + 1);
  const dot = name.lastIndexOf('.');
  const [stem, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
  return `${dir}${stem} (${n})${ext}`;
}

/** Why `label` cannot be a class folder name, or undefined when it can. */
export function labelProblem(label: string): string | undefined {
  if (!label.trim()) return 'the class name is empty';
  if (/[/\\]/.test(label)) return `the class name “${label}” contains a path separator`;
  if (label.startsWith('.')) return `the class name “${label}” starts with a dot (hidden folders are not part of the dataset)`;
  if (isSplitName(label)) return `“${label}” is a split folder name, not a class`;
  return undefined;
}

/** Why `rel` is not a dataset file path (relative, '/'-separated, inside the root, not hidden), or undefined. */
export function relProblem(rel: string): string | undefined {
  if (!rel || rel.startsWith('/') || /^[a-zA-Z]:/.test(rel) || rel.includes('\\'))
    return `“${rel}” is not a path relative to the dataset folder`;
  const parts = rel.split('/');
  if (parts.some((p) => p === '' || p === '.' || p === '..')) return `“${rel}” is not a plain path inside the dataset folder`;
  if (parts.some((p) => p.startsWith('.'))) return `“${rel}” is hidden (inside a dot folder), not a dataset file`;
  return undefined;
}

/** The absolute file-system path of a root-relative path. */
export function absPath(root: string, rel: string): string {
  return path.join(root, ...rel.split('/'));
}
