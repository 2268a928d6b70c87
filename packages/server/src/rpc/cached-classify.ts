/**
 * One file through the result cache and the engine. Results (and embeddings and whole output rows, each in its own
 * log) are cached by image
 * content under the model's key; the cache is looked up without reading the file when (path, size, mtime, ctime,
 * inode, device) is known. The file is read through one descriptor, checked when opened (regular, inside the roots),
 * and its hash is indexed under that descriptor's fstat: what was read is what the index says.
 */
import { createHash } from 'node:crypto';
import { closeSync, fstatSync } from 'node:fs';
import {
  ClassifierError,
  decodeFloat16,
  embeddingToJson,
  encodeFloat16,
  type FileIdentity,
  identityOf,
  readOpenedFileFast,
  sameIdentity,
} from '@image-classifier/core';
import type { Prediction } from '@image-classifier/protocol';
import type { FileStat, OpenedInRoots } from '../roots.js';
import { embeddings, outputs } from './caches.js';
import type { FileOutcome, Loaded, ServerContext } from './state.js';
import { tuneHelperThreads } from './threads.js';

/** Predictions kept per cached result, so later requests with a larger top-k still hit. */
const STORED_TOP_K = 10;
/** Files larger than this are refused before they are read. */
const MAX_FILE_BYTES = 512 * 1024 * 1024;

export interface ClassifyFileOptions {
  topK: number;
  force: boolean;
  interactive: boolean;
  signal: AbortSignal | undefined;
  embedding: boolean;
  /** With `embedding`: return it as `FileOutcome.vector` (float32, not rounded into JSON numbers; curation). */
  rawEmbedding?: boolean;
  /**
   * Return the model's whole output row (float32 logits) as `FileOutcome.outputs` (find by concept). It is cached in
   * its own log when the model computes it; a cached result without one (older caches, plain classify) is computed
   * again, never pieced together from the top classes.
   */
  outputs?: boolean;
  /** Answer from the cache only: a file it does not hold comes back with no predictions (`cached: false`), unread by the model. */
  cachedOnly?: boolean;
}

/** The cached result for content `hash` under a model's result key, if it holds at least `want` predictions. */
export function cachedResult(ctx: ServerContext, modelKey: string, hash: string | undefined, want: number): FileOutcome | undefined {
  const v = hash ? ctx.caches.results?.get(`${modelKey}:${hash}`) : undefined;
  if (!v || !Array.isArray(v.p) || v.p.length < want) return undefined;
  return { predictions: v.p.slice(0, want), cached: true, width: v.w, height: v.h };
}

/** The cached output row for `key`, if it has the model's width and decodes whole. */
function cachedOutputs(ctx: ServerContext, key: string, width: number): Float32Array | undefined {
  const o = outputs(ctx)?.get(key);
  if (!o || typeof o.f !== 'string' || o.n !== width) return undefined;
  const bytes = Buffer.from(o.f, 'base64');
  if (bytes.length !== width * 4) return undefined;
  const row = new Float32Array(width);
  for (let i = 0; i < width; i++) row[i] = bytes.readFloatLE(i * 4);
  return row;
}

function encodeOutputs(row: ArrayLike<number>): string {
  const b = Buffer.allocUnsafe(row.length * 4);
  for (let i = 0; i < row.length; i++) b.writeFloatLE(row[i]!, i * 4);
  return b.toString('base64');
}

function fromCache(ctx: ServerContext, l: Loaded, hash: string, o: ClassifyFileOptions): FileOutcome | undefined {
  const { topK, embedding: wantEmbedding, rawEmbedding: raw } = o;
  let hit = cachedResult(ctx, l.key, hash, Math.min(topK, l.classifier.info.classes));
  if (hit && o.outputs) {
    const row = cachedOutputs(ctx, `${l.key}:${hash}`, l.classifier.info.classes);
    hit = row ? { ...hit, outputs: row } : undefined;
  }
  if (!hit || !wantEmbedding) return hit;
  const e = embeddings(ctx)?.get(`${l.key}:${hash}`);
  if (!e || typeof e.f !== 'string' || e.d !== l.classifier.info.embedding?.dims) return undefined;
  const values = decodeFloat16(Buffer.from(e.f, 'base64'));
  if (values.length !== e.d) return undefined;
  return raw ? { ...hit, vector: values } : { ...hit, embedding: embeddingToJson(values) };
}

function tooLarge(file: string, size: number): ClassifierError {
  return new ClassifierError(
    'IMAGE_TOO_LARGE',
    `${file} is ${(size / 1e6).toFixed(0)} MB; files over ${MAX_FILE_BYTES / 1e6} MB are not read.`,
  );
}

/**
 * Opens `file` (checked again on the opened descriptor: regular, inside the roots) and reads it. `id` is that
 * descriptor's fstat, or undefined when the file changed while it was read (then its hash is not indexed).
 */
export async function readChecked(
  ctx: ServerContext,
  file: string | Buffer,
): Promise<{ bytes: Buffer; path: string; id: FileIdentity | undefined }> {
  const opened = ctx.config.roots.open(file);
  try {
    return await readOpened(opened);
  } finally {
    closeSync(opened.fd);
  }
}

/** Reads a file opened (and checked) by `Roots.open`; `id` as `readChecked`'s. The caller closes it. */
export async function readOpened(opened: OpenedInRoots): Promise<{ bytes: Buffer; path: string; id: FileIdentity | undefined }> {
  if (opened.stat.size > MAX_FILE_BYTES) throw tooLarge(opened.path, opened.stat.size);
  let bytes: Buffer;
  let after: FileIdentity;
  try {
    bytes = await readOpenedFileFast(opened.fd, opened.stat.size);
    after = identityOf(fstatSync(opened.fd));
  } catch (e) {
    throw new ClassifierError('READ_FAILED', `Cannot read ${opened.path}: ${(e as Error).message}.`);
  }
  const id = identityOf(opened.stat);
  return { bytes, path: opened.path, id: sameIdentity(id, after) ? id : undefined };
}

/** Runs the engine on `bytes` (content `hash`) and caches what it found, unless the model was replaced meanwhile. */
async function infer(
  ctx: ServerContext,
  l: Loaded,
  file: string,
  bytes: Buffer,
  hash: string,
  o: ClassifyFileOptions,
): Promise<FileOutcome> {
  const keep = Math.min(Math.max(o.topK, STORED_TOP_K), l.classifier.info.classes);
  const out = await l.classifier.classifyBytes(bytes, file, {
    topK: keep,
    embedding: o.embedding,
    logits: Boolean(o.outputs),
    priority: o.interactive ? 'interactive' : 'bulk',
    ...(o.signal ? { signal: o.signal } : {}),
  });
  // Decoder threads start on first use: lower theirs too (cheap, at most once a second).
  tuneHelperThreads();
  const predictions: Prediction[] = out.predictions.map((p) => ({ index: p.index, label: p.label, probability: p.probability }));
  const key = `${l.key}:${hash}`;
  // The local model standing in for a remote one gives its own results: not stored under the remote model's key.
  const store = !l.retired && out.answeredBy !== 'local';
  if (store) ctx.caches.results?.put(key, { p: predictions, w: out.width, h: out.height });
  if (out.embedding && store) embeddings(ctx)?.put(key, { d: out.embedding.length, f: encodeFloat16(out.embedding).toString('base64') });
  // A copy: the row may be a view into the batch's output.
  const row = o.outputs && out.logits ? Float32Array.from(out.logits) : undefined;
  if (row && store) outputs(ctx)?.put(key, { n: row.length, f: encodeOutputs(row) });
  return {
    predictions: predictions.slice(0, Math.min(o.topK, predictions.length)),
    cached: false,
    width: out.width,
    height: out.height,
    ...(out.embedding ? (o.rawEmbedding ? { vector: out.embedding } : { embedding: embeddingToJson(out.embedding) }) : {}),
    ...(row ? { outputs: row } : {}),
    ...(out.answeredBy ? { answeredBy: out.answeredBy } : {}),
  };
}

/**
 * One file through cache and engine. `file` is already inside the roots; `opened`, when the caller holds it open
 * (and closes it), is what is read: the file is not opened and checked a second time. Throws ClassifierErrors.
 */
export async function classifyFile(
  ctx: ServerContext,
  l: Loaded,
  file: FileStat,
  o: ClassifyFileOptions,
  opened?: OpenedInRoots,
): Promise<FileOutcome> {
  if (!o.force && ctx.caches.results) {
    const h = ctx.caches.results.hashFor(file.path, file.size, file.mtimeMs, file);
    const hit = h ? fromCache(ctx, l, h, o) : undefined;
    if (hit) return hit;
  }
  if (file.size > MAX_FILE_BYTES) throw tooLarge(file.path, file.size);
  if (o.cachedOnly) return cachedByContent(ctx, l, file, o, opened);
  const release = await ctx.admission.acquire(o.interactive, o.signal);
  try {
    const { bytes, path: read, id } = opened ? await readOpened(opened) : await readChecked(ctx, file.rawPath ?? file.path);
    const hash = createHash('sha256').update(bytes).digest('hex').slice(0, 40);
    if (id) ctx.caches.results?.setHash(read, id.size, id.mtimeMs, hash, id);
    if (!o.force) {
      const hit = fromCache(ctx, l, hash, o);
      if (hit) return hit;
    }
    return await infer(ctx, l, read, bytes, hash, o);
  } finally {
    release();
  }
}

/** `cachedOnly`: the file's bytes hashed and looked up (a renamed or touched copy still hits); never inferred. */
async function cachedByContent(
  ctx: ServerContext,
  l: Loaded,
  file: FileStat,
  o: ClassifyFileOptions,
  opened: OpenedInRoots | undefined,
): Promise<FileOutcome> {
  if (!ctx.caches.results) return { predictions: [], cached: false };
  const { bytes, path: read, id } = opened ? await readOpened(opened) : await readChecked(ctx, file.path);
  const hash = createHash('sha256').update(bytes).digest('hex').slice(0, 40);
  if (id) ctx.caches.results.setHash(read, id.size, id.mtimeMs, hash, id);
  return fromCache(ctx, l, hash, o) ?? { predictions: [], cached: false };
}
