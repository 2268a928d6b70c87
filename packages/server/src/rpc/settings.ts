/**
 * Settings from the client: normalized by protocol's `normalizeSettings` (never cast), each refused value logged
 * and replaced by its default; a change that concerns the model reloads it, one that moves the cache reopens it.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { defaultCacheDir } from '@image-classifier/core';
import { normalizeSettings, SETTING_DEFAULTS, type ServerSettings } from '@image-classifier/protocol';
import { ResultCache } from '../result-cache.js';
import { Roots } from '../roots.js';
import { load } from './model-host.js';
import type { CachedValue, ServerContext } from './state.js';

/** Settings that need a new model session when they change. */
const MODEL_KEYS: Array<keyof ServerSettings> = [
  'model',
  'modelSha256',
  'defaultModelUrl',
  'labels',
  'preprocessing',
  'threads',
  'executionProviders',
  'graphOptimizationLevel',
  'cacheDir',
  'maxImagePixels',
  'maxBatch',
  'maxDelayMs',
];

function sameSetting(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

/** Whatever the client sent → valid settings, each problem logged as `settings: …`. */
export function readSettings(ctx: ServerContext, value: unknown): ServerSettings {
  const { settings, problems } = normalizeSettings(value, { cores: os.availableParallelism() });
  for (const p of problems) ctx.log(`settings: ${p}`);
  return settings;
}

/** Opens the result cache under `cacheDir` when it moved (closing the old one and the embeddings'). */
function openCache(ctx: ServerContext, cacheDir: string): void {
  if (cacheDir === ctx.cacheDir) return;
  ctx.cache?.close();
  ctx.embeddingCache?.close();
  ctx.embeddingCache = undefined;
  ctx.cacheDir = cacheDir;
  try {
    ctx.cache = ResultCache.open<CachedValue>(path.join(cacheDir, 'results'), ctx.log);
    ctx.log(`result cache: ${ctx.cache.entries} results (${ctx.cache.stats.loadMs} ms)`);
  } catch (e) {
    ctx.cache = undefined;
    ctx.log(`result cache disabled: ${(e as Error).message}`);
  }
}

/** Applies new (normalized) settings; reloads the model when a setting it depends on changed (or `force`). */
export function applySettings(ctx: ServerContext, next: ServerSettings, force = false): void {
  const prev = ctx.settings;
  ctx.settings = next;
  ctx.roots = new Roots(next.roots ?? ctx.initRoots);
  ctx.admission.setLimit((next.maxBatch ?? SETTING_DEFAULTS.maxBatch) * 2 + 2);
  openCache(ctx, path.resolve(next.cacheDir ?? defaultCacheDir()));
  if (force || MODEL_KEYS.some((k) => !sameSetting(prev[k], next[k]))) {
    ctx.loading = load(ctx, next);
  }
}

/** `workspace/didChangeConfiguration`: `settings.imageClassifier` over the initialization options. */
export function onConfigurationChange(ctx: ServerContext, params: unknown): void {
  const s = (params as { settings?: { imageClassifier?: unknown } } | undefined)?.settings?.imageClassifier;
  if (s === undefined || s === null) return;
  if (typeof s !== 'object' || Array.isArray(s)) {
    readSettings(ctx, s);
    return;
  }
  applySettings(ctx, { ...(ctx.initSettings ?? {}), ...readSettings(ctx, s) });
}
