/** `image-classifier model info | download`: what a model is, and fetching one into the cache. */
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import {
  Classifier,
  ClassifierError,
  defaultCacheDir,
  downloadModel,
  modelFilePath,
  resolveModelUrl,
  toClassifierError,
  loadUsearch,
} from '@image-classifier/core';
import { EXIT_OK, failWith, type Io, parseCommand, UsageError } from './common.js';
import { EXPORT_OPTIONS, modelExportCommand } from './model-export.js';
import { buildClassifierOptions, MODEL_OPTIONS } from './model-options.js';
import { downloadProgress } from './progress.js';

const DOWNLOAD_OPTIONS = {
  url: { type: 'string' },
  sha256: { type: 'string' },
  'cache-dir': { type: 'string' },
  'model-url': { type: 'string' },
  'no-progress': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Info = Classifier['info'] & { labels: string | null };

/** A model on an inference server: where, which version, how tensors travel. */
function remoteRows(info: Info): Array<[string, string]> {
  const r = info.remote!;
  return [
    ['remote server', `${r.url} (${[r.server.name, r.server.version].filter(Boolean).join(' ') || 'unnamed'})`],
    [
      'remote model',
      `${r.model} version ${r.version}${r.versions.length ? ` (server has ${r.versions.join(', ')})` : ''}${r.platform ? `, ${r.platform}` : ''}`,
    ],
    ['input', `${info.inputName} FP32 [${info.inputShape.join(', ')}] (${info.layout})`],
    ['output', `${info.outputName} [${info.outputShape.join(', ')}]${info.outputIsProbabilities ? ' (softmax)' : ' (logits)'}`],
    ['classes', `${info.classes} (${info.labels ?? 'no labels'})`],
    ['embedding', info.embedding ? `${info.embedding.outputName} [${info.embedding.dims}]` : 'none'],
    ['batch', `${r.maxBatchSize ? `server max ${r.maxBatchSize}` : 'server max unknown'}, ${r.inflight} requests in flight`],
    ['tensors', r.protocol === 'binary' ? 'binary tensor extension' : 'JSON'],
    ['timeout', `${r.timeoutMs} ms per request`],
    ['connect', `${info.loadMs} ms (readiness, metadata)`],
  ];
}

function infoRows(info: Info): Array<[string, string]> {
  if (info.remote) return remoteRows(info);
  const fallbacks = info.providerFallbacks.map((f) => `${f.provider}: ${f.reason}`).join('; ');
  return [
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
    ['provider', `${info.activeProvider}${fallbacks ? ` (fell back: ${fallbacks})` : ''}`],
    ['graph optimization', info.graphOptimizationLevel],
    ['threads', String(info.intraOpNumThreads)],
    ['onnxruntime', info.ortVersion],
    [
      'curation search',
      loadUsearch()
        ? 'exact up to 5,000 images, then a usearch graph'
        : `exact only (usearch has no build for ${process.platform}-${process.arch})`,
    ],
    ['nodes', String(info.nodeCount)],
    ['load', `${info.loadMs} ms (optimized-model cache: ${info.optimizedModelCache})`],
  ];
}

async function modelInfoCommand(args: string[], io: Io): Promise<number> {
  const { values } = parseCommand(args, MODEL_OPTIONS);
  const opts = await buildClassifierOptions(values, io, Boolean(io.stderr.isTTY) && !values['no-progress']);
  let c: Classifier;
  try {
    c = await Classifier.create({ ...opts, worker: false, preprocessWorkers: 0 });
  } catch (e) {
    return failWith(io, e, 'MODEL_LOAD_FAILED');
  }
  const info = { ...c.info, labels: c.labels?.source ?? null, preprocess: { mode: c.preprocessing, ...c.preprocessConfig } };
  await c.close();
  const format = values.format ?? (io.stdout.isTTY ? 'text' : 'jsonl');
  if (format === 'text') {
    for (const [k, v] of infoRows(info)) io.stdout.write(`${k.padEnd(20)}${v}\n`);
  } else {
    io.stdout.write(`${JSON.stringify(info)}\n`);
  }
  return EXIT_OK;
}

async function modelDownloadCommand(args: string[], io: Io): Promise<number> {
  const { values } = parseCommand(args, DOWNLOAD_OPTIONS);
  const cacheDir = values['cache-dir'] ?? defaultCacheDir();
  const url = values.url ?? resolveModelUrl(values['model-url'] ? { url: values['model-url'] } : {});
  // The default model keeps its own file name whichever mirror it comes from.
  const file = modelFilePath(values.url, cacheDir);
  const onProgress = downloadProgress(io, Boolean(io.stderr.isTTY) && !values['no-progress'], () => url);
  try {
    const r = await downloadModel({
      url,
      destDir: path.dirname(file),
      ...(values.sha256 ? { sha256: values.sha256 } : {}),
      fileName: path.basename(file),
      ...(onProgress ? { onProgress } : {}),
    });
    io.stdout.write(`${r.downloaded ? 'Downloaded' : 'Already present'}: ${r.path}\nsha256 ${r.sha256}  ${r.bytes} bytes\n`);
    return EXIT_OK;
  } catch (e) {
    return failWith(io, e instanceof ClassifierError ? e : toClassifierError(e, 'MODEL_DOWNLOAD_FAILED'));
  }
}

export async function modelCommand(args: string[], io: Io): Promise<number> {
  // The subcommand is the first positional, wherever it stands among the options.
  const { tokens } = parseArgs({
    args,
    options: { ...EXPORT_OPTIONS, ...DOWNLOAD_OPTIONS },
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const at = tokens.find((t) => t.kind === 'positional')?.index ?? -1;
  const sub = at < 0 ? undefined : args[at];
  const rest = at < 0 ? args : [...args.slice(0, at), ...args.slice(at + 1)];
  if (sub === 'info') return await modelInfoCommand(rest, io);
  if (sub === 'download') return await modelDownloadCommand(rest, io);
  if (sub === 'export-triton') return await modelExportCommand(rest, io);
  throw new UsageError(`Unknown 'model' subcommand '${sub ?? ''}'. Use 'model info', 'model download' or 'model export-triton'.`);
}
