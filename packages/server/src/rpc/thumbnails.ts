/**
 * `imageClassifier/thumbnails`: small WebP previews for the curation board, one item per URI (an error per item, as
 * in classifyBatch). A file whose (path, size, mtime, inode…) the result cache knows is answered from disk without
 * being read; otherwise it is read through the roots (OUTSIDE_WORKSPACE as classify), hashed, and its thumbnail made
 * in the thumbnail decoders (ThumbnailStore). Work that needs no I/O gives the event loop a turn (pace), so cached
 * classifications stay fast while thousands of thumbnails are made.
 */
import { createHash } from 'node:crypto';
import { ClassifierError } from '@image-classifier/core';
import { type ThumbnailItem, ThumbnailsRequest, type ThumbnailsParams, type ThumbnailsResult, usageLine } from '@image-classifier/protocol';
import type { CancellationToken } from 'vscode-languageserver/node';
import { environment } from '../environment.js';
import { readChecked } from './cached-classify.js';
import { elapsedMs, signalFor } from './classify.js';
import { errorDto, isCancelled } from './errors.js';
import { checkUri, describeValue, MAX_BATCH_URIS, uriLabel } from './limits.js';
import { pace } from './pace.js';
import type { ServerContext } from './state.js';
import { ThumbnailStore } from './thumbnail-store.js';

/** Files read and decoded at once per request (the decoders queue the rest). */
const LANES = 6;

const stores = new WeakMap<ServerContext, ThumbnailStore>();

function storeOf(ctx: ServerContext): ThumbnailStore {
  let s = stores.get(ctx);
  if (!s) {
    s = new ThumbnailStore({
      ...(ctx.options.workerScript ? { workerScript: ctx.options.workerScript } : {}),
      nice: environment.helperNice(),
    });
    stores.set(ctx, s);
  }
  return s;
}

function validSize(v: unknown): number {
  if (v === undefined || v === null) return ThumbnailsRequest.defaultSize;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < ThumbnailsRequest.minSize || v > ThumbnailsRequest.maxSize) {
    throw new ClassifierError(
      'INVALID_ARGUMENT',
      `size must be an integer from ${ThumbnailsRequest.minSize} to ${ThumbnailsRequest.maxSize} (pixels, the longest side); got ${JSON.stringify(v)}.`,
    );
  }
  return v;
}

function validUris(v: unknown): unknown[] {
  if (!Array.isArray(v))
    throw new ClassifierError(
      'INVALID_ARGUMENT',
      `${usageLine(ThumbnailsRequest.method, ThumbnailsRequest.usage)} (uris is ${describeValue(v)}).`,
    );
  if (v.length > MAX_BATCH_URIS) {
    throw new ClassifierError(
      'INVALID_ARGUMENT',
      `The request holds ${v.length} URIs; the limit is ${MAX_BATCH_URIS}: send them in several requests.`,
    );
  }
  return v;
}

interface Job {
  dir: string;
  size: number;
  maxPixels: number | undefined;
  signal: AbortSignal;
}

/** One URI → its item; `made` says whether a decoder ran. Throws only CANCELLED (when the request was cancelled). */
async function thumbnailOf(
  ctx: ServerContext,
  store: ThumbnailStore,
  uri: unknown,
  job: Job,
): Promise<{ item: ThumbnailItem; made: boolean }> {
  const file = ctx.config.roots.resolve(checkUri(uri));
  const known = ctx.caches.results?.hashFor(file.path, file.size, file.mtimeMs, file);
  const hit = known ? store.cached(job.dir, known, job.size) : undefined;
  if (hit) return { item: { uri: uriLabel(uri), ...hit }, made: false };
  const release = await store.slot(job.signal);
  try {
    const { bytes, path: read, id } = await readChecked(ctx, file.path);
    const hash = createHash('sha256').update(bytes).digest('hex').slice(0, 40);
    if (id) ctx.caches.results?.setHash(read, id.size, id.mtimeMs, hash, id);
    const r = await store.get(job.dir, hash, bytes, read, {
      size: job.size,
      signal: job.signal,
      ...(job.maxPixels !== undefined ? { maxPixels: job.maxPixels } : {}),
    });
    return { item: { uri: uriLabel(uri), ...r.thumbnail }, made: r.made };
  } finally {
    release();
  }
}

export async function thumbnails(p: ThumbnailsParams, ctx: ServerContext, token: CancellationToken): Promise<ThumbnailsResult> {
  const t0 = performance.now();
  const uris = validUris(p.uris);
  const size = validSize(p.size);
  if (!ctx.caches.dir) throw new ClassifierError('MODEL_NOT_READY', 'The server has no cache folder yet; try again once it has started.');
  const dir = ThumbnailStore.dirOf(ctx.caches.dir);
  const store = storeOf(ctx);
  const { signal, dispose } = signalFor(token, ctx.lifecycle.stop.signal);
  const job: Job = { dir, size, maxPixels: ctx.config.settings.maxImagePixels, signal };
  const items: Array<ThumbnailItem | undefined> = new Array(uris.length);
  let made = 0;
  let next = 0;
  const lane = async () => {
    while (!signal.aborted && next < uris.length) {
      const i = next++;
      try {
        const r = await thumbnailOf(ctx, store, uris[i], job);
        items[i] = r.item;
        if (r.made) made++;
      } catch (e) {
        if (isCancelled(e) && signal.aborted) break;
        items[i] = { uri: uriLabel(uris[i]), error: errorDto(e) };
      }
      const turn = pace();
      if (turn) await turn;
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(LANES, uris.length)) }, lane));
  } finally {
    dispose();
  }
  const done = items.filter((x): x is ThumbnailItem => x !== undefined);
  return { dir, items: done, cancelled: signal.aborted && done.length < uris.length, made, durationMs: elapsedMs(t0) };
}

/** `clearCache`: the thumbnails go with the results. */
export function clearThumbnails(ctx: ServerContext): void {
  if (!ctx.caches.dir) return;
  try {
    storeOf(ctx).clear(ThumbnailStore.dirOf(ctx.caches.dir));
  } catch (e) {
    ctx.log(`thumbnails: cannot remove ${ThumbnailStore.dirOf(ctx.caches.dir)} (${(e as Error).message})`);
  }
}

/** Shutdown: the thumbnail decoders stop (see PreprocessPool.close). */
export async function closeThumbnails(ctx: ServerContext): Promise<void> {
  await stores.get(ctx)?.close();
}
