/**
 * What every CLI command shares: the exit codes, the usage text and error, the streams, option parsing
 * (`util.parseArgs`, strict) and reporting an engine error.
 */
import { parseArgs } from 'node:util';
import { toClassifierError } from '@image-classifier/core/engine';
import { escapeControl } from '../output.js';

export const EXIT_OK = 0;
export const EXIT_SOME_FAILED = 1;
export const EXIT_USAGE = 2;
/** The reader of stdout went away (`| head`): 128 + SIGPIPE, what the shell reports for a tool that SIGPIPE stopped. */
export const EXIT_BROKEN_PIPE = 141;

export const USAGE = `Usage:
  image-classifier classify [options] <file|folder>...
  image-classifier model info [--model <path|url>]
  image-classifier model download [--url <url>] [--sha256 <hex>]
  image-classifier model export-triton <repository> [--model <path|url>] [--name resnet50] [--max-batch 64] [--instance-kind gpu|cpu]
  image-classifier curate <root> [--checks label,duplicates,outliers,quality,leakage] [--format text|json|csv] [--out <file>]
  image-classifier similar <image> --in <folder> [-k 10]
  image-classifier find <noun> --in <folder> [--top 20]
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

Remote inference (an Open Inference Protocol server: Triton, KServe; credentials from the environment:
IMAGE_CLASSIFIER_REMOTE_HEADERS='{"Header":"value"}' or IMAGE_CLASSIFIER_REMOTE_TOKEN=<bearer token>):
  --remote <url>           run the model on the server at <url> (e.g. http://triton:8000); decoding stays here
  --remote-model <name>    the model's name on the server (required with --remote)
  --remote-version <v>     its version (default: the newest the server has)
  --remote-timeout <ms>    per request (default 30000)
  --remote-inflight <n>    requests in flight (default 4)
  --remote-protocol auto|binary|json   tensor encoding (default auto: binary when the server offers it)
  --fallback-to-local      batches the server cannot answer are classified by the local --model
`;

export class UsageError extends Error {}

export interface Io {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

type Options = Record<string, { type: 'string' | 'boolean'; short?: string }>;
type Parsed<O extends Options> = ReturnType<typeof parseArgs<{ args: string[]; options: O; allowPositionals: true; strict: true }>>;

/** `util.parseArgs` (strict, positionals allowed); its errors become usage errors. */
export function parseCommand<O extends Options>(args: string[], options: O): Parsed<O> {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

export function intOption(v: string | undefined, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(
      `${name} must be an integer ${max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `from ${min} to ${max}`} (got '${v}').`,
    );
  }
  return n;
}

/**
 * Watches an output stream for write errors. Node reports a write to a pipe whose reader has gone (EPIPE) as an
 * 'error' event, which, unheard, ends the process with a stack trace while ONNX Runtime's and libvips' threads still
 * run (and then a native abort). Heard here, it only marks the output as gone: the command stops writing, stops its
 * work and closes its threads in order. `error` is the first failure (EPIPE or another, such as ENOSPC).
 */
export function watchOutput(stream: NodeJS.WritableStream): { readonly error: NodeJS.ErrnoException | undefined } {
  let error: NodeJS.ErrnoException | undefined;
  const onError = (e: NodeJS.ErrnoException) => {
    error ??= e;
  };
  // The listener stays for the life of the process: a write already queued may still fail after the command ends.
  stream.on('error', onError);
  return {
    get error() {
      return error;
    },
  };
}

/** True for the error of a write whose reader has gone (the pipe's read end closed, or the stream already torn down). */
export function isBrokenPipe(e: NodeJS.ErrnoException | undefined): boolean {
  return e?.code === 'EPIPE' || e?.code === 'ERR_STREAM_DESTROYED';
}

/** Writes `image-classifier: CODE: message` and returns the usage exit code (a model that cannot be used). */
export function failWith(io: Io, e: unknown, fallback?: Parameters<typeof toClassifierError>[1]): number {
  const err = toClassifierError(e, fallback);
  io.stderr.write(`image-classifier: ${err.code}: ${escapeControl(err.message)}\n`);
  return EXIT_USAGE;
}
