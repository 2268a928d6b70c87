/**
 * The file operations the curation actions need, behind one interface: unit tests use `NodeFileOps` on a temporary
 * folder, the extension uses `VscodeFileOps` (WorkspaceEdit renames, workspace.fs, the OS trash). Absolute
 * file-system paths.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';

export interface FileStat {
  size: number;
  /** Modification time, whole milliseconds. */
  mtimeMs: number;
  isFile: boolean;
}

export interface FileOps {
  /** False where there is certainly no OS trash (a remote window): trash goes to the state folder's `trash/` (state.ts). */
  readonly osTrash: boolean;
  /** Undefined when nothing is at `abs`. */
  stat(abs: string): Promise<FileStat | undefined>;
  readFile(abs: string): Promise<Uint8Array>;
  /** Writes a new file (parent folders created); fails when something is already at `abs`. */
  createFile(abs: string, data: Uint8Array): Promise<void>;
  /** Renames without ever overwriting (parent folders created); fails when `to` is taken. */
  rename(from: string, to: string): Promise<void>;
  /** Moves the file to the OS trash: true when done, false (file untouched) when there is no OS trash here. */
  trash(abs: string): Promise<boolean>;
  /** Removes the folder when it is empty: true when removed, false when it holds something or is not there. */
  removeEmptyDir(abs: string): Promise<boolean>;
}

/** A file as it is on disk: what the journal records after each action and checks before undoing it. */
export interface FileState {
  /** Relative to the dataset root, '/'-separated. */
  path: string;
  size: number;
  mtimeMs: number;
  sha256: string;
}

export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The state of `rel` (at `abs`) now, or undefined when it is absent or not a file. */
export async function fileState(ops: FileOps, abs: string, rel: string): Promise<FileState | undefined> {
  const st = await ops.stat(abs);
  if (!st?.isFile) return undefined;
  const data = await ops.readFile(abs);
  return { path: rel, size: data.byteLength, mtimeMs: st.mtimeMs, sha256: sha256(data) };
}

/** How `now` differs from `expected`, in words, or undefined when it is the same file. */
export function stateDifference(expected: FileState, now: FileState | undefined): string | undefined {
  if (!now) return `${expected.path} is gone`;
  if (now.size !== expected.size || now.sha256 !== expected.sha256) return `${expected.path} was edited since`;
  if (now.mtimeMs !== expected.mtimeMs) return `${expected.path} was modified since (its modification time changed)`;
  return undefined;
}

/**
 * node:fs implementation (unit tests; usable anywhere the dataset is a local folder). Node has no OS trash: with
 * `osTrashDir` set, "trash" renames the file into that folder (a stand-in for the OS trash), otherwise it reports
 * that there is none.
 */
export class NodeFileOps implements FileOps {
  readonly osTrash: boolean;

  constructor(private readonly osTrashDir?: string) {
    this.osTrash = osTrashDir !== undefined;
  }

  async stat(abs: string): Promise<FileStat | undefined> {
    const st = await fs.stat(abs).catch(() => undefined);
    return st && { size: st.size, mtimeMs: Math.trunc(st.mtimeMs), isFile: st.isFile() };
  }

  async readFile(abs: string): Promise<Uint8Array> {
    return fs.readFile(abs);
  }

  async createFile(abs: string, data: Uint8Array): Promise<void> {
    await fs.mkdir(path.dirname(abs), { recursive: true });
    const fh = await fs.open(abs, 'wx');
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
  }

  /**
   * Renames without ever replacing a file: link(2) refuses an existing `to`, then the old name is unlinked. When the
   * unlink fails (another process moved or removed `from` meanwhile), the new link is removed again, so the file is
   * never left in two places, and the error says what happened. Where hard links are not supported, a rename after a
   * check (not atomic against another writer).
   */
  async rename(from: string, to: string): Promise<void> {
    await fs.mkdir(path.dirname(to), { recursive: true });
    try {
      await fs.link(from, to);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' || code === 'ENOENT') throw e;
      if (await this.stat(to)) throw Object.assign(new Error(`${to} already exists`), { code: 'EEXIST' });
      await fs.rename(from, to);
      return;
    }
    try {
      await fs.unlink(from);
    } catch (e) {
      const undone = await fs.unlink(to).then(
        () => true,
        () => false,
      );
      const code = (e as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? `${from} was moved or removed by someone else meanwhile` : (e as Error).message;
      throw Object.assign(new Error(undone ? `${why}; the new name ${to} was removed again` : `${why}; the file is now also at ${to}`), {
        code,
      });
    }
  }

  async removeEmptyDir(abs: string): Promise<boolean> {
    return fs.rmdir(abs).then(
      () => true,
      () => false,
    );
  }

  async trash(abs: string): Promise<boolean> {
    if (!this.osTrashDir) return false;
    await this.rename(abs, path.join(this.osTrashDir, `${Date.now()}-${Math.random().toString(36).slice(2)}-${path.basename(abs)}`));
    return true;
  }
}
