/**
 * ONNX Runtime session management: graph optimization level, execution providers with CPU fallback,
 * intra-op threads, input/output introspection, and a cache of ORT-optimized models to cut cold start.
 *
 * `session.run` in onnxruntime-node keeps the JS thread busy for the whole inference (measured: no timer
 * fires during a 300 ms run), so long-running processes host this class in a worker (`inference-worker.ts`).
 */
import * as os from 'node:os';
import * as path from 'node:path';
import type { GraphOptimization } from '@image-classifier/protocol/settings';
import { ClassifierError } from '../errors.js';
import type { TensorLayout } from '../image/preprocess.js';
import { describeError, ort } from './ort.js';
import type { RemoteModelInfo } from '../remote/metadata.js';
import { readModel, statModel } from './model-file.js';
import { createSession, describeSession } from './session-create.js';

export { ort } from './ort.js';

export interface SessionOptions {
  graphOptimizationLevel?: GraphOptimization;
  /** Tried in order; 'cpu' is always appended as the fallback. */
  executionProviders?: string[];
  /** Intra-op threads; default: all available cores. */
  intraOpNumThreads?: number;
  /**
   * Let ORT's intra-op threads spin between runs (its default). Spinning wins a little latency on an idle
   * machine but steals the cores that decoding needs in a pipeline; the engine turns it off.
   */
  allowSpinning?: boolean;
  /** Directory for ORT-optimized models; `false` disables the cache. */
  optimizedModelCacheDir?: string | false;
  /**
   * Also output the embedding (the feature vector the classifier layer reads, e.g. ResNet50's 2048-d pooled
   * features) when the graph's tail is recognised (default true). It is computed on every run anyway; the graph
   * only gets it as an extra output.
   */
  embeddings?: boolean;
}

/** One batch's outputs, rows back to back. */
export interface BatchOutput {
  logits: Float32Array;
  /** `batch × info.embedding.dims` floats, when the model has an embedding output. */
  embeddings?: Float32Array;
  /** Which model answered, when a remote model has the local one behind it (remote/fallback.ts). */
  answeredBy?: 'remote' | 'local';
}

/** NO_EMBEDDING unless the model has an embedding output (`ModelInfo.embedding`). */
export function requireEmbedding(info: Pick<ModelInfo, 'name' | 'embedding'>): void {
  if (!info.embedding) {
    throw new ClassifierError(
      'NO_EMBEDDING',
      `${info.name} has no recognisable feature layer before its classifier (a Gemm or MatMul reading pooled features), so it cannot return embeddings. Use a model such as ResNet50 or MobileNetV2.`,
    );
  }
}

/** float32 values as JSON numbers: 9 significant digits read back as the same float32, in about half the characters of a double. */
export function embeddingToJson(e: ArrayLike<number>): number[] {
  return Array.from(e, (v) => Number(v.toPrecision(9)));
}

export interface ProviderFallback {
  provider: string;
  reason: string;
}

export interface ModelInfo {
  path: string;
  sha256: string;
  bytes: number;
  name: string;
  inputName: string;
  inputShape: Array<number | string>;
  inputType: string;
  layout: TensorLayout;
  /** [height, width] the model takes. */
  inputSize: [number, number];
  outputName: string;
  outputShape: Array<number | string>;
  classes: number;
  /** The embedding output (penultimate layer), when found: tensor name, width, and the op that computes it. */
  embedding?: { outputName: string; dims: number; producer: string };
  /** True when the batch dimension is symbolic or -1. */
  dynamicBatch: boolean;
  /** Largest batch the model accepts (1 for a fixed batch of 1). */
  maxBatch: number;
  /** The graph ends in Softmax: outputs are already probabilities. */
  outputIsProbabilities: boolean;
  irVersion?: number;
  producer?: string;
  opsets: Array<{ domain: string; version: number }>;
  nodeCount: number;
  activeProvider: string;
  requestedProviders: string[];
  providerFallbacks: ProviderFallback[];
  graphOptimizationLevel: GraphOptimization;
  intraOpNumThreads: number;
  ortVersion: string;
  optimizedModelCache: 'hit' | 'miss' | 'off';
  /** Why the optimized-model cache could not be written (the model loaded without it). */
  optimizedModelCacheError?: string;
  loadMs: number;
  /** A model on an inference server (remote/): where, which version, how tensors travel. */
  remote?: RemoteModelInfo;
}

export function defaultThreads(): number {
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
}

export class ModelSession {
  private constructor(
    private readonly session: import('onnxruntime-node').InferenceSession,
    readonly info: ModelInfo,
    /** What the session runs from, when it uses a buffer in place (session-create.ts): held while it lives. */
    private modelBytes?: Uint8Array,
  ) {}

  /** Loads a model file. Errors are `MODEL_NOT_FOUND` / `MODEL_LOAD_FAILED` with an actionable sentence. */
  static async load(modelPath: string, opts: SessionOptions = {}): Promise<ModelSession> {
    const t0 = performance.now();
    const file = path.resolve(modelPath);
    const stat = await statModel(file);
    const { sha256, summary, bytes } = await readModel(file, stat, opts.optimizedModelCacheDir);
    // The embedding becomes an extra graph output: the session is created from patched bytes (or from the
    // optimized-model cache, which then holds the patched graph).
    const embedding = opts.embeddings !== false ? summary.embedding : undefined;
    const patch = embedding !== undefined && !(summary.outputs ?? []).includes(embedding.name);
    const level = opts.graphOptimizationLevel ?? 'all';
    const threads = Math.max(1, Math.floor(opts.intraOpNumThreads ?? defaultThreads()));
    const requested = (opts.executionProviders?.length ? opts.executionProviders : ['cpu']).map((p) => p.toLowerCase());
    const version = ort().env.versions?.node ?? 'unknown';
    const { session, modelBytes, ...created } = await createSession({
      file,
      sha256,
      embedding,
      patch,
      bytes,
      level,
      threads,
      allowSpinning: opts.allowSpinning,
      requested,
      version,
      cacheDir: opts.optimizedModelCacheDir,
    });
    const io = await describeSession(session, file, embedding);
    const info: ModelInfo = {
      path: file,
      sha256,
      bytes: stat.size,
      name: path.basename(file).replace(/\.onnx$/i, ''),
      ...io,
      outputIsProbabilities: summary.lastOpType === 'Softmax',
      ...(summary.irVersion !== undefined ? { irVersion: summary.irVersion } : {}),
      ...(summary.producerName
        ? { producer: `${summary.producerName}${summary.producerVersion ? ' ' + summary.producerVersion : ''}` }
        : {}),
      opsets: summary.opsets,
      nodeCount: summary.nodeCount,
      activeProvider: created.activeProvider,
      requestedProviders: requested,
      providerFallbacks: created.providerFallbacks,
      graphOptimizationLevel: level,
      intraOpNumThreads: threads,
      ortVersion: version,
      optimizedModelCache: created.optimizedModelCache,
      ...(created.optimizedModelCacheError ? { optimizedModelCacheError: created.optimizedModelCacheError } : {}),
      loadMs: Math.round(performance.now() - t0),
    };
    return new ModelSession(session, info, modelBytes);
  }

  /**
   * Runs a batch. `input` holds `batch` preprocessed images back to back in the model's layout.
   * Returns the output rows back to back (`batch * classes` floats).
   */
  async run(input: Float32Array, batch: number): Promise<Float32Array> {
    return (await this.runOutputs(input, batch, false)).logits;
  }

  /**
   * Runs a batch and returns the logits and, when the model has one (`info.embedding`) and `embeddings` is not
   * false, the embedding rows (`batch × dims` floats, as the graph computes them: not normalized).
   */
  async runOutputs(input: Float32Array, batch: number, embeddings = true): Promise<BatchOutput> {
    const { inputName, outputName, layout, inputSize, classes } = this.info;
    const emb = embeddings ? this.info.embedding : undefined;
    const [h, w] = inputSize;
    const dims = layout === 'NCHW' ? [batch, 3, h, w] : [batch, h, w, 3];
    const expected = batch * 3 * h * w;
    if (input.length < expected) {
      throw new ClassifierError('INVALID_ARGUMENT', `Input tensor has ${input.length} values; a batch of ${batch} needs ${expected}.`);
    }
    const data = input.length === expected ? input : input.subarray(0, expected);
    const tensor = new (ort().Tensor)('float32', data, dims);
    let result;
    try {
      result = await this.session.run({ [inputName]: tensor }, emb ? [outputName, emb.outputName] : [outputName]);
    } catch (e) {
      throw new ClassifierError('INFERENCE_FAILED', `Inference failed: ${describeError(e)}.`, { cause: e });
    }
    const out = result[outputName]!;
    const values = out.data as Float32Array;
    if (values.length !== batch * classes) {
      throw new ClassifierError(
        'INFERENCE_FAILED',
        `The model returned ${values.length} values for a batch of ${batch}; expected ${batch * classes}.`,
      );
    }
    if (!emb) return { logits: values };
    const e = result[emb.outputName]!.data as Float32Array;
    if (emb.dims > 0 && e.length !== batch * emb.dims) {
      throw new ClassifierError(
        'INFERENCE_FAILED',
        `The model returned ${e.length} embedding values for a batch of ${batch}; expected ${batch * emb.dims}.`,
      );
    }
    return { logits: values, embeddings: e };
  }

  async release(): Promise<void> {
    await this.session.release();
    this.modelBytes = undefined;
  }
}
