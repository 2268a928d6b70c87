/**
 * Which files the server may read: only those inside the workspace roots it was given. A path is checked as written
 * (after `..` is resolved) and after symlinks are resolved with realpath, and then what was actually opened is
 * checked (a regular file, its real path from the descriptor inside the roots), so neither `..` tricks, nor a
 * symlink inside a root that points elsewhere, nor a folder swapped for a symlink between check and read, reach a
 * file outside.
 */
import { closeSync, realpathSync, type Stats } from 'node:fs';
import * as path from 'node:path';
import { fileUriToPath, isInside } from '@image-classifier/protocol/platform';
import {
  ClassifierError,
  type FileIdentity,
  type FsPath,
  identityOf,
  type OpenedFile,
  openRegularFileSync,
  readError,
  realPathOfFd,
  shownPath,
} from '@image-classifier/core';

/** A `file://` URI or an absolute path → an absolute, normalized path. */
export function uriToPath(uri: unknown): string {
  if (typeof uri !== 'string' || uri.length === 0) {
    throw new ClassifierError('INVALID_ARGUMENT', `Expected a file:// URI or an absolute path, got ${JSON.stringify(uri)}.`);
  }
  if (/^file:/i.test(uri)) {
    try {
      return fileUriToPath(uri);
    } catch (e) {
      throw new ClassifierError('INVALID_ARGUMENT', `Not a valid file URI: ${uri} (${(e as Error).message}).`);
    }
  }
  if (/^[a-z][a-z0-9+.-]+:\/\//i.test(uri)) {
    throw new ClassifierError('INVALID_ARGUMENT', `Only file:// URIs can be classified (got ${uri.split(':')[0]}:).`);
  }
  if (!path.isAbsolute(uri)) {
    throw new ClassifierError('INVALID_ARGUMENT', `The path ${uri} is relative; send a file:// URI or an absolute path.`);
  }
  return path.resolve(uri);
}

/**
 * Whether `file` is `root` or under it: `..` as a whole first segment leaves it, `..foo` (a name) does not. The
 * platform's path rules (Windows: another drive is outside, drive letters and names in any case).
 */
export function inside(file: string, root: string, platform: NodeJS.Platform = process.platform): boolean {
  return file === root || isInside(file, root, platform);
}

/** A file's real path and identity (from the fstat of a descriptor opened on it). */
export interface FileStat extends FileIdentity {
  /** The real path (a name that is not valid UTF-8 shown with U+FFFD: for keys and messages). */
  path: string;
  /** The real bytes of a path that is not valid UTF-8: what reads open. */
  rawPath?: Buffer;
}

export interface OpenedInRoots {
  fd: number;
  /** The real path of the opened file, from the descriptor. */
  path: string;
  /** Its real bytes, when the path was given as bytes (a name that is not valid UTF-8). */
  rawPath?: Buffer;
  /** fstat of the descriptor. */
  stat: Stats;
}

/** The path and identity of an opened file (what `Roots.resolve` returns). */
export function fileStatOf(o: OpenedInRoots): FileStat {
  return { path: o.path, ...(o.rawPath ? { rawPath: o.rawPath } : {}), ...identityOf(o.stat) };
}

/**
 * The workspace roots. `undefined` roots = no restriction (a server started by hand); an empty list refuses
 * every file.
 */
export class Roots {
  /** Each root as given and as realpath'd (the lexical check accepts either spelling). */
  private readonly lexical: string[];
  private readonly real: string[];
  readonly unrestricted: boolean;

  constructor(roots: string[] | undefined) {
    this.unrestricted = roots === undefined;
    this.lexical = [];
    this.real = [];
    for (const r of roots ?? []) {
      let p: string;
      try {
        p = uriToPath(r);
      } catch {
        continue; // a non-file root (e.g. a virtual workspace) grants nothing
      }
      this.lexical.push(p);
      try {
        this.real.push(realpathSync.native(p));
      } catch {
        this.real.push(p); // a root that does not exist (yet) still grants its own path
      }
    }
    this.lexical.push(...this.real);
  }

  get list(): string[] {
    return [...new Set(this.real)];
  }

  private refuse(file: string): ClassifierError {
    return new ClassifierError(
      'OUTSIDE_WORKSPACE',
      `${file} is outside the workspace folders this server may read (${this.list.join(', ') || 'none'}). Open its folder in the workspace to classify it.`,
    );
  }

  /**
   * Resolves a URI or path to the real path and identity of an existing regular file inside the roots, checked on
   * the opened file (see `open`); nothing is read.
   */
  resolve(uri: unknown): FileStat {
    const o = this.open(uri);
    closeSync(o.fd);
    return fileStatOf(o);
  }

  /**
   * Opens a URI or path for reading, once, and checks what was opened: a regular file (a FIFO or device is refused
   * before any read, and its open does not block), whose real path, read from the descriptor, is inside the roots.
   * A folder swapped for a symlink after the path was checked is caught, since the check is on the opened file.
   * The caller closes `fd`. Sync system calls on purpose: they take microseconds and do not queue behind image
   * decoding in libuv's pool.
   */
  open(uri: unknown): OpenedInRoots {
    // A Buffer: an absolute path's real bytes (a dataset name that is not valid UTF-8); checked like a string, on
    // its text form (bad bytes become U+FFFD, never a separator or '..'), and opened by its bytes.
    const raw = Buffer.isBuffer(uri) ? rawAbsolute(uri) : undefined;
    const file = raw ? shownPath(raw) : uriToPath(uri);
    if (!this.unrestricted && !this.lexical.some((r) => inside(file, r))) throw this.refuse(file);
    for (let attempt = 0; ; attempt++) {
      const realRaw = this.realpath(raw ?? file);
      const real = realRaw.toString('utf8');
      if (!this.unrestricted && !this.real.some((r) => inside(real, r)))
        throw this.refuse(file === real ? file : `${file} (a link to ${real})`);
      let opened: OpenedFile;
      try {
        // The final name is not followed: if it became a symlink since realpath, resolve again.
        opened = openRegularFileSync(raw ? realRaw : real, { noFollow: true });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ELOOP' && attempt < 3) continue;
        throw openError(file, e);
      }
      const where = realPathOfFd(opened.fd, real, opened.stat);
      if (!this.unrestricted && (where === undefined || !this.real.some((r) => inside(where, r)))) {
        closeSync(opened.fd);
        throw this.refuse(`${file} (which was replaced while it was opened: ${where ?? 'an unknown file'})`);
      }
      return { fd: opened.fd, path: where ?? real, ...(raw ? { rawPath: realRaw } : {}), stat: opened.stat };
    }
  }

  private realpath(file: FsPath): Buffer {
    try {
      return realpathSync.native(file, { encoding: 'buffer' });
    } catch (e) {
      throw openError(shownPath(file), e);
    }
  }
}

/** A raw path: absolute and normalized (no `.`/`..` segments), else INVALID_ARGUMENT. */
function rawAbsolute(b: Buffer): Buffer {
  const s = b.toString('latin1');
  if (!path.isAbsolute(s) || path.normalize(s) !== s) {
    throw new ClassifierError('INVALID_ARGUMENT', `The path ${shownPath(b)} is not absolute and normalized.`);
  }
  return b;
}

/** What went wrong opening `file`, with the engine's one mapping (core's readError) for errno errors. */
function openError(file: string, e: unknown): ClassifierError {
  if (e instanceof ClassifierError && e.code === 'NOT_A_FILE') {
    const kind = String(e.details?.kind ?? 'a FIFO or device?');
    return new ClassifierError('NOT_A_FILE', `${file} is not a regular file (${kind}). Pass an image file.`);
  }
  if (e instanceof ClassifierError) return e;
  return readError(file, e);
}
