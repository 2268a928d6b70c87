/**
 * The model host: loads (and reloads) the model the settings name, reports each step as a status notification,
 * and lends the ready model to requests (a replaced model is closed when its last request is done). The model's
 * part of the server state (state.ts `ModelHostState`, where the `generation` rule is written down) is written only
 * here.
 */
import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import * as path from 'node:path';
import {
  Classifier,
  ClassifierError,
  type ClassifierOptions,
  type DownloadProgress,
  defaultCacheDir,
  identityKey,
  identityOf,
  type LabelSet,
  loadLabelsFile,
  modelFilePath,
  resolveModel,
  toClassifierError,
} from '@image-classifier/core';
import { SETTING_DEFAULTS, type ServerSettings, type ServerState, StatusNotification, type StatusParams } from '@image-classifier/protocol';
import { environment } from '../environment.js';
import type { Loaded, ModelHostState, ServerContext } from './state.js';
import { needsLocalModel, readyStatus, remoteClassifierOptions } from './remote.js';
import { tuneHelperThreads } from './threads.js';

/**
 * Identifies a model file (path, device, inode, size, mtime, ctime: an edit in place changes ctime even when size
 * and mtime are put back) with the settings that shape results, without reading it; the cache remembers what it
 * resolved to, so a restarted server answers cached results before the model is loaded.
 */
export function modelSignature(s: ServerSettings, cacheDir: string): string | undefined {
  // A remote model is known only once the server says which version it serves.
  if (s.backend === 'remote') return undefined;
  const stamp = (f: string) => {
    const st = statSync(f);
    if (!st.isFile()) throw new Error('not a regular file');
    return `${f}|${identityKey(identityOf(st))}`;
  };
  try {
    const parts = [
      stamp(modelFilePath(s.model, cacheDir)),
      s.labels ? stamp(path.resolve(s.labels)) : 'imagenet',
      s.preprocessing === 'fast' ? 'fast' : 'exact',
    ];
    return createHash('sha256').update(parts.join('\n')).digest('hex').slice(0, 32);
  } catch {
    return undefined;
  }
}

function mine(ctx: ServerContext): ModelHostState {
  return ctx.model as ModelHostState;
}

export function sendStatus(ctx: ServerContext, s: StatusParams): void {
  mine(ctx).lastStatus = s;
  if (!ctx.lifecycle.initialized) return;
  void ctx.connection.sendNotification(StatusNotification.type, s).catch(() => undefined);
}

/** Download progress → `downloading` status notifications, one per whole percent. */
function downloadReporter(ctx: ServerContext, stale: () => boolean): (p: DownloadProgress) => void {
  let lastPercent = -1;
  return (p) => {
    if (stale()) return;
    const percent = Math.floor(p.percent ?? 0);
    if (percent === lastPercent && percent !== 100) return;
    lastPercent = percent;
    mine(ctx).state = 'downloading';
    const mb = (p.receivedBytes / 1e6).toFixed(1);
    sendStatus(ctx, {
      state: 'downloading',
      percent,
      message: `Downloading the model: ${percent}% (${mb}${p.totalBytes ? ` of ${(p.totalBytes / 1e6).toFixed(1)}` : ''} MB)`,
    });
  };
}

function classifierOptions(
  ctx: ServerContext,
  s: ServerSettings,
  modelPath: string,
  cacheDir: string,
  labels?: LabelSet,
): ClassifierOptions {
  const workerScript = ctx.options.workerScript;
  return {
    modelPath,
    ...(labels ? { labels } : {}),
    preprocessing: s.preprocessing ?? SETTING_DEFAULTS.preprocessing,
    session: {
      // ORT's threads spin-wait at an operator's end in the server (the engine's default is off): with decoding in
      // threads at 1.6 core-ms an image, a folder ran at 0.899× raw against 0.876× without, idle 0.3 % against 3.5 %,
      // hover p99 8.0 against 9.1 ms (BENCHMARKS.md). Env IMAGE_CLASSIFIER_ORT_SPINNING=0 turns it off.
      allowSpinning: environment.ortSpinning(),
      graphOptimizationLevel: s.graphOptimizationLevel ?? SETTING_DEFAULTS.graphOptimizationLevel,
      ...(s.threads && s.threads > 0 ? { intraOpNumThreads: s.threads } : {}),
      ...(s.executionProviders?.length ? { executionProviders: s.executionProviders } : {}),
      optimizedModelCacheDir: path.join(cacheDir, 'optimized'),
    },
    ...(s.maxImagePixels ? { maxPixels: s.maxImagePixels } : {}),
    ...(s.maxBatch ? { maxBatch: s.maxBatch } : {}),
    ...(s.maxDelayMs !== undefined ? { maxDelayMs: s.maxDelayMs } : {}),
    ...(workerScript ? { workerScript } : {}),
    // Decoder processes run below the JSON-RPC loop, as the helper threads do (see threads.ts).
    decoderNice: environment.helperNice(),
    ...remoteClassifierOptions(ctx, s, sendStatus),
  };
}

/** Starts loading the model `s` names; requests wait on `loading` (see acquireModel). */
export function startLoad(ctx: ServerContext, s: ServerSettings): void {
  mine(ctx).loading = load(ctx, s);
}

/**
 * `initialize`: the first load starts once the response has gone out (so status notifications follow it), by
 * `start` (which applies the settings); requests that come meanwhile wait on `loading`, which then hands over to the
 * real load.
 */
export function loadAfterInitialize(ctx: ServerContext, start: () => void): void {
  mine(ctx).loading = new Promise<void>((resolve) =>
    setImmediate(() => {
      start();
      resolve();
    }),
  );
}

/**
 * Loads the model `s` names. It bumps `generation`; a newer load (settings changed again) or an unload bumps it
 * again and makes this one stale: it then gives way (see `ModelHostState` for the rule).
 */
async function load(ctx: ServerContext, s: ServerSettings): Promise<void> {
  const m = mine(ctx);
  const gen = ++m.generation;
  const stale = () => gen !== m.generation;
  m.state = 'loading';
  m.loadError = undefined;
  sendStatus(ctx, { state: 'loading', message: 'Loading the model', ...(s.model ? { model: s.model } : {}) });
  const cacheDir = ctx.caches.dir ?? defaultCacheDir();
  const earlySig = modelSignature(s, cacheDir);
  const seen = earlySig ? ctx.caches.results?.getModel(earlySig) : undefined;
  m.early = seen && typeof seen.key === 'string' && typeof seen.name === 'string' ? { key: seen.key, name: seen.name } : undefined;
  let classifier: Classifier | undefined;
  try {
    const model = !needsLocalModel(s)
      ? { path: '' }
      : await resolveModel({
          ...(s.model ? { model: s.model } : {}),
          ...(s.modelSha256 ? { sha256: s.modelSha256 } : {}),
          ...(s.defaultModelUrl ? { defaultModelUrl: s.defaultModelUrl } : {}),
          cacheDir,
          onDownloadStart: (url) => ctx.log(`model: ${url}`),
          onProgress: downloadReporter(ctx, stale),
        });
    if (stale()) return;
    if ((m.state as ServerState) === 'downloading') {
      m.state = 'loading';
      sendStatus(ctx, { state: 'loading', message: 'Loading the model' });
    }
    const labels = s.labels ? await loadLabelsFile(s.labels) : undefined;
    classifier = await Classifier.create(classifierOptions(ctx, s, model.path, cacheDir, labels));
    if (stale()) {
      await classifier.close();
      return;
    }
    loaded(ctx, classifier, modelSignature(s, cacheDir));
  } catch (e) {
    if (stale()) return;
    const fallback =
      (m.state as ServerState) === 'downloading' || (s.model && /^https?:/i.test(s.model) && !classifier)
        ? 'MODEL_DOWNLOAD_FAILED'
        : 'MODEL_LOAD_FAILED';
    failed(ctx, e, fallback);
  }
}

function loaded(ctx: ServerContext, classifier: Classifier, sig: string | undefined): void {
  const m = mine(ctx);
  const old = m.current;
  m.current = { classifier, key: createHash('sha256').update(classifier.resultKey).digest('hex').slice(0, 16), users: 0, retired: false };
  m.labelsSource = classifier.labels?.source;
  if (old) retire(old);
  m.early = undefined;
  if (sig) ctx.caches.results?.setModel(sig, { key: m.current.key, name: classifier.info.name });
  m.state = 'ready';
  tuneHelperThreads(true);
  const info = classifier.info;
  ctx.log(`model ready: ${info.name} (${info.activeProvider}, ${info.loadMs} ms, optimized-model cache ${info.optimizedModelCache})`);
  if (info.optimizedModelCacheError) ctx.log(`optimized-model cache not written (${info.optimizedModelCacheError}); loads stay slower`);
  sendStatus(ctx, readyStatus(ctx, classifier));
}

function failed(ctx: ServerContext, e: unknown, fallback: 'MODEL_DOWNLOAD_FAILED' | 'MODEL_LOAD_FAILED'): void {
  let err = toClassifierError(e, fallback);
  if (err.code === 'INTERNAL') err = new ClassifierError(fallback, err.message, { cause: e });
  const m = mine(ctx);
  const old = m.current;
  m.current = undefined;
  if (old) retire(old);
  m.early = undefined;
  m.state = 'error';
  m.loadError = err;
  ctx.log(`model failed: ${err.code}: ${err.message}`);
  sendStatus(ctx, { state: 'error', error: { code: err.code, message: err.message }, message: err.message });
}

/**
 * Unloads the model (shutdown, stop): a load in progress becomes stale (`generation`), queued images fail, runs in
 * flight return first (see Classifier.close).
 */
export async function unload(ctx: ServerContext, why: string): Promise<void> {
  const m = mine(ctx);
  m.generation++;
  const cur = m.current;
  m.current = undefined;
  m.state = 'error';
  m.loadError = new ClassifierError('MODEL_NOT_READY', why);
  if (cur) await cur.classifier.close().catch(() => undefined);
}

function retire(l: Loaded): void {
  l.retired = true;
  if (l.users === 0) void l.classifier.close().catch(() => undefined);
}

function lend(l: Loaded): { loaded: Loaded; release: () => void } {
  l.users++;
  let done = false;
  return {
    loaded: l,
    release: () => {
      if (done) return;
      done = true;
      l.users--;
      if (l.retired && l.users === 0) void l.classifier.close().catch(() => undefined);
    },
  };
}

/** The ready model, waiting while a local model loads; MODEL_NOT_READY while downloading. */
export async function acquireModel(ctx: ServerContext): Promise<{ loaded: Loaded; release: () => void }> {
  const m = ctx.model;
  for (;;) {
    if (m.state === 'ready' && m.current) return lend(m.current);
    if (m.state === 'error') {
      throw m.loadError ?? new ClassifierError('MODEL_NOT_READY', 'The model is not loaded.');
    }
    if (m.state === 'downloading') {
      throw new ClassifierError(
        'MODEL_NOT_READY',
        `The model is still downloading (${m.lastStatus.percent ?? 0}%). Try again when it is ready.`,
      );
    }
    if (!m.loading) throw new ClassifierError('MODEL_NOT_READY', 'The server has not been initialized yet (send initialize first).');
    const l = m.loading;
    await l;
    if (l === m.loading && m.state === 'loading') throw new ClassifierError('MODEL_NOT_READY', 'The model is not loaded.');
  }
}
