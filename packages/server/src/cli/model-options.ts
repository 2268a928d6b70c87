/** The options that choose and load a model (classify, model info) → the engine's ClassifierOptions. */
import * as os from 'node:os';
import * as path from 'node:path';
import {
  Classifier,
  type ClassifierOptions,
  defaultCacheDir,
  type LabelSet,
  loadLabelsFile,
  requireEmbedding,
  resolveModel,
} from '@image-classifier/core';
import {
  GRAPH_OPTIMIZATIONS,
  type GraphOptimization,
  PREPROCESSING_MODES,
  type PreprocessingMode,
  SETTING_DEFAULTS,
  SETTING_LIMITS,
} from '@image-classifier/protocol';
import { failWith, type Io, intOption, UsageError } from './common.js';
import { downloadProgress } from './progress.js';

export const MODEL_OPTIONS = {
  model: { type: 'string' },
  labels: { type: 'string' },
  preprocess: { type: 'string' },
  threads: { type: 'string' },
  batch: { type: 'string' },
  providers: { type: 'string' },
  'graph-opt': { type: 'string' },
  'max-pixels': { type: 'string' },
  'cache-dir': { type: 'string' },
  'model-url': { type: 'string' },
  format: { type: 'string' },
  'no-progress': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export interface ModelValues {
  model?: string | undefined;
  labels?: string | undefined;
  preprocess?: string | undefined;
  threads?: string | undefined;
  batch?: string | undefined;
  providers?: string | undefined;
  'graph-opt'?: string | undefined;
  'max-pixels'?: string | undefined;
  'cache-dir'?: string | undefined;
  'model-url'?: string | undefined;
}

function providerList(v: string | undefined): { executionProviders?: string[] } {
  if (!v) return {};
  return {
    executionProviders: v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  };
}

/** Validates the options, resolves the model (downloading it with a progress line) and loads the labels. */
export async function buildClassifierOptions(values: ModelValues, io: Io, showProgress: boolean): Promise<ClassifierOptions> {
  const preprocess = (values.preprocess ?? SETTING_DEFAULTS.preprocessing) as PreprocessingMode;
  if (!PREPROCESSING_MODES.includes(preprocess))
    throw new UsageError(`--preprocess must be 'exact' or 'fast' (got '${values.preprocess}').`);
  const level = (values['graph-opt'] ?? SETTING_DEFAULTS.graphOptimizationLevel) as GraphOptimization;
  if (!GRAPH_OPTIMIZATIONS.includes(level)) throw new UsageError(`--graph-opt must be disabled, basic, extended or all.`);
  // The same bounds as the server's settings: threads up to twice the cores.
  const threads = intOption(
    values.threads,
    '--threads',
    1,
    Math.min(SETTING_LIMITS.threads[1], Math.max(1, os.availableParallelism() * 2)),
  );
  const batch = intOption(values.batch, '--batch', 1, SETTING_LIMITS.maxBatch[1]);
  const maxPixels = intOption(values['max-pixels'], '--max-pixels', 1, SETTING_LIMITS.maxImagePixels[1]);
  const cacheDir = values['cache-dir'] ?? defaultCacheDir();
  let source = '';
  const onProgress = downloadProgress(io, showProgress, () => source);
  const model = await resolveModel({
    ...(values.model ? { model: values.model } : {}),
    ...(values['model-url'] ? { defaultModelUrl: values['model-url'] } : {}),
    cacheDir,
    ...(onProgress ? { onProgress } : {}),
    onDownloadStart: (url) => {
      source = url;
    },
  });
  let labels: LabelSet | undefined;
  if (values.labels) labels = await loadLabelsFile(values.labels);
  return {
    modelPath: model.path,
    ...(labels ? { labels } : {}),
    preprocessing: preprocess,
    session: {
      graphOptimizationLevel: level,
      ...(threads ? { intraOpNumThreads: threads } : {}),
      ...providerList(values.providers),
      optimizedModelCacheDir: path.join(cacheDir, 'optimized'),
    },
    ...(batch ? { maxBatch: batch } : {}),
    ...(maxPixels ? { maxPixels } : {}),
  };
}

/**
 * The model for commands that need embeddings (curate, similar): loaded, and refused with NO_EMBEDDING when it has
 * none. A number is the exit code after the error was printed.
 */
export async function openEmbeddingModel(values: ModelValues, io: Io, showProgress: boolean): Promise<Classifier | number> {
  try {
    const classifier = await Classifier.create(await buildClassifierOptions(values, io, showProgress));
    requireEmbedding(classifier.info);
    return classifier;
  } catch (e) {
    return failWith(io, e, 'MODEL_LOAD_FAILED');
  }
}
