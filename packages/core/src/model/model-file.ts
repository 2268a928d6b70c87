/**
 * Reading a model file for `ModelSession.load`: opened without blocking and checked to be a regular file, then its
 * sha256 and graph summary, remembered per file identity in the cache's model index so that a warm start reads
 * nothing of it but what ONNX Runtime loads.
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, promises as fs, fstatSync, type Stats } from 'node:fs';
import * as path from 'node:path';
import { ClassifierError } from '../errors.js';
import { identityKey, identityOf, type OpenedFile, openRegularFileSync, readOpenedFile, sameIdentity } from '../fs/regular-file.js';
import { inspectOnnx, type OnnxSummary } from './onnx-inspect.js';
import { describeError } from './ort.js';

export interface KnownModel {
  sha256: string;
  summary: OnnxSummary;
}

/** Opens the model without blocking and checks it is a regular file: MODEL_NOT_FOUND / MODEL_LOAD_FAILED if not. */
function openModel(file: string): OpenedFile {
  try {
    return openRegularFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new ClassifierError(
        'MODEL_NOT_FOUND',
        `Model file not found: ${file}. Pass --model with an .onnx file or URL, or run 'image-classifier model download'.`,
      );
    }
    if (code === 'NOT_A_FILE') {
      const kind = String((e as ClassifierError).details?.kind ?? 'a FIFO or device?');
      throw new ClassifierError('MODEL_LOAD_FAILED', `The model ${file} is not a regular file (${kind}). Pass an .onnx file.`, {
        cause: e,
      });
    }
    throw new ClassifierError('MODEL_LOAD_FAILED', `Cannot read the model ${file}: ${describeError(e)}.`, { cause: e });
  }
}

/** MODEL_NOT_FOUND / MODEL_LOAD_FAILED when the file cannot be opened or is not a regular file (FIFO, device…). */
export async function statModel(file: string): Promise<Stats> {
  const { fd, stat } = openModel(file);
  closeSync(fd);
  return stat;
}

/**
 * The model's sha256 and graph summary, and its bytes when they had to be read. With a cache dir, both are
 * remembered per (path, device, inode, size, mtime, ctime) of the file as opened: a warm start reads nothing of the
 * 100 MB file but what ONNX Runtime itself loads, and an edit in place is seen even with size, mtime and inode kept
 * (ctime cannot be set back). `_stat` (an earlier stat) is not trusted: the descriptor's own fstat is the key.
 */
export async function readModel(
  file: string,
  _stat: Stats,
  cacheDir: string | false | undefined,
): Promise<KnownModel & { bytes?: Buffer }> {
  const { fd, stat } = openModel(file);
  let bytes: Buffer;
  let stable: boolean;
  const identity = `v3|${file}|${identityKey(identityOf(stat))}`;
  const indexFile = cacheDir ? path.join(cacheDir, 'model-index.json') : undefined;
  try {
    const known = indexFile ? (await readModelIndex(indexFile))[identity] : undefined;
    if (known) return known;
    bytes = await readOpenedFile(fd, stat.size);
    stable = sameIdentity(identityOf(stat), identityOf(fstatSync(fd)));
  } catch (e) {
    throw new ClassifierError('MODEL_LOAD_FAILED', `Cannot read the model ${file}: ${describeError(e)}.`, { cause: e });
  } finally {
    closeSync(fd);
  }
  let summary: OnnxSummary;
  try {
    summary = inspectOnnx(bytes);
  } catch (e) {
    throw new ClassifierError(
      'MODEL_LOAD_FAILED',
      `${file} is not a valid ONNX model (${describeError(e)}). Check that the download completed or pick another file.`,
      { cause: e },
    );
  }
  const entry = { sha256: createHash('sha256').update(bytes).digest('hex'), summary };
  // A file written to while it was read is not remembered: its next load reads it again.
  if (indexFile && stable) await writeModelIndexEntry(indexFile, identity, entry);
  return { ...entry, bytes };
}

async function readModelIndex(file: string): Promise<Record<string, KnownModel>> {
  try {
    const v = JSON.parse(await fs.readFile(file, 'utf8'));
    return v && typeof v === 'object' ? v : {};
  } catch {
    return {}; // missing or torn: recomputed
  }
}

async function writeModelIndexEntry(file: string, key: string, entry: KnownModel): Promise<void> {
  try {
    await fs.mkdir(path.dirname(file), { recursive: true });
    const all = await readModelIndex(file);
    all[key] = entry;
    const keys = Object.keys(all);
    for (const k of keys.slice(0, Math.max(0, keys.length - 64))) delete all[k];
    const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    await fs.writeFile(tmp, JSON.stringify(all));
    await fs.rename(tmp, file);
  } catch {
    // The index is an optimization only.
  }
}
