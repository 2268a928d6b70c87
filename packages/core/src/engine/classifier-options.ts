/** The classification engine's options and results (see classifier.ts). */
import type { PreprocessingMode } from '@image-classifier/protocol/settings';
import type { PreprocessConfig } from '../image/preprocess.js';
import type { LabelSet, Prediction } from '../model/labels.js';
import type { SessionOptions } from '../model/session.js';
import type { RemoteOptions } from '../remote/options.js';

export interface ClassifierOptions {
  /**
   * Local path of the .onnx model (see `resolveModel` for URLs and the default model). With `remote`, the local
   * model behind it when `fallbackToLocal` is on (else unused: may be empty).
   */
  modelPath: string;
  /** Run inference on an Open Inference Protocol server (Triton, KServe) instead of onnxruntime-node here. */
  remote?: RemoteOptions;
  /** With `remote`: batches the server cannot answer are run by the local model (`modelPath`). */
  fallbackToLocal?: boolean;
  /** With `fallbackToLocal`: called when the local model starts answering instead of the server, and back. */
  onAnswererChange?: (who: 'remote' | 'local', why: string) => void;
  /** Labels; default: ImageNet-1k when the model has 1000 outputs, else `class N`. */
  labels?: LabelSet;
  session?: SessionOptions;
  preprocessing?: PreprocessingMode;
  /** Overrides of the ImageNet preprocessing; the crop size and layout default to the model's input. */
  preprocess?: Partial<PreprocessConfig>;
  maxPixels?: number;
  /** Largest batch sent to the model. Default 8. */
  maxBatch?: number;
  /** How long a partial batch waits for more images. Default 2 ms. */
  maxDelayMs?: number;
  /** Images decoded at once. Default: the number of cores. */
  decodeConcurrency?: number;
  /**
   * Let decoding run while a batch is inferring (default true). `false`: decoding and inference take turns, each
   * with every core. Measured side by side by `npm run bench` (BENCHMARKS.md): overlapping is faster on 2 cores.
   * Either way decoding stops running ahead once enough images are queued to fill the batches in flight.
   */
  overlapDecode?: boolean;
  /** Run inference in a worker thread (default true: onnxruntime-node blocks the calling thread). */
  worker?: boolean;
  workerScript?: string;
  /**
   * Decode and preprocess in this many decoder processes (default: `decodeConcurrency`, when `worker` is not false;
   * 0: in this thread). Keeps the pixel buffers and their garbage-collection pauses off the calling thread.
   */
  preprocessWorkers?: number;
  preprocessWorkerScript?: string;
  /** Scheduling priority (nice, Linux) of the decoder processes: the server lowers it to keep its loop responsive. */
  decoderNice?: number;
  /**
   * Files the caller will classify first (or a promise of them, e.g. a folder walk in progress): the first few are
   * read and decoded while the model loads, and their `classifyFile` takes the ready tensors (see prefetch.ts).
   */
  prefetch?: string[] | Promise<string[]>;
}

export type Priority = 'interactive' | 'bulk';

export interface ClassifyOptions {
  topK?: number;
  /** Return the raw output row too. */
  logits?: boolean;
  /** Return the embedding (penultimate-layer features, `info.embedding`) too, when the model has one. */
  embedding?: boolean;
  /** Keep the preprocessed input tensor in the result (for --dump-tensor). */
  keepTensor?: boolean;
  priority?: Priority;
  signal?: AbortSignal;
}

export interface ClassifyOutcome {
  predictions: Prediction[];
  logits?: Float32Array;
  /** The model's feature vector for this image (not normalized), with `embedding: true`. */
  embedding?: Float32Array;
  tensor?: Float32Array;
  width: number;
  height: number;
  format: string;
  timings: { preprocessMs: number; queueMs: number; inferenceMs: number; batchSize: number };
  /** With a remote model and the local fallback on: which model answered (a local answer is not the remote model's result). */
  answeredBy?: 'remote' | 'local';
}

export interface InferResult {
  /** The image's output row (logits or probabilities). */
  row: Float32Array;
  /** Its embedding, when asked for and the model has one. */
  embedding?: Float32Array;
  inferenceMs: number;
  batchSize: number;
  queueMs: number;
  /** Which model answered, with a remote model and the local fallback. */
  answeredBy?: 'remote' | 'local';
}
