/**
 * The caches' part of the server state (state.ts `CacheState`), written only here: the result cache under
 * `cacheDir`, opened when the settings name a new folder, and the embedding and output logs beside it, opened on
 * first use.
 */
import { rmSync } from 'node:fs';
import * as path from 'node:path';
import { ResultCache } from '../result-cache.js';
import type { CachedEmbedding, CachedOutputs, CachedValue, CacheState, ServerContext } from './state.js';

/** The embeddings' log beside the results' (same format). */
const EMBEDDINGS_LOG = 'embeddings-v1.log';
/** The models' whole output rows (find by concept), beside the results (same format). */
const OUTPUTS_LOG = 'outputs-v1.log';

function mine(ctx: ServerContext): CacheState {
  return ctx.caches as CacheState;
}

/** Opens the result cache under `cacheDir` when it moved (closing the old one and the embeddings'). */
export function openCaches(ctx: ServerContext, cacheDir: string): void {
  const c = mine(ctx);
  if (cacheDir === c.dir) return;
  c.results?.close();
  c.embeddings?.close();
  c.outputs?.close();
  c.embeddings = undefined;
  c.outputs = undefined;
  c.dir = cacheDir;
  try {
    // Never throws for an unusable folder (read-only, full, a file in the way): it degrades, and says so.
    c.results = ResultCache.open<CachedValue>(path.join(cacheDir, 'results'), ctx.log);
    ctx.log(`result cache: ${c.results.entries} results (${c.results.stats.loadMs} ms, ${c.results.stats.mode})`);
  } catch (e) {
    c.results = undefined;
    ctx.log(`result cache disabled: ${(e as Error).message}`);
  }
}

/** Shutdown: every cache flushed and closed. */
export function closeCaches(ctx: ServerContext): void {
  const c = mine(ctx);
  c.results?.close();
  c.embeddings?.close();
  c.outputs?.close();
  c.results = undefined;
  c.embeddings = undefined;
  c.outputs = undefined;
}

/** The embedding log, opened (and read) on first use. */
export function embeddings(ctx: ServerContext): ResultCache<CachedEmbedding> | undefined {
  const c = mine(ctx);
  if (!c.embeddings && c.results && c.dir) {
    try {
      c.embeddings = ResultCache.open<CachedEmbedding>(path.join(c.dir, 'results'), ctx.log, EMBEDDINGS_LOG);
      ctx.log(`embedding cache: ${c.embeddings.entries} embeddings (${c.embeddings.stats.loadMs} ms)`);
    } catch (e) {
      ctx.log(`embedding cache disabled: ${(e as Error).message}`);
    }
  }
  return c.embeddings;
}

/**
 * The output-row log (find by concept: each image's whole output, so its mass under any synset is the CLI's), opened
 * (and read) on first use.
 */
export function outputs(ctx: ServerContext): ResultCache<CachedOutputs> | undefined {
  const c = mine(ctx);
  if (!c.outputs && c.results && c.dir) {
    try {
      c.outputs = ResultCache.open<CachedOutputs>(path.join(c.dir, 'results'), ctx.log, OUTPUTS_LOG);
      ctx.log(`output cache: ${c.outputs.entries} output rows (${c.outputs.stats.loadMs} ms)`);
    } catch (e) {
      ctx.log(`output cache disabled: ${(e as Error).message}`);
    }
  }
  return c.outputs;
}

/** `imageClassifier/clearCache`: results cleared; embeddings and output rows cleared if open, else their logs removed unread. */
export function clearCache(ctx: ServerContext): { removed: number } {
  const c = ctx.caches;
  const removed = c.results?.clear() ?? 0;
  // Cleared if open; otherwise removed unread (they may be hundreds of MB).
  for (const [open, file, what] of [
    [c.embeddings, EMBEDDINGS_LOG, 'embedding'],
    [c.outputs, OUTPUTS_LOG, 'output'],
  ] as const) {
    if (open) open.clear();
    else if (c.dir) {
      try {
        rmSync(path.join(c.dir, 'results', file), { force: true });
      } catch (e) {
        ctx.log(`${what} cache: cannot remove its log (${(e as Error).message})`);
      }
    }
  }
  // The neighbour graphs curate saved for find-similar (a kept index stays in memory until the next curate).
  try {
    if (c.dir) rmSync(path.join(c.dir, 'curation'), { recursive: true, force: true });
  } catch (e) {
    ctx.log(`curation index: cannot remove it (${(e as Error).message})`);
  }
  return { removed };
}
