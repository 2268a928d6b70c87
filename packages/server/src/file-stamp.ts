/**
 * The result cache's file index entries: (path, size, mtime, stamp) → content hash, where the stamp is what else
 * identifies the version of the file that was hashed, from the fstat of the descriptor it was read through.
 */

/**
 * ctime (which `touch -r` cannot set back: an edit in place with the mtime restored still changes it), inode,
 * device. Records written without them (older servers) never match a lookup that has them: those files are hashed
 * again.
 */
export interface FileStamp {
  ctimeMs?: number;
  ino?: number;
  dev?: number;
}

export interface FileEntry extends FileStamp {
  size: number;
  mtimeMs: number;
  hash: string;
}

export function sameStamp(a: FileStamp, b: FileStamp): boolean {
  return a.ctimeMs === b.ctimeMs && a.ino === b.ino && a.dev === b.dev;
}

/** The log record of an entry: `{t:'f', p, s, m, h}` and, when known, `c` (ctimeMs), `i` (inode), `d` (device). */
export function fileRecord(p: string, f: FileEntry): object {
  return { t: 'f', p, s: f.size, m: f.mtimeMs, h: f.hash, c: f.ctimeMs, i: f.ino, d: f.dev };
}

const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);

/** An entry from a parsed record (size, mtime and hash already checked by the caller). */
export function fileEntryOf(rec: Record<string, unknown>, size: number, mtimeMs: number, hash: string): FileEntry {
  return { size, mtimeMs, hash, ctimeMs: num(rec.c), ino: num(rec.i), dev: num(rec.d) };
}
