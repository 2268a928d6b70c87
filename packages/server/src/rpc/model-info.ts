/** `imageClassifier/modelInfo`: the loaded model as the client sees it. */
import { loadUsearch } from '@image-classifier/core';
import type { ModelInfoResult } from '@image-classifier/protocol';
import { errorDto } from './errors.js';
import { remoteInfo } from './remote.js';
import type { ServerContext } from './state.js';

export function modelInfo(ctx: ServerContext): ModelInfoResult {
  const l = ctx.model.current;
  // A property of the platform, not of the model: said in every state.
  const neighbourSearch = loadUsearch() ? 'graph' : 'exact';
  if (ctx.model.state !== 'ready' || !l) {
    return {
      state: ctx.model.state,
      neighbourSearch,
      ...(ctx.model.loadError && ctx.model.state === 'error' ? { error: errorDto(ctx.model.loadError) } : {}),
    };
  }
  const c = l.classifier;
  const i = c.info;
  return {
    state: ctx.model.state,
    name: i.name,
    path: i.path,
    sha256: i.sha256,
    bytes: i.bytes,
    inputName: i.inputName,
    inputShape: i.inputShape,
    outputName: i.outputName,
    outputShape: i.outputShape,
    classes: i.classes,
    layout: i.layout,
    opsets: i.opsets,
    ...(i.producer ? { producer: i.producer } : {}),
    activeProvider: i.activeProvider,
    providerFallbacks: i.providerFallbacks,
    graphOptimizationLevel: i.graphOptimizationLevel,
    intraOpNumThreads: i.intraOpNumThreads,
    ortVersion: i.ortVersion,
    ...(ctx.model.labelsSource ? { labels: ctx.model.labelsSource } : {}),
    preprocessing: c.preprocessing,
    loadMs: i.loadMs,
    ...(i.embedding ? { embedding: { outputName: i.embedding.outputName, dims: i.embedding.dims } } : {}),
    ...remoteInfo(ctx, c),
    neighbourSearch,
  };
}
