/**
 * Settings from the client: normalized by protocol's `normalizeSettings` (never cast), each refused value logged
 * and replaced by its default; a change that concerns the model reloads it, one that moves the cache reopens it.
 * The settings' part of the server state (state.ts `ConfigState`) is written only here.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { defaultCacheDir } from '@image-classifier/core';
import { normalizeSettings, SETTING_DEFAULTS, type ServerSettings } from '@image-classifier/protocol';
import { Roots } from '../roots.js';
import { openCaches } from './caches.js';
import { startLoad } from './model-host.js';
import type { ConfigState, ServerContext } from './state.js';

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
  'backend',
  'remoteUrl',
  'remoteModel',
  'remoteVersion',
  'remoteTimeoutMs',
  'remoteInflight',
  'remoteProtocol',
  'fallbackToLocal',
];

function mine(ctx: ServerContext): ConfigState {
  return ctx.config as ConfigState;
}

function sameSetting(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

/**
 * Settings whose `roots` were sent but refused (a string, an object, no absolute path): without workspace folders to
 * fall back on they refuse every file, never none (a refused restriction must not lift the restriction).
 */
const rootsRefused = new WeakSet<ServerSettings>();

/** Whatever the client sent → valid settings, each problem logged as `settings: …`. */
export function readSettings(ctx: ServerContext, value: unknown): ServerSettings {
  const { settings, problems, refused } = normalizeSettings(value, { cores: os.availableParallelism() });
  for (const p of problems) ctx.log(`settings: ${p}`);
  if (refused.includes('roots')) rootsRefused.add(settings);
  return settings;
}

/** The roots in force: the valid `roots` setting, else the workspace folders, else none (unrestricted) or, when
 * `roots` was sent but refused, an empty list (nothing readable). */
function rootsFor(ctx: ServerContext, s: ServerSettings): string[] | undefined {
  if (s.roots) return s.roots;
  if (ctx.config.initRoots) return ctx.config.initRoots;
  if (rootsRefused.has(s)) {
    ctx.log('roots: refused and there are no workspace folders; no file may be read until valid roots are set.');
    return [];
  }
  return undefined;
}

/** Applies new (normalized) settings; reloads the model when a setting it depends on changed (or `force`). */
export function applySettings(ctx: ServerContext, next: ServerSettings, force = false): void {
  const c = mine(ctx);
  const prev = c.settings;
  c.settings = next;
  c.roots = new Roots(rootsFor(ctx, next));
  // Batches in flight: two locally, the remote depth plus the one being filled on a server.
  const inflight = next.backend === 'remote' ? (next.remoteInflight ?? SETTING_DEFAULTS.remoteInflight) + 1 : 2;
  ctx.admission.setLimit((next.maxBatch ?? SETTING_DEFAULTS.maxBatch) * inflight + 2);
  openCaches(ctx, path.resolve(next.cacheDir ?? defaultCacheDir()));
  if (force || MODEL_KEYS.some((k) => !sameSetting(prev[k], next[k]))) startLoad(ctx, next);
}

/** `initialize`: its options (normalized) and workspace folders, which later configuration changes apply over. */
export function initialSettings(ctx: ServerContext, options: unknown, roots: string[] | undefined): void {
  const c = mine(ctx);
  c.initSettings = readSettings(ctx, options);
  c.initRoots = roots;
}

/** `workspace/didChangeConfiguration`: `settings.imageClassifier` over the initialization options. */
export function onConfigurationChange(ctx: ServerContext, params: unknown): void {
  const s = (params as { settings?: { imageClassifier?: unknown } } | undefined)?.settings?.imageClassifier;
  if (s === undefined || s === null) return;
  if (typeof s !== 'object' || Array.isArray(s)) {
    readSettings(ctx, s);
    return;
  }
  const fresh = readSettings(ctx, s);
  const init = ctx.config.initSettings ?? {};
  const merged = { ...init, ...fresh };
  if (!merged.roots && (rootsRefused.has(fresh) || rootsRefused.has(init))) rootsRefused.add(merged);
  applySettings(ctx, merged);
}
