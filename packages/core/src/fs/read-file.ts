/**
 * The one way a feature reads an image file from disk (classify, curate, find-similar in the CLI; the server's reads
 * go through its roots, which open the same way): `openRegularFileSync`, an optional check that the opened file
 * lies inside a folder, the read from that descriptor, and one mapping of what went wrong to error codes.
 */
import { closeSync, type Stats } from 'node:fs';
import { ClassifierError } from '../errors.js';
import {
  type FsPath,
  isInsideFolder,
  type OpenedFile,
  openRegularFileSync,
  readOpenedFile,
  realPathOfFd,
  shownPath,
} from './regular-file.js';

export interface ReadFileOptions {
  /** The file's name in messages (default: the path, escaped). */
  name?: string;
  /**
   * A real (symlink-free) folder the opened file must be in, checked on the descriptor after the open: a name that
   * leads outside it (a symlink, or a folder swapped for one meanwhile) is refused with OUTSIDE_WORKSPACE, unread.
   */
  within?: string;
}

/** What `readImageFileWithStat` read: the bytes and the fstat of the descriptor they were read from. */
export interface ReadFile {
  bytes: Buffer;
  stat: Stats;
}

/**
 * The one way a feature reads an image file (classify, curate, find-similar; the server's reads go through its
 * roots, which open the same way): opened once, without blocking (a FIFO or device is refused before any read),
 * checked to be a regular file (and inside `within`) on the opened descriptor, and read from it. Errors, one mapping
 * for every caller: FILE_NOT_FOUND, NOT_A_FILE, OUTSIDE_WORKSPACE, READ_FAILED (permission denied, I/O errors).
 */
export async function readImageFileWithStat(file: FsPath, o: ReadFileOptions = {}): Promise<ReadFile> {
  const name = o.name ?? shownPath(file);
  let opened: OpenedFile;
  try {
    opened = openRegularFileSync(file);
  } catch (e) {
    if (e instanceof ClassifierError) {
      if (e.code !== 'NOT_A_FILE') throw e;
      const kind = String(e.details?.kind ?? 'not a regular file');
      throw new ClassifierError('NOT_A_FILE', `${name} is not a regular file (${kind}); it is not read.`, { details: { kind } });
    }
    throw readError(name, e);
  }
  try {
    if (o.within !== undefined) {
      const where = realPathOfFd(opened.fd, file, opened.stat);
      if (where === undefined || !isInsideFolder(where, o.within)) {
        throw new ClassifierError(
          'OUTSIDE_WORKSPACE',
          `${name} leads outside ${o.within} (a symbolic link or a moved folder); files outside the dataset folder are not read.`,
        );
      }
    }
    try {
      return { bytes: await readOpenedFile(opened.fd, opened.stat.size), stat: opened.stat };
    } catch (e) {
      throw new ClassifierError('READ_FAILED', `Cannot read ${name}: ${(e as Error).message}.`, { cause: e });
    }
  } finally {
    closeSync(opened.fd);
  }
}

/** The errno error of an open → FILE_NOT_FOUND (ENOENT, ENOTDIR) or READ_FAILED (EACCES, EIO…). */
export function readError(name: string, e: unknown): ClassifierError {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') {
    return new ClassifierError('FILE_NOT_FOUND', `File not found: ${name}. Check the path and try again.`);
  }
  if (code === 'EACCES' || code === 'EPERM') {
    return new ClassifierError('READ_FAILED', `Cannot read ${name}: permission denied. Check the file's permissions.`, { cause: e });
  }
  return new ClassifierError('READ_FAILED', `Cannot read ${name}: ${(e as Error).message}.`, { cause: e });
}

/** Reads a file into memory with errors that say what went wrong (see readImageFileWithStat). */
export async function readImageFile(file: FsPath, o: ReadFileOptions = {}): Promise<Buffer> {
  return (await readImageFileWithStat(file, o)).bytes;
}
