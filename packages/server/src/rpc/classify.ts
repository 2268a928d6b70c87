/** `imageClassifier/classify`: one image, interactive priority, answered from the cache even while the model loads. */
import { ClassifierError, requireEmbedding } from '@image-classifier/core';
import { type ClassifyParams, type ClassifyResult, SETTING_DEFAULTS, ClassifyRequest, usageLine } from '@image-classifier/protocol';
import type { CancellationToken } from 'vscode-languageserver/node';
import { cachedResult, classifyFile } from './cached-classify.js';
import { validTopK } from './errors.js';
import { checkUri } from './limits.js';
import { acquireModel } from './model-host.js';
import type { ServerContext } from './state.js';

/** An AbortSignal that follows the client's cancellation token and, when given, the server's own stop signal. */
export function signalFor(token: CancellationToken, stop?: AbortSignal): { signal: AbortSignal; dispose: () => void } {
  const ac = new AbortController();
  const abort = () => ac.abort();
  if (token.isCancellationRequested || stop?.aborted) ac.abort();
  const d = token.onCancellationRequested(abort);
  stop?.addEventListener('abort', abort, { once: true });
  return {
    signal: ac.signal,
    dispose: () => {
      d.dispose();
      stop?.removeEventListener('abort', abort);
    },
  };
}

export function elapsedMs(t0: number): number {
  return Math.round((performance.now() - t0) * 1000) / 1000;
}

export async function classify(p: ClassifyParams, ctx: ServerContext, token: CancellationToken): Promise<ClassifyResult> {
  const t0 = performance.now();
  if (!p || typeof p !== 'object')
    throw new ClassifierError('INVALID_ARGUMENT', `${usageLine(ClassifyRequest.method, ClassifyRequest.usage)}.`);
  const topK = validTopK(p.topK, ctx.config.settings.topK ?? SETTING_DEFAULTS.topK);
  const file = ctx.config.roots.resolve(checkUri(p.uri));
  const maxQueue = ctx.config.settings.maxQueue ?? SETTING_DEFAULTS.maxQueue;
  ctx.inFlight.checkSingleRoom(maxQueue);
  if (ctx.model.state !== 'ready' && ctx.model.early && !p.force && !p.embedding && ctx.caches.results) {
    // The model is still loading, but this file's result for the same model is in the cache.
    const hit = cachedResult(ctx, ctx.model.early.key, ctx.caches.results.hashFor(file.path, file.size, file.mtimeMs, file), topK);
    if (hit) {
      const { predictions, width, height } = hit;
      return { uri: p.uri, predictions, model: ctx.model.early.name, cached: true, durationMs: elapsedMs(t0), width, height };
    }
  }
  const leave = ctx.inFlight.enterSingle();
  const { loaded, release } = await acquireModel(ctx).catch((e) => {
    leave();
    throw e;
  });
  const { signal, dispose } = signalFor(token, ctx.lifecycle.stop.signal);
  try {
    if (p.embedding) requireEmbedding(loaded.classifier.info);
    const opts = { topK, force: Boolean(p.force), interactive: true, signal, embedding: Boolean(p.embedding) };
    const r = await classifyFile(ctx, loaded, file, opts);
    return {
      uri: p.uri,
      predictions: r.predictions,
      model: loaded.classifier.info.name,
      cached: r.cached,
      durationMs: elapsedMs(t0),
      ...(r.width !== undefined ? { width: r.width, height: r.height } : {}),
      ...(r.embedding ? { embedding: r.embedding } : {}),
    };
  } finally {
    dispose();
    release();
    leave();
  }
}
