/**
 * Opening a file to read it without trusting a check made earlier on its path: open once (never blocking, so a
 * FIFO put where a file was cannot hang a thread), fstat what was opened, refuse anything but a regular file before
 * any read, and find where the opened file really is from the descriptor itself.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ClassifierError } from '../errors.js';

/** A path as node's fs takes it: a string, or the raw bytes of a name that is not valid UTF-8. */
export type FsPath = string | Buffer;

/** A path for messages: a Buffer path with its invalid bytes escaped (see `displayName`). */
export function shownPath(file: FsPath): string {
  return typeof file === 'string' ? file : displayName(file);
}

/**
 * A file name's bytes as text: valid UTF-8 as it is, each byte that is not part of a valid UTF-8 sequence as `\xNN`.
 * For showing only: operations keep the bytes.
 */
export function displayName(b: Uint8Array): string {
  let out = '';
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    const n = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    let ok = n > 0 && i + n <= b.length;
    for (let j = 1; ok && j < n; j++) ok = (b[i + j]! & 0xc0) === 0x80;
    // Overlong 3/4-byte forms, UTF-16 surrogates and code points past U+10FFFF are not valid UTF-8.
    if (ok && n === 3) ok = !(c === 0xe0 && b[i + 1]! < 0xa0) && !(c === 0xed && b[i + 1]! >= 0xa0);
    if (ok && n === 4) ok = !(c === 0xf0 && b[i + 1]! < 0x90) && !(c === 0xf4 && b[i + 1]! >= 0x90);
    if (ok) {
      out += Buffer.from(b.subarray(i, i + n)).toString('utf8');
      i += n;
    } else {
      out += `\\x${c.toString(16).toUpperCase().padStart(2, '0')}`;
      i++;
    }
  }
  return out;
}

/** Whether a name's bytes are valid UTF-8 (then the string form names the same file). */
export function isUtf8Name(b: Uint8Array): boolean {
  return Buffer.from(Buffer.from(b).toString('utf8'), 'utf8').equals(b);
}

/** Whether the absolute path `file` is `root` or under it (`..foo` is a name, not a way up). */
export function isInsideFolder(file: string, root: string): boolean {
  if (file === root) return true;
  const rel = path.relative(root, file);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel);
}

const C = fs.constants;
/** Read-only; opening a FIFO returns at once (O_NONBLOCK) instead of waiting for a writer; no controlling tty. */
const BASE_FLAGS = C.O_RDONLY | (C.O_NONBLOCK ?? 0) | (C.O_NOCTTY ?? 0);

/** What identifies one version of a file without reading it. ctime cannot be set back (`touch -r` sets it to now). */
export interface FileIdentity {
  dev: number;
  ino: number;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
}

export function identityOf(st: fs.Stats): FileIdentity {
  return { dev: st.dev, ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs };
}

export function sameIdentity(a: FileIdentity, b: FileIdentity): boolean {
  return a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs;
}

/** A stable string of a file's identity (for keys). */
export function identityKey(id: FileIdentity): string {
  return `${id.dev}|${id.ino}|${id.size}|${id.mtimeMs}|${id.ctimeMs}`;
}

/** "a FIFO", "a folder"…: what a non-regular file is, for messages. */
export function describeKind(st: fs.Stats): string {
  if (st.isDirectory()) return 'a folder';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  return 'not a regular file';
}

export interface OpenedFile {
  fd: number;
  /** fstat of the descriptor: the file that was opened, not whatever the path names now. */
  stat: fs.Stats;
}

/**
 * Opens `file` read-only without blocking and fstat's it. `noFollow`: a final symlink is not followed (ELOOP).
 * Errors: the open's own errno error (ENOENT, EACCES, ELOOP…) as thrown by node, or NOT_A_FILE for anything but a
 * regular file (closed before any read).
 */
export function openRegularFileSync(file: FsPath, o: { noFollow?: boolean } = {}): OpenedFile {
  let fd: number;
  try {
    fd = fs.openSync(file, BASE_FLAGS | (o.noFollow ? (C.O_NOFOLLOW ?? 0) : 0));
  } catch (e) {
    // Windows refuses to open a folder at all.
    if ((e as NodeJS.ErrnoException).code !== 'EISDIR') throw e;
    throw new ClassifierError('NOT_A_FILE', `${shownPath(file)} is not a regular file (a folder). Pass a regular file.`, {
      details: { kind: 'a folder' },
    });
  }
  let stat: fs.Stats;
  try {
    stat = fs.fstatSync(fd);
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }
  if (!stat.isFile()) {
    fs.closeSync(fd);
    const kind = describeKind(stat);
    throw new ClassifierError('NOT_A_FILE', `${shownPath(file)} is not a regular file (${kind}). Pass a regular file.`, {
      details: { kind },
    });
  }
  return { fd, stat };
}

/**
 * Where the file open on `fd` really is: /proc/self/fd on Linux (race-free); elsewhere the realpath of `file`,
 * accepted only if it still names the opened file (same device and inode). undefined when that cannot be told.
 */
export function realPathOfFd(fd: number, file: FsPath, stat: fs.Stats): string | undefined {
  try {
    const p = fs.readlinkSync(`/proc/self/fd/${fd}`);
    if (p.startsWith('/')) return stat.nlink === 0 && p.endsWith(' (deleted)') ? p.slice(0, -' (deleted)'.length) : p;
  } catch {
    // no /proc: below
  }
  try {
    const real = fs.realpathSync.native(file, { encoding: 'buffer' });
    const st = fs.statSync(real);
    return st.dev === stat.dev && st.ino === stat.ino ? real.toString('utf8') : undefined;
  } catch {
    return undefined;
  }
}

function readChunk(fd: number, buf: Buffer, off: number, len: number, pos: number): Promise<number> {
  return new Promise((resolve, reject) => fs.read(fd, buf, off, len, pos, (e, n) => (e ? reject(e) : resolve(n))));
}

/**
 * Reads the whole file open on `fd` (`size` from its fstat). A file that shrank meanwhile gives what is there; one
 * that grew past `size` is cut at `size` (the caller compares fstat before and after to tell).
 */
export async function readOpenedFile(fd: number, size: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(size);
  let off = 0;
  while (off < size) {
    const n = await readChunk(fd, buf, off, size - off, off);
    if (n === 0) break;
    off += n;
  }
  return off === size ? buf : buf.subarray(0, off);
}

/** Files up to this size are read by `readOpenedFileFast` in the calling thread. */
export const SYNC_READ_MAX_BYTES = 1 << 20;

/**
 * Reads the whole file open on `fd` like `readOpenedFile`; a file of at most `SYNC_READ_MAX_BYTES` is read with
 * `readSync` in the calling thread. An asynchronous read goes through libuv's thread pool: a request queued on its
 * shared lock and a thread woken to serve it, each of which can wait for a core on a busy host (a server's main
 * thread stalled 30–50 ms inside `fs.read` behind them), while reading a megabyte the OS has cached costs tens of
 * microseconds.
 */
export async function readOpenedFileFast(fd: number, size: number): Promise<Buffer> {
  if (size > SYNC_READ_MAX_BYTES) return readOpenedFile(fd, size);
  const buf = Buffer.allocUnsafe(size);
  let off = 0;
  while (off < size) {
    const n = fs.readSync(fd, buf, off, size - off, off);
    if (n === 0) break;
    off += n;
  }
  return off === size ? buf : buf.subarray(0, off);
}

/** Opens, checks and reads a regular file in one go (errors as `openRegularFileSync`'s and the read's). */
export async function readRegularFile(file: FsPath): Promise<Buffer> {
  const { fd, stat } = openRegularFileSync(file);
  try {
    return await readOpenedFile(fd, stat.size);
  } finally {
    fs.closeSync(fd);
  }
}
