/**
 * The model host: loads (and reloads) the model the settings name, reports each step as a status notification,
 * and lends the ready model to requests (a replaced model is closed when its last request is done).
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
import type { Loaded, ServerContext } from './state.js';
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

export function sendStatus(ctx: ServerContext, s: StatusParams): void {
  ctx.lastStatus = s;
  if (!ctx.initialized) return;
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
    ctx.state = 'downloading';
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
      // The engine turns ORT's spin-waiting off; env IMAGE_CLASSIFIER_ORT_SPINNING=1 turns it back on (tuning).
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

/** Loads the model `s` names; a newer load (settings changed again) makes this one stale, and it gives way. */
export async function load(ctx: ServerContext, s: ServerSettings): Promise<void> {
  const gen = ++ctx.generation;
  const stale = () => gen !== ctx.generation;
  ctx.state = 'loading';
  ctx.loadError = undefined;
  sendStatus(ctx, { state: 'loading', message: 'Loading the model', ...(s.model ? { model: s.model } : {}) });
  const cacheDir = ctx.cacheDir ?? defaultCacheDir();
  const earlySig = modelSignature(s, cacheDir);
  const seen = earlySig ? ctx.cache?.getModel(earlySig) : undefined;
  ctx.early = seen && typeof seen.key === 'string' && typeof seen.name === 'string' ? { key: seen.key, name: seen.name } : undefined;
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
    if ((ctx.state as ServerState) === 'downloading') {
      ctx.state = 'loading';
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
      (ctx.state as ServerState) === 'downloading' || (s.model && /^https?:/i.test(s.model) && !classifier)
        ? 'MODEL_DOWNLOAD_FAILED'
        : 'MODEL_LOAD_FAILED';
    failed(ctx, e, fallback);
  }
}

function loaded(ctx: ServerContext, classifier: Classifier, sig: string | undefined): void {
  const old = ctx.current;
  ctx.current = { classifier, key: createHash('sha256').update(classifier.resultKey).digest('hex').slice(0, 16), users: 0, retired: false };
  ctx.labelsSource = classifier.labels?.source;
  if (old) retire(old);
  ctx.early = undefined;
  if (sig) ctx.cache?.setModel(sig, { key: ctx.current.key, name: classifier.info.name });
  ctx.state = 'ready';
  tuneHelperThreads(true);
  const info = classifier.info;
  ctx.log(`model ready: ${info.name} (${info.activeProvider}, ${info.loadMs} ms, optimized-model cache ${info.optimizedModelCache})`);
  if (info.optimizedModelCacheError) ctx.log(`optimized-model cache not written (${info.optimizedModelCacheError}); loads stay slower`);
  sendStatus(ctx, readyStatus(ctx, classifier));
}

function failed(ctx: ServerContext, e: unknown, fallback: 'MODEL_DOWNLOAD_FAILED' | 'MODEL_LOAD_FAILED'): void {
  let err = toClassifierError(e, fallback);
  if (err.code === 'INTERNAL') err = new ClassifierError(fallback, err.message, { cause: e });
  const old = ctx.current;
  ctx.current = undefined;
  if (old) retire(old);
  ctx.early = undefined;
  ctx.state = 'error';
  ctx.loadError = err;
  ctx.log(`model failed: ${err.code}: ${err.message}`);
  sendStatus(ctx, { state: 'error', error: { code: err.code, message: err.message }, message: err.message });
}

export function retire(l: Loaded): void {
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
  for (;;) {
    if (ctx.state === 'ready' && ctx.current) return lend(ctx.current);
    if (ctx.state === 'error') {
      throw ctx.loadError ?? new ClassifierError('MODEL_NOT_READY', 'The model is not loaded.');
    }
    if (ctx.state === 'downloading') {
      throw new ClassifierError(
        'MODEL_NOT_READY',
        `The model is still downloading (${ctx.lastStatus.percent ?? 0}%). Try again when it is ready.`,
      );
    }
    if (!ctx.loading) throw new ClassifierError('MODEL_NOT_READY', 'The server has not been initialized yet (send initialize first).');
    const l = ctx.loading;
    await l;
    if (l === ctx.loading && ctx.state === 'loading') throw new ClassifierError('MODEL_NOT_READY', 'The model is not loaded.');
  }
}
