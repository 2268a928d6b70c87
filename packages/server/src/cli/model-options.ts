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
  remoteOptions,
  resolveModel,
} from '@image-classifier/core/engine';
import {
  GRAPH_OPTIMIZATIONS,
  type GraphOptimization,
  PREPROCESSING_MODES,
  type PreprocessingMode,
  SETTING_DEFAULTS,
  SETTING_LIMITS,
} from '@image-classifier/protocol/settings';
import { escapeControl } from '../output.js';
import { failWith, type Io, intOption, UsageError } from './common.js';
import { downloadProgress, ProgressLine } from './progress.js';

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
  remote: { type: 'string' },
  'remote-model': { type: 'string' },
  'remote-version': { type: 'string' },
  'remote-timeout': { type: 'string' },
  'remote-inflight': { type: 'string' },
  'remote-protocol': { type: 'string' },
  'fallback-to-local': { type: 'boolean' },
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
  remote?: string | undefined;
  'remote-model'?: string | undefined;
  'remote-version'?: string | undefined;
  'remote-timeout'?: string | undefined;
  'remote-inflight'?: string | undefined;
  'remote-protocol'?: string | undefined;
  'fallback-to-local'?: boolean | undefined;
}

/** --remote and its companions → the engine's remote options (headers from the environment), or none. */
export function remoteFromValues(values: ModelValues): Pick<ClassifierOptions, 'remote' | 'fallbackToLocal'> {
  const named = (
    ['remote-model', 'remote-version', 'remote-timeout', 'remote-inflight', 'remote-protocol', 'fallback-to-local'] as const
  ).filter((k) => values[k] !== undefined);
  if (!values.remote) {
    if (named.length) throw new UsageError(`--${named[0]} needs --remote <url>.`);
    return {};
  }
  if (!values['remote-model']) throw new UsageError('--remote needs --remote-model <name> (the model as the server names it).');
  const protocol = values['remote-protocol'] ?? 'auto';
  if (protocol !== 'auto' && protocol !== 'binary' && protocol !== 'json')
    throw new UsageError(`--remote-protocol must be auto, binary or json (got '${protocol}').`);
  const timeoutMs = intOption(values['remote-timeout'], '--remote-timeout', 1, 3_600_000);
  const inflight = intOption(values['remote-inflight'], '--remote-inflight', 1, 64);
  return {
    remote: remoteOptions({
      url: values.remote,
      model: values['remote-model'],
      ...(values['remote-version'] ? { version: values['remote-version'] } : {}),
      ...(timeoutMs ? { timeoutMs } : {}),
      ...(inflight ? { inflight } : {}),
      protocol,
    }),
    ...(values['fallback-to-local'] ? { fallbackToLocal: true } : {}),
  };
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
  const remote: Pick<ClassifierOptions, 'remote' | 'fallbackToLocal' | 'onAnswererChange'> = remoteFromValues(values);
  if (remote.fallbackToLocal) {
    remote.onAnswererChange = (who, why) =>
      io.stderr.write(
        who === 'local'
          ? `image-classifier: the local model answers instead of the server: ${escapeControl(why)}\n`
          : `image-classifier: the server answers again (${why}).\n`,
      );
  }
  let labels: LabelSet | undefined;
  if (values.labels) labels = await loadLabelsFile(values.labels);
  // A remote model needs no local one, unless the local model stands behind it.
  if (remote.remote && !remote.fallbackToLocal) {
    return {
      modelPath: '',
      ...remote,
      ...(labels ? { labels } : {}),
      preprocessing: preprocess,
      ...(batch ? { maxBatch: batch } : {}),
      ...(maxPixels ? { maxPixels } : {}),
    };
  }
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
  return {
    modelPath: model.path,
    ...remote,
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

/** What a command that reads a folder with the embedding model works with (curate, similar, find). */
export interface EmbeddingRun {
  classifier: Classifier;
  /** The progress line on stderr (end it before writing to stdout). */
  line: ProgressLine;
  /** Draws `done/total` images and `failed` on the progress line, with the rate since the run began. */
  progress: (done: number, total: number, failed: number) => void;
}

/**
 * Opens the embedding model (openEmbeddingModel, with a progress line on a terminal unless --no-progress), runs `run`
 * with it and closes it after. A model that does not load, or an error from `run`, is printed (failWith) and its exit
 * code returned instead of `run`'s result.
 */
export async function withEmbeddingModel<T>(
  values: ModelValues & { 'no-progress'?: boolean | undefined },
  io: Io,
  run: (r: EmbeddingRun) => Promise<T>,
): Promise<T | number> {
  const tty = Boolean(io.stderr.isTTY) && !values['no-progress'];
  const classifier = await openEmbeddingModel(values, io, tty);
  if (typeof classifier === 'number') return classifier;
  const line = new ProgressLine(io, tty);
  const started = performance.now();
  try {
    return await run({ classifier, line, progress: (done, total, failed) => line.images(done, total, failed, started) });
  } catch (e) {
    line.end();
    return failWith(io, e);
  } finally {
    line.end();
    await classifier.close();
  }
}

/** `--format text|json` of the search commands: text on a terminal, JSON when piped. */
export function textOrJson(format: string | undefined, io: Io): 'text' | 'json' {
  const f = format ?? (io.stdout.isTTY ? 'text' : 'json');
  if (f !== 'text' && f !== 'json') throw new UsageError(`--format must be text or json (got '${f}').`);
  return f;
}
