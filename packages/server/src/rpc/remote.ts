/**
 * The remote inference backend in the server: the settings (`backend: remote`, `remoteUrl`, `remoteModel`, …) →
 * the engine's options (credentials come from the process environment, never from settings), and what the client
 * is told: which server and version answer, and when the local model stands in for it (status notifications,
 * `modelInfo`, the log).
 */
import { type Classifier, ClassifierError, type ClassifierOptions, remoteOptions } from '@image-classifier/core';
import type { ModelInfoResult, ServerSettings, StatusParams } from '@image-classifier/protocol';
import type { ServerContext } from './state.js';

/** Who answers at the moment, per server context (set by the fallback's reports). */
const answering = new WeakMap<ServerContext, 'remote' | 'local'>();

/** A local model is needed: the backend is local, or the local model stands behind the remote one. */
export function needsLocalModel(s: ServerSettings): boolean {
  return s.backend !== 'remote' || s.fallbackToLocal === true;
}

export function remoteClassifierOptions(
  ctx: ServerContext,
  s: ServerSettings,
  send: (ctx: ServerContext, s: StatusParams) => void,
): Pick<ClassifierOptions, 'remote' | 'fallbackToLocal' | 'onAnswererChange'> {
  answering.delete(ctx);
  if (s.backend !== 'remote') return {};
  if (!s.remoteUrl || !s.remoteModel) {
    throw new ClassifierError(
      'INVALID_ARGUMENT',
      'imageClassifier.backend is "remote" but imageClassifier.remote.url or imageClassifier.remote.model is empty: set both (e.g. http://triton:8000 and resnet50), or set the backend to "local".',
    );
  }
  return {
    remote: remoteOptions({
      url: s.remoteUrl,
      model: s.remoteModel,
      ...(s.remoteVersion ? { version: s.remoteVersion } : {}),
      ...(s.remoteTimeoutMs ? { timeoutMs: s.remoteTimeoutMs } : {}),
      ...(s.remoteInflight ? { inflight: s.remoteInflight } : {}),
      ...(s.remoteProtocol ? { protocol: s.remoteProtocol } : {}),
    }),
    ...(s.fallbackToLocal ? { fallbackToLocal: true } : {}),
    onAnswererChange: (who, why) => {
      answering.set(ctx, who);
      ctx.log(
        who === 'local' ? `remote: the local model answers instead of the server: ${why}` : `remote: the server answers again (${why})`,
      );
      // Before the model is ready, `loaded` reports it (a fallback at start); afterwards each change is a status.
      const l = ctx.model.current;
      if (!l || ctx.model.state !== 'ready') return;
      send(ctx, readyStatus(ctx, l.classifier));
    },
  };
}

/** The `ready` status: the model and who answers (`ResNet50 · CPU`, `resnet50 v1 · remote`, `… · local fallback`). */
export function readyStatus(ctx: ServerContext, c: Classifier): StatusParams {
  const info = c.info;
  const r = info.remote;
  const wanted = ctx.config.settings.backend === 'remote';
  if (r && answering.get(ctx) !== 'local') {
    return {
      state: 'ready',
      model: `${info.name} v${r.version}`,
      provider: 'remote',
      message: `${info.name} version ${r.version} ready on ${r.url}`,
    };
  }
  if (wanted) {
    return {
      state: 'ready',
      model: info.name,
      provider: 'local fallback',
      message: `The local model ${r ? '' : `${info.name} `}answers: the inference server is unavailable (see the output).`,
    };
  }
  return { state: 'ready', model: info.name, provider: info.activeProvider, message: `${info.name} ready (${info.activeProvider})` };
}

/** `modelInfo`'s remote part. */
export function remoteInfo(ctx: ServerContext, c: Classifier): Pick<ModelInfoResult, 'remote' | 'answeredBy'> {
  const r = c.info.remote;
  const who = answering.get(ctx);
  return {
    ...(r ? { remote: { ...r, server: { ...r.server }, versions: [...r.versions] } } : {}),
    ...(ctx.config.settings.backend === 'remote' ? { answeredBy: who ?? (r ? 'remote' : 'local') } : {}),
  };
}
