/**
 * Where the curation board's paths point, and the check every path passes before a file operation.
 *
 * The board keeps nothing inside the dataset folder (image-folder loaders such as torchvision's `ImageFolder` take
 * every sub-folder for a class, dot folders included): its state lives in a folder beside the dataset,
 * `<parent>/.<name>.curation/` (next to the dataset's real path), see state.ts. Paths in the journal are relative:
 * a dataset path (`train/cats/a.jpg`), or one of two names for the state folder's areas:
 *
 *   `.trash/<dataset path>`                  → `<state>/trash/<dataset path>` (trash where there is no OS trash)
 *   `.curation/trash/<action id>/<dataset path>` → `<state>/trash-copies/<action id>/<dataset path>` (copies kept
 *                                               for undo of a file sent to the OS trash)
 *
 * Every path read from disk (journal, decisions) is checked twice: by its text (relative, '/'-separated, normalised,
 * no `..`, not absolute, no dot folder in a dataset path) when it is read, and against the file system (no folder on
 * the way is a symbolic link, and its real path is inside the dataset or the state folder) before any operation.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { relProblem } from './paths';

import type { CurationErrorCode } from '../shared/types';

export type { CurationErrorCode };

/** A refusal with a code and a sentence the user can act on. */
export class CurationError extends Error {
  constructor(
    readonly code: CurationErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** The journal's names for the state folder's two areas, and the folders they name there. */
export const TRASH_PREFIX = '.trash/';
export const COPIES_PREFIX = '.curation/trash/';
export const TRASH_AREA = 'trash';
export const COPIES_AREA = 'trash-copies';

const ID = /^[A-Za-z0-9_-]{1,64}$/;

interface Split {
  /** The folder under the state folder, or undefined for a dataset path. */
  area?: typeof TRASH_AREA | typeof COPIES_AREA;
  /** The path's parts below the area (or the dataset root). */
  parts: string[];
}

function splitOf(rel: string): Split {
  if (rel.startsWith(TRASH_PREFIX)) return { area: TRASH_AREA, parts: rel.slice(TRASH_PREFIX.length).split('/') };
  if (rel.startsWith(COPIES_PREFIX)) return { area: COPIES_AREA, parts: rel.slice(COPIES_PREFIX.length).split('/') };
  return { parts: rel.split('/') };
}

/** Why `rel`, a path read from the journal or the decisions file, is not one the board acts on; undefined when it is. */
export function journalPathProblem(rel: unknown): string | undefined {
  if (typeof rel !== 'string') return 'a path in it is not text';
  const { area, parts } = splitOf(rel);
  if (area === COPIES_AREA) {
    if (!ID.test(parts[0] ?? '')) return `“${rel}” does not name a copy kept for undo`;
    const inner = parts.slice(1).join('/');
    return relProblem(inner) ? `“${rel}” is not a plain path inside the board's folder` : undefined;
  }
  if (area === TRASH_AREA) return relProblem(parts.join('/')) ? `“${rel}” is not a plain path inside the board's folder` : undefined;
  const p = relProblem(rel);
  const leaves = rel.startsWith('/') || /^[a-zA-Z]:/.test(rel) || rel.split(/[/\\]/).includes('..');
  return p && leaves ? `${p} (it leaves the dataset folder)` : p;
}

/** True for a journal path that names the state folder (the file left the dataset). */
export function isStatePath(rel: string): boolean {
  return splitOf(rel).area !== undefined;
}

const errno = (e: unknown) => (e as NodeJS.ErrnoException).code;

export class Places {
  constructor(
    /** The dataset folder as the user opened it. */
    readonly root: string,
    /** Its real path (symbolic links resolved). */
    readonly realRoot: string,
    /** The board's state folder (beside the real dataset folder). */
    readonly stateDir: string,
  ) {}

  /** The absolute path of a journal path (no check: `safe` checks). */
  abs(rel: string): string {
    const { area, parts } = splitOf(rel);
    return area ? path.join(this.stateDir, area, ...parts) : path.join(this.root, ...parts);
  }

  /** The folder a path is relative to (the dataset root, or an area of the state folder) and the parts below it. */
  private baseOf(rel: string): { base: string; realBase: string; parts: string[]; what: string } {
    const { area, parts } = splitOf(rel);
    if (!area) return { base: this.root, realBase: this.realRoot, parts, what: 'the dataset folder' };
    return { base: this.stateDir, realBase: this.stateDir, parts: [area, ...parts], what: "the board's folder" };
  }

  /** Why a folder on the way to `rel` is a symbolic link or not a folder (cached in `checked`), or undefined. */
  async folderProblem(rel: string, checked: Map<string, string | undefined>): Promise<string | undefined> {
    const { base, parts } = this.baseOf(rel);
    let cur = base;
    for (let i = 0; i < parts.length - 1; i++) {
      cur = path.join(cur, parts[i]!);
      if (!checked.has(cur)) {
        const st = await fs.lstat(cur).catch(() => undefined);
        const shown = parts.slice(0, i + 1).join('/');
        checked.set(
          cur,
          !st
            ? ''
            : st.isSymbolicLink()
              ? `“${rel}” passes through ${shown}, a symbolic link (the board never acts through links)`
              : st.isDirectory()
                ? undefined
                : `“${rel}” passes through ${shown}, which is not a folder`,
        );
      }
      const v = checked.get(cur);
      if (v === '') return undefined;
      if (v) return v;
    }
    return undefined;
  }

  /**
   * `abs(rel)` once `rel` is known safe: its text passes `journalPathProblem`, no folder on the way (nor the file
   * itself) is a symbolic link, the folders are folders, what exists is a regular file (or a folder), and the real path of
   * what exists is inside its base. Throws CurationError UNSAFE_PATH with the reason otherwise.
   */
  async safe(rel: string, kind: 'file' | 'folder' = 'file'): Promise<string> {
    const problem = journalPathProblem(rel);
    if (problem) throw new CurationError('UNSAFE_PATH', `${problem}; the board does not act on it`);
    const { base, realBase, parts, what } = this.baseOf(rel);
    let cur = base;
    for (let i = 0; i < parts.length; i++) {
      cur = path.join(cur, parts[i]!);
      const last = i === parts.length - 1;
      const st = await fs.lstat(cur).catch((e) => {
        if (errno(e) === 'ENOENT' || errno(e) === 'ENOTDIR') return undefined;
        throw e;
      });
      if (!st) break;
      const shown = parts.slice(0, i + 1).join('/');
      if (st.isSymbolicLink()) {
        const to = await fs.readlink(cur).catch(() => '?');
        throw new CurationError(
          'UNSAFE_PATH',
          `“${rel}”: ${shown} is a symbolic link (to ${to}); the board never reads or writes through links, so files stay inside ${what}`,
        );
      }
      if (!last && !st.isDirectory()) throw new CurationError('UNSAFE_PATH', `“${rel}”: ${shown} is not a folder`);
      if (last && (kind === 'file' ? !st.isFile() : !st.isDirectory()))
        throw new CurationError('UNSAFE_PATH', `“${rel}” is not a ${kind === 'file' ? 'regular file' : 'folder'}`);
    }
    const abs = path.join(base, ...parts);
    await this.inside(abs, realBase, rel, what);
    return abs;
  }

  /** Checks that the real path of what exists of `abs` is inside `realBase`. */
  private async inside(abs: string, realBase: string, rel: string, what: string): Promise<void> {
    let p = abs;
    for (;;) {
      const real = await fs.realpath(p).catch(() => undefined);
      if (real !== undefined) {
        const within = real === realBase || real.startsWith(realBase.endsWith(path.sep) ? realBase : realBase + path.sep);
        if (!within) throw new CurationError('UNSAFE_PATH', `“${rel}” resolves to ${real}, outside ${what}`);
        return;
      }
      const up = path.dirname(p);
      if (up === p) return;
      p = up;
    }
  }
}
