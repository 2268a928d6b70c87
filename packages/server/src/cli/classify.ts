/** `image-classifier classify [options] <file|folder>...`: records in input order on stdout, a progress line on stderr. */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Classifier, embeddingToJson, requireEmbedding, toClassifierError } from '@image-classifier/core/engine';
import { SETTING_DEFAULTS, SETTING_LIMITS } from '@image-classifier/protocol/settings';
import { expandInputs, tensorStem } from '../files.js';
import { CSV_HEADER, formatRecord, isError, type OutputFormat, type ResultRecord } from '../output.js';
import {
  EXIT_BROKEN_PIPE,
  EXIT_OK,
  EXIT_SOME_FAILED,
  failWith,
  type Io,
  intOption,
  isBrokenPipe,
  parseCommand,
  UsageError,
  watchOutput,
} from './common.js';
import { buildClassifierOptions, MODEL_OPTIONS } from './model-options.js';
import { ProgressLine } from './progress.js';

export const CLASSIFY_OPTIONS = {
  ...MODEL_OPTIONS,
  'top-k': { type: 'string' },
  logits: { type: 'boolean' },
  embedding: { type: 'boolean' },
  'dump-tensor': { type: 'string' },
} as const;

interface Want {
  topK: number;
  logits: boolean;
  embedding: boolean;
}

/** Writes preprocessed tensors as `<dir>/<name_ext>.f32`, numbering repeated names. */
class TensorDumper {
  private readonly used = new Map<string, number>();
  constructor(readonly dir: string) {}

  async write(file: string, tensor: Float32Array): Promise<void> {
    let stem = tensorStem(file);
    const n = (this.used.get(stem) ?? 0) + 1;
    this.used.set(stem, n);
    if (n > 1) stem = `${stem}-${n}`;
    const dest = path.join(this.dir, `${stem}.f32`);
    const tmp = `${dest}.${process.pid}.tmp`;
    await fs.writeFile(tmp, new Uint8Array(tensor.buffer, tensor.byteOffset, tensor.byteLength));
    await fs.rename(tmp, dest);
  }
}

async function classifyOne(classifier: Classifier, file: string, want: Want, dump: TensorDumper | undefined): Promise<ResultRecord> {
  try {
    const r = await classifier.classifyFile(file, { ...want, keepTensor: Boolean(dump) });
    if (dump && r.tensor) await dump.write(file, r.tensor);
    return {
      file,
      predictions: r.predictions,
      ...(r.logits ? { logits: Array.from(r.logits) } : {}),
      ...(r.embedding ? { embedding: embeddingToJson(r.embedding) } : {}),
      ...(r.answeredBy ? { answeredBy: r.answeredBy } : {}),
    };
  } catch (e) {
    const err = toClassifierError(e, 'INTERNAL');
    return { file, error: { code: err.code, message: err.message } };
  }
}

/**
 * Classifies `files` with a bounded window of images in flight, handing the records to `out` in input order, until
 * `stopped()` says the output is gone (the images still in flight are left to `Classifier.close()`).
 */
async function run(
  classifier: Classifier,
  files: string[],
  want: Want,
  dump: TensorDumper | undefined,
  out: (r: ResultRecord) => void,
  stopped: () => boolean,
) {
  const window = Math.max(4, classifier.maxBatch * 3, classifier.pipelineImages);
  const results: Array<Promise<ResultRecord> | undefined> = new Array(files.length);
  let next = 0;
  let printed = 0;
  const launch = () => {
    while (next < files.length && next - printed < window) {
      const i = next++;
      results[i] = classifyOne(classifier, files[i]!, want, dump);
    }
  };
  launch();
  while (printed < files.length && !stopped()) {
    const rec = await results[printed]!;
    if (stopped()) break;
    results[printed] = undefined;
    printed++;
    launch();
    out(rec);
  }
}

function outputFormat(values: { format?: string | undefined; embedding?: boolean | undefined }, io: Io): OutputFormat {
  const format = (values.format ?? (io.stdout.isTTY && !values.embedding ? 'text' : 'jsonl')) as OutputFormat;
  if (!['text', 'jsonl', 'csv'].includes(format)) throw new UsageError(`--format must be text, jsonl or csv (got '${values.format}').`);
  if (values.embedding && format !== 'jsonl')
    throw new UsageError(`--embedding writes vectors into JSON Lines records: use --format jsonl (got '${format}').`);
  return format;
}

export async function classifyCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommand(args, CLASSIFY_OPTIONS);
  if (positionals.length === 0) throw new UsageError('classify needs at least one image file or folder.');
  const format = outputFormat(values, io);
  const topK = intOption(values['top-k'], '--top-k', 1, SETTING_LIMITS.topK[1]) ?? SETTING_DEFAULTS.topK;
  const tty = Boolean(io.stderr.isTTY) && !values['no-progress'];
  // A reader that goes away (`| head`) ends the run quietly: see watchOutput.
  const stdout = watchOutput(io.stdout);
  const stderr = watchOutput(io.stderr);
  const options = await buildClassifierOptions(values, io, tty);
  // The folders are walked while the model loads, and the first images decoded meanwhile (Classifier's prefetch).
  const inputs = expandInputs(positionals);
  let classifier: Classifier;
  try {
    // One image: decode it in this thread (starting decoder processes would cost more than they save).
    const one = positionals.length === 1 && (await fs.stat(positionals[0]!).catch(() => undefined))?.isDirectory() !== true;
    const prefetch = inputs.then((r) => r.entries.map((e) => e.file));
    classifier = await Classifier.create({ ...options, prefetch, ...(one ? { preprocessWorkers: 0 } : {}) });
  } catch (e) {
    return failWith(io, e, 'MODEL_LOAD_FAILED');
  }
  const { entries, folders } = await inputs;
  try {
    if (values.embedding) requireEmbedding(classifier.info);
  } catch (e) {
    await classifier.close();
    return failWith(io, e);
  }
  const dumpDir = values['dump-tensor'];
  if (dumpDir) await fs.mkdir(dumpDir, { recursive: true });
  if (format === 'csv') io.stdout.write(`${CSV_HEADER}\n`);
  const line = new ProgressLine(io, tty && (folders > 0 || entries.length > 1));
  const started = performance.now();
  let done = 0;
  let failed = 0;
  const want = { topK, logits: Boolean(values.logits), embedding: Boolean(values.embedding) };
  try {
    await run(
      classifier,
      entries.map((e) => e.file),
      want,
      dumpDir ? new TensorDumper(dumpDir) : undefined,
      (rec) => {
        done++;
        if (isError(rec)) failed++;
        if (!stderr.error) line.clear();
        io.stdout.write(formatRecord(rec, format));
        if (!stderr.error) line.images(done, entries.length, failed, started);
      },
      () => stdout.error !== undefined,
    );
  } finally {
    if (!stderr.error) line.end();
    await classifier.close();
  }
  // A write error is reported once the stream's 'error' event has been heard (Node emits it on a later tick).
  await new Promise<void>((resolve) => setImmediate(resolve));
  if (stdout.error) {
    if (isBrokenPipe(stdout.error)) return EXIT_BROKEN_PIPE;
    if (!stderr.error) io.stderr.write(`image-classifier: OUTPUT_FAILED: could not write the results to stdout: ${stdout.error.message}\n`);
    return EXIT_SOME_FAILED;
  }
  return failed > 0 ? EXIT_SOME_FAILED : EXIT_OK;
}
