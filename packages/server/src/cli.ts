/**
 * `image-classifier`: the engine without an editor.
 *
 *   image-classifier classify [options] <file|folder>...
 *   image-classifier model info [--model …]
 *   image-classifier model download [--url …] [--sha256 …]
 *   image-classifier serve [--stdio | --node-ipc | --pipe=… | --socket=…]
 *
 * Exit codes: 0 all images classified, 1 some image failed, 2 usage error or model that cannot be loaded.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import {
  Classifier,
  ClassifierError,
  defaultCacheDir,
  embeddingToJson,
  downloadModel,
  loadLabelsFile,
  renderProgressBar,
  requireEmbedding,
  resolveModel,
  resolveModelUrl,
  toClassifierError,
  type ClassifierOptions,
  type DownloadProgress,
  type LabelSet,
} from '@image-classifier/core';
import type { GraphOptimization, PreprocessingMode } from '@image-classifier/protocol';
import { expandInputs, tensorStem } from './files.js';
import { CSV_HEADER, formatRecord, isError, type OutputFormat, type ResultRecord } from './output.js';

export const EXIT_OK = 0;
export const EXIT_SOME_FAILED = 1;
export const EXIT_USAGE = 2;

const USAGE = `Usage:
  image-classifier classify [options] <file|folder>...
  image-classifier model info [--model <path|url>]
  image-classifier model download [--url <url>] [--sha256 <hex>]
  image-classifier serve [--stdio | --node-ipc | --pipe=<name> | --socket=<port>]

Classify options:
  --model <path|url>       ONNX model (default: ResNet50 v1-12 from the ONNX Model Zoo, downloaded once)
  --labels <file>          class labels, one per line in output order (default: ImageNet-1k)
  --top-k <n>              predictions per image (default 5)
  --preprocess exact|fast  exact = bit-for-bit torchvision/PIL (default); fast = libvips resize
  --format text|jsonl|csv  default: text on a terminal, jsonl when piped
  --logits                 add the raw output vector to each record
  --embedding              add the model's feature vector (penultimate layer, e.g. ResNet50's 2048 pooled
                           features) to each record; JSON Lines only
  --dump-tensor <dir>      write each preprocessed input as <dir>/<name_ext>.f32 (float32 LE, NCHW)
  --threads <n>            ONNX Runtime intra-op threads (default: all cores)
  --batch <n>              images per inference batch (default 8)
  --providers <a,b>        execution providers to try in order, CPU is always the fallback (e.g. cuda,cpu)
  --graph-opt <level>      disabled|basic|extended|all (default all)
  --max-pixels <n>         refuse larger images (default 100000000)
  --cache-dir <dir>        models and optimized-model cache (default ${'$'}IMAGE_CLASSIFIER_CACHE_DIR or ~/.cache/image-classifier)
  --model-url <url>        mirror for the default model (or env IMAGE_CLASSIFIER_MODEL_URL)
  --no-progress            no progress bar on stderr
`;

class UsageError extends Error {}

interface Io {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

function intOption(v: string | undefined, name: string, min: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`${name} must be an integer ≥ ${min} (got '${v}').`);
  return n;
}

const COMMON_OPTIONS = {
  model: { type: 'string' },
  labels: { type: 'string' },
  'top-k': { type: 'string' },
  preprocess: { type: 'string' },
  format: { type: 'string' },
  logits: { type: 'boolean' },
  embedding: { type: 'boolean' },
  'dump-tensor': { type: 'string' },
  threads: { type: 'string' },
  batch: { type: 'string' },
  providers: { type: 'string' },
  'graph-opt': { type: 'string' },
  'max-pixels': { type: 'string' },
  'cache-dir': { type: 'string' },
  'model-url': { type: 'string' },
  'no-progress': { type: 'boolean' },
  url: { type: 'string' },
  sha256: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof COMMON_OPTIONS; allowPositionals: true }>>['values'];

export async function main(argv: string[], io: Io = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (!command || command === '--help' || command === '-h' || command === 'help') {
      io.stdout.write(USAGE);
      return command ? EXIT_OK : EXIT_USAGE;
    }
    if (command === '--version' || command === '-v') {
      io.stdout.write(`image-classifier 0.1.0\n`);
      return EXIT_OK;
    }
    if (command === 'serve') {
      const { serve } = await import('./serve.js');
      await serve(rest);
      return EXIT_OK;
    }
    let parsed;
    try {
      parsed = parseArgs({ args: rest, options: COMMON_OPTIONS, allowPositionals: true, strict: true });
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    const { values, positionals } = parsed;
    if (values.help) {
      io.stdout.write(USAGE);
      return EXIT_OK;
    }
    if (command === 'classify') return await classifyCommand(values, positionals, io);
    if (command === 'model') {
      const [sub] = positionals;
      if (sub === 'info') return await modelInfoCommand(values, io);
      if (sub === 'download') return await modelDownloadCommand(values, io);
      throw new UsageError(`Unknown 'model' subcommand '${sub ?? ''}'. Use 'model info' or 'model download'.`);
    }
    throw new UsageError(`Unknown command '${command}'.`);
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr.write(`image-classifier: ${e.message}\n\n${USAGE}`);
      return EXIT_USAGE;
    }
    const err = toClassifierError(e);
    io.stderr.write(`image-classifier: ${err.code}: ${err.message}\n`);
    return EXIT_USAGE;
  }
}

function progressReporter(io: Io, enabled: boolean, what?: () => string): ((p: DownloadProgress) => void) | undefined {
  if (!enabled) return undefined;
  let first = true;
  return (p) => {
    if (first && what) io.stderr.write(`Downloading ${what()}\n`);
    first = false;
    io.stderr.write(`\r${renderProgressBar(p)}`);
    if (p.percent === 100) io.stderr.write('\n');
  };
}

async function buildClassifierOptions(values: Values, io: Io, showProgress: boolean): Promise<ClassifierOptions> {
  const preprocess = (values.preprocess ?? 'exact') as PreprocessingMode;
  if (preprocess !== 'exact' && preprocess !== 'fast')
    throw new UsageError(`--preprocess must be 'exact' or 'fast' (got '${values.preprocess}').`);
  const level = (values['graph-opt'] ?? 'all') as GraphOptimization;
  if (!['disabled', 'basic', 'extended', 'all'].includes(level))
    throw new UsageError(`--graph-opt must be disabled, basic, extended or all.`);
  const threads = intOption(values.threads, '--threads', 1);
  const batch = intOption(values.batch, '--batch', 1);
  const maxPixels = intOption(values['max-pixels'], '--max-pixels', 1);
  const cacheDir = values['cache-dir'] ?? defaultCacheDir();
  let source = '';
  const onProgress = progressReporter(io, showProgress, () => source);
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
      ...(values.providers
        ? {
            executionProviders: values.providers
              .split(',')
              .map((s) => s.trim())
              .filter(Boolean),
          }
        : {}),
      optimizedModelCacheDir: path.join(cacheDir, 'optimized'),
    },
    ...(batch ? { maxBatch: batch } : {}),
    ...(maxPixels ? { maxPixels } : {}),
  };
}

async function classifyCommand(values: Values, positionals: string[], io: Io): Promise<number> {
  if (positionals.length === 0) throw new UsageError('classify needs at least one image file or folder.');
  const format = (values.format ?? (io.stdout.isTTY && !values.embedding ? 'text' : 'jsonl')) as OutputFormat;
  if (!['text', 'jsonl', 'csv'].includes(format)) throw new UsageError(`--format must be text, jsonl or csv (got '${values.format}').`);
  if (values.embedding && format !== 'jsonl')
    throw new UsageError(`--embedding writes vectors into JSON Lines records: use --format jsonl (got '${format}').`);
  const topK = intOption(values['top-k'], '--top-k', 1) ?? 5;
  const { entries, folders } = await expandInputs(positionals);
  const tty = Boolean(io.stderr.isTTY) && !values['no-progress'];
  const classifierOptions = await buildClassifierOptions(values, io, tty);
  let classifier: Classifier;
  try {
    // One image: decode it in this thread (starting decoder threads would cost more than they save).
    classifier = await Classifier.create({ ...classifierOptions, ...(entries.length <= 1 ? { preprocessWorkers: 0 } : {}) });
  } catch (e) {
    const err = toClassifierError(e, 'MODEL_LOAD_FAILED');
    io.stderr.write(`image-classifier: ${err.code}: ${err.message}\n`);
    return EXIT_USAGE;
  }
  if (values.embedding) {
    try {
      requireEmbedding(classifier.info);
    } catch (e) {
      await classifier.close();
      const err = toClassifierError(e);
      io.stderr.write(`image-classifier: ${err.code}: ${err.message}\n`);
      return EXIT_USAGE;
    }
  }
  const dumpDir = values['dump-tensor'];
  if (dumpDir) await fs.mkdir(dumpDir, { recursive: true });
  const usedStems = new Map<string, number>();

  if (format === 'csv') io.stdout.write(CSV_HEADER + '\n');
  const showBar = tty && (folders > 0 || entries.length > 1);
  let done = 0;
  let failed = 0;
  const started = performance.now();
  const drawBar = () => {
    if (!showBar) return;
    const rate = done / Math.max(1e-3, (performance.now() - started) / 1000);
    const pct = entries.length ? Math.floor((done / entries.length) * 100) : 100;
    const width = 30;
    const filled = Math.round((pct / 100) * width);
    io.stderr.write(
      `\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${pct}%  ${done}/${entries.length}  ${rate.toFixed(1)} img/s  ${failed} failed`,
    );
  };

  // Keep a bounded window of images in flight; print in input order.
  const window = Math.max(4, classifier.maxBatch * 3);
  const results: Array<Promise<ResultRecord> | undefined> = new Array(entries.length);
  let next = 0;
  const launch = () => {
    while (next < entries.length && next - printed < window) {
      const i = next++;
      results[i] = classifyOne(
        classifier,
        entries[i]!.file,
        { topK, logits: Boolean(values.logits), embedding: Boolean(values.embedding) },
        dumpDir,
        usedStems,
      );
    }
  };
  let printed = 0;
  try {
    launch();
    while (printed < entries.length) {
      const rec = await results[printed]!;
      results[printed] = undefined;
      printed++;
      launch();
      done++;
      if (isError(rec)) failed++;
      if (showBar) io.stderr.write('\r\x1b[K');
      io.stdout.write(formatRecord(rec, format));
      drawBar();
    }
  } finally {
    if (showBar) io.stderr.write('\n');
    await classifier.close();
  }
  return failed > 0 ? EXIT_SOME_FAILED : EXIT_OK;
}

async function classifyOne(
  classifier: Classifier,
  file: string,
  want: { topK: number; logits: boolean; embedding: boolean },
  dumpDir: string | undefined,
  usedStems: Map<string, number>,
): Promise<ResultRecord> {
  try {
    const r = await classifier.classifyFile(file, { ...want, keepTensor: Boolean(dumpDir) });
    if (dumpDir && r.tensor) {
      let stem = tensorStem(file);
      const n = (usedStems.get(stem) ?? 0) + 1;
      usedStems.set(stem, n);
      if (n > 1) stem = `${stem}-${n}`;
      const dest = path.join(dumpDir, `${stem}.f32`);
      const tmp = `${dest}.${process.pid}.tmp`;
      await fs.writeFile(tmp, new Uint8Array(r.tensor.buffer, r.tensor.byteOffset, r.tensor.byteLength));
      await fs.rename(tmp, dest);
    }
    return {
      file,
      predictions: r.predictions,
      ...(r.logits ? { logits: Array.from(r.logits) } : {}),
      ...(r.embedding ? { embedding: embeddingToJson(r.embedding) } : {}),
    };
  } catch (e) {
    const err = toClassifierError(e, 'INTERNAL');
    return { file, error: { code: err.code, message: err.message } };
  }
}

async function modelInfoCommand(values: Values, io: Io): Promise<number> {
  const opts = await buildClassifierOptions(values, io, Boolean(io.stderr.isTTY));
  let c: Classifier;
  try {
    c = await Classifier.create({ ...opts, worker: false });
  } catch (e) {
    const err = toClassifierError(e, 'MODEL_LOAD_FAILED');
    io.stderr.write(`image-classifier: ${err.code}: ${err.message}\n`);
    return EXIT_USAGE;
  }
  const info = { ...c.info, labels: c.labels?.source ?? null, preprocess: { mode: c.preprocessing, ...c.preprocessConfig } };
  await c.close();
  const format = values.format ?? (io.stdout.isTTY ? 'text' : 'jsonl');
  if (format === 'text') {
    const rows: Array<[string, string]> = [
      ['model', info.path],
      ['sha256', info.sha256],
      ['size', `${(info.bytes / 1e6).toFixed(1)} MB`],
      ['producer', info.producer ?? '-'],
      ['ir / opsets', `${info.irVersion ?? '-'} / ${info.opsets.map((o) => `${o.domain} ${o.version}`).join(', ')}`],
      ['input', `${info.inputName} ${info.inputType} [${info.inputShape.join(', ')}] (${info.layout})`],
      ['output', `${info.outputName} [${info.outputShape.join(', ')}]${info.outputIsProbabilities ? ' (softmax)' : ' (logits)'}`],
      ['classes', `${info.classes} (${info.labels ?? 'no labels'})`],
      [
        'embedding',
        info.embedding
          ? `${info.embedding.outputName} [${info.embedding.dims}] (${info.embedding.producer}, the classifier's input)`
          : 'none found',
      ],
      ['batch', info.dynamicBatch ? 'dynamic' : String(info.maxBatch)],
      [
        'provider',
        `${info.activeProvider}${info.providerFallbacks.length ? ` (fell back: ${info.providerFallbacks.map((f) => `${f.provider}: ${f.reason}`).join('; ')})` : ''}`,
      ],
      ['graph optimization', info.graphOptimizationLevel],
      ['threads', String(info.intraOpNumThreads)],
      ['onnxruntime', info.ortVersion],
      ['nodes', String(info.nodeCount)],
      ['load', `${info.loadMs} ms (optimized-model cache: ${info.optimizedModelCache})`],
    ];
    for (const [k, v] of rows) io.stdout.write(`${k.padEnd(20)}${v}\n`);
  } else {
    io.stdout.write(JSON.stringify(info) + '\n');
  }
  return EXIT_OK;
}

async function modelDownloadCommand(values: Values, io: Io): Promise<number> {
  const cacheDir = values['cache-dir'] ?? defaultCacheDir();
  const url = values.url ?? resolveModelUrl(values['model-url'] ? { url: values['model-url'] } : {});
  const onProgress = progressReporter(io, Boolean(io.stderr.isTTY) && !values['no-progress'], () => url);
  try {
    const r = await downloadModel({
      url,
      destDir: path.join(cacheDir, 'models'),
      ...(values.sha256 ? { sha256: values.sha256 } : {}),
      ...(values.url ? {} : { fileName: 'resnet50-v1-12.onnx' }),
      ...(onProgress ? { onProgress } : {}),
    });
    io.stdout.write(`${r.downloaded ? 'Downloaded' : 'Already present'}: ${r.path}\nsha256 ${r.sha256}  ${r.bytes} bytes\n`);
    return EXIT_OK;
  } catch (e) {
    const err = e instanceof ClassifierError ? e : toClassifierError(e, 'MODEL_DOWNLOAD_FAILED');
    io.stderr.write(`image-classifier: ${err.code}: ${err.message}\n`);
    return EXIT_USAGE;
  }
}
