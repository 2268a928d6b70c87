/**
 * Which files the server may read: only those inside the workspace roots it was given. A path is checked twice,
 * as written (after `..` is resolved) and after symlinks are resolved with realpath, so neither `..` tricks nor a
 * symlink inside a root that points elsewhere reach a file outside.
 */
import { realpathSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ClassifierError } from '@image-classifier/core';

/** A `file://` URI or an absolute path → an absolute, normalized path. */
export function uriToPath(uri: unknown): string {
  if (typeof uri !== 'string' || uri.length === 0) {
    throw new ClassifierError('INVALID_ARGUMENT', `Expected a file:// URI or an absolute path, got ${JSON.stringify(uri)}.`);
  }
  if (/^file:/i.test(uri)) {
    try {
      return path.resolve(fileURLToPath(uri));
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

function inside(file: string, root: string): boolean {
  if (file === root) return true;
  const rel = path.relative(root, file);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
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
   * Resolves a URI or path to the real path of an existing regular file inside the roots.
   * Sync system calls on purpose: they take microseconds and do not queue behind image decoding in libuv's pool.
   */
  resolve(uri: unknown): { path: string; size: number; mtimeMs: number } {
    const file = uriToPath(uri);
    if (!this.unrestricted && !this.lexical.some((r) => inside(file, r))) throw this.refuse(file);
    let real: string;
    try {
      real = realpathSync.native(file);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') {
        throw new ClassifierError('FILE_NOT_FOUND', `File not found: ${file}. It may have been moved or deleted.`);
      }
      throw new ClassifierError('READ_FAILED', `Cannot read ${file}: ${(e as Error).message}.`);
    }
    if (!this.unrestricted && !this.real.some((r) => inside(real, r)))
      throw this.refuse(file === real ? file : `${file} (a link to ${real})`);
    let st;
    try {
      st = statSync(real);
    } catch (e) {
      throw new ClassifierError('READ_FAILED', `Cannot read ${file}: ${(e as Error).message}.`);
    }
    if (!st.isFile()) throw new ClassifierError('NOT_A_FILE', `${file} is not a regular file (a folder or device?). Pass an image file.`);
    return { path: real, size: st.size, mtimeMs: st.mtimeMs };
  }
}
