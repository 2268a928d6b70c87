/**
 * ONNX Runtime session management: graph optimization level, execution providers with CPU fallback,
 * intra-op threads, input/output introspection, and a cache of ORT-optimized models to cut cold start.
 *
 * `session.run` in onnxruntime-node keeps the JS thread busy for the whole inference (measured: no timer
 * fires during a 300 ms run), so long-running processes host this class in a worker (`inference-worker.ts`).
 */
import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ClassifierError } from '../errors.js';
import { inspectOnnx, withEmbeddingOutput, type OnnxSummary } from './onnx-inspect.js';
import type { TensorLayout } from '../image/preprocess.js';

// onnxruntime-node 1.30 starts a telemetry client on session creation that writes a device id under
// ~/.cache/Microsoft/DeveloperTools and can upload over HTTPS. This product sends nothing anywhere.
process.env.ORT_DISABLE_TELEMETRY = '1';

type Ort = typeof import('onnxruntime-node');
let ortModule: Ort | undefined;
/** Loads onnxruntime-node lazily (after the telemetry switch above is set). */
export function ort(): Ort {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  ortModule ??= require('onnxruntime-node') as Ort;
  return ortModule;
}

import type { GraphOptimization } from '@image-classifier/protocol/settings';

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
  loadMs: number;
}

export function defaultThreads(): number {
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
}

function dimsOf(meta: unknown): Array<number | string> {
  const m = meta as { shape?: Array<number | string> };
  return Array.isArray(m?.shape) ? m.shape : [];
}

function describeError(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0]!.slice(0, 300);
}

/** Machine identity for the optimized-model cache (ORT's `all` level emits CPU-specific layouts). */
function machineKey(): string {
  const cpu = os.cpus()[0]?.model ?? 'cpu';
  return createHash('sha256').update(`${os.platform()}|${os.arch()}|${cpu}`).digest('hex').slice(0, 12);
}

export class ModelSession {
  private constructor(
    private readonly session: import('onnxruntime-node').InferenceSession,
    readonly info: ModelInfo,
  ) {}

  /** Loads a model file. Errors are `MODEL_NOT_FOUND` / `MODEL_LOAD_FAILED` with an actionable sentence. */
  static async load(modelPath: string, opts: SessionOptions = {}): Promise<ModelSession> {
    const t0 = performance.now();
    const file = path.resolve(modelPath);
    let stat;
    try {
      stat = await fs.stat(file);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        throw new ClassifierError(
          'MODEL_NOT_FOUND',
          `Model file not found: ${file}. Pass --model with an .onnx file or URL, or run 'image-classifier model download'.`,
        );
      }
      throw new ClassifierError('MODEL_LOAD_FAILED', `Cannot read the model ${file}: ${describeError(e)}.`, { cause: e });
    }
    // With a cache dir, the model's sha256 and graph summary are remembered per (path, size, mtime, inode):
    // a warm start reads nothing of the 100 MB file but what ONNX Runtime itself loads.
    const identity = `v2|${file}|${stat.size}|${stat.mtimeMs}|${stat.ino}`;
    const indexFile = opts.optimizedModelCacheDir ? path.join(opts.optimizedModelCacheDir, 'model-index.json') : undefined;
    let known = indexFile ? (await readModelIndex(indexFile))[identity] : undefined;
    let bytes: Buffer | undefined;
    if (!known) {
      try {
        bytes = await fs.readFile(file);
      } catch (e) {
        throw new ClassifierError('MODEL_LOAD_FAILED', `Cannot read the model ${file}: ${describeError(e)}.`, { cause: e });
      }
      let parsed: OnnxSummary;
      try {
        parsed = inspectOnnx(bytes);
      } catch (e) {
        throw new ClassifierError(
          'MODEL_LOAD_FAILED',
          `${file} is not a valid ONNX model (${describeError(e)}). Check that the download completed or pick another file.`,
          { cause: e },
        );
      }
      known = { sha256: createHash('sha256').update(bytes).digest('hex'), summary: parsed };
      if (indexFile) await writeModelIndexEntry(indexFile, identity, known);
    }
    const { sha256, summary } = known;
    const size = stat.size;
    // The embedding becomes an extra graph output: the session is created from patched bytes (or from the
    // optimized-model cache, which then holds the patched graph).
    const embedding = opts.embeddings !== false ? summary.embedding : undefined;
    const patch = embedding !== undefined && !(summary.outputs ?? []).includes(embedding.name);
    const modelBytes = async (): Promise<Uint8Array> => withEmbeddingOutput((bytes ??= await fs.readFile(file)), embedding!);

    const level = opts.graphOptimizationLevel ?? 'all';
    const threads = Math.max(1, Math.floor(opts.intraOpNumThreads ?? defaultThreads()));
    const supported = new Set(
      ort()
        .listSupportedBackends()
        .map((b) => b.name.toLowerCase()),
    );
    const requested = (opts.executionProviders?.length ? opts.executionProviders : ['cpu']).map((p) => p.toLowerCase());
    const chain = [...requested.filter((p) => p !== 'cpu'), 'cpu'];
    const fallbacks: ProviderFallback[] = [];
    const version = ort().env.versions?.node ?? 'unknown';

    let cachePath: string | undefined;
    let cacheState: ModelInfo['optimizedModelCache'] = 'off';
    if (opts.optimizedModelCacheDir) {
      const key = createHash('sha256')
        .update(
          JSON.stringify({
            sha256,
            version,
            level,
            machine: machineKey(),
            extraOutput: patch ? embedding?.name : undefined,
            x64quantprecision: 1,
          }),
        )
        .digest('hex')
        .slice(0, 24);
      cachePath = path.join(opts.optimizedModelCacheDir, `${sha256.slice(0, 16)}-${key}.ort.onnx`);
    }

    let session: import('onnxruntime-node').InferenceSession | undefined;
    let active = 'cpu';
    let patched = patch;
    /** Creates from the patched bytes; a graph ORT refuses once patched loads as it is (no embedding). */
    const create = async (o: import('onnxruntime-node').InferenceSession.SessionOptions) => {
      if (patched) {
        try {
          return await ort().InferenceSession.create(await modelBytes(), o);
        } catch {
          patched = false;
        }
      }
      return ort().InferenceSession.create(file, o);
    };
    for (const provider of chain) {
      if (provider !== 'cpu' && !supported.has(provider)) {
        fallbacks.push({ provider, reason: `not available in this build of onnxruntime-node (available: ${[...supported].join(', ')})` });
        continue;
      }
      // The optimized-model cache only serves CPU sessions: other providers partition the graph themselves.
      const useCache = cachePath !== undefined && provider === 'cpu' && level !== 'disabled';
      const base = {
        executionProviders: [provider],
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        executionMode: 'sequential' as const,
        enableCpuMemArena: true,
        enableMemPattern: true,
        logSeverityLevel: 3 as const,
        extra: {
          session: {
            // x64 CPUs with AVX2 but no VNNI multiply int8 weights with 16-bit saturation (vpmaddubsw), so an int8
            // model's answers drift from the reference (MobileNetV2-int8: espresso 0.37 instead of 0.99) and even
            // change with the batch size. This has ONNX Runtime re-encode int8 weights as uint8, which its exact
            // kernels take; on other CPUs it does nothing.
            x64quantprecision: '1',
            ...(opts.allowSpinning === false ? { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } : {}),
          },
        },
      };
      try {
        if (useCache && cachePath && (await exists(cachePath))) {
          try {
            session = await ort().InferenceSession.create(cachePath, { ...base, graphOptimizationLevel: 'disabled' });
            cacheState = 'hit';
          } catch {
            await fs.rm(cachePath, { force: true }); // a torn or stale cache entry: rebuild it
          }
        }
        if (!session && useCache && cachePath) {
          await fs.mkdir(path.dirname(cachePath), { recursive: true });
          const tmp = `${cachePath}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
          try {
            session = await create({ ...base, graphOptimizationLevel: level, optimizedModelFilePath: tmp });
          } catch (e) {
            await fs.rm(tmp, { force: true });
            throw e;
          }
          cacheState = 'miss';
          await fs.rename(tmp, cachePath).catch(() => fs.rm(tmp, { force: true }));
        }
        if (!session) session = await create({ ...base, graphOptimizationLevel: level });
        active = provider;
        break;
      } catch (e) {
        if (provider === 'cpu') {
          throw new ClassifierError(
            'MODEL_LOAD_FAILED',
            `ONNX Runtime could not load ${file}: ${describeError(e)}. The model may use operators this runtime (${version}) does not support.`,
            { cause: e },
          );
        }
        fallbacks.push({ provider, reason: describeError(e) });
      }
    }
    if (!session) throw new ClassifierError('MODEL_LOAD_FAILED', `No execution provider could load ${file}.`);

    const inputName = session.inputNames[0]!;
    const outputName = session.outputNames[0]!;
    const inMeta = (session as unknown as { inputMetadata?: unknown[] }).inputMetadata?.[0];
    const outMeta = (session as unknown as { outputMetadata?: unknown[] }).outputMetadata?.[0];
    const inputShape = dimsOf(inMeta);
    const outputShape = dimsOf(outMeta);
    const inputType = String((inMeta as { type?: string })?.type ?? 'float32');
    if (inputShape.length !== 4) {
      await session.release();
      throw new ClassifierError(
        'MODEL_LOAD_FAILED',
        `${file} takes an input of shape [${inputShape.join(', ')}]; an image classifier needs [batch, 3, H, W] or [batch, H, W, 3].`,
      );
    }
    if (inputType !== 'float32') {
      await session.release();
      throw new ClassifierError('MODEL_LOAD_FAILED', `${file} takes ${inputType} input; only float32 image tensors are supported.`);
    }
    const layout: TensorLayout = inputShape[1] === 3 ? 'NCHW' : inputShape[3] === 3 ? 'NHWC' : 'NCHW';
    const hw = layout === 'NCHW' ? [inputShape[2], inputShape[3]] : [inputShape[1], inputShape[2]];
    const inputSize: [number, number] = [
      typeof hw[0] === 'number' && hw[0] > 0 ? hw[0] : 224,
      typeof hw[1] === 'number' && hw[1] > 0 ? hw[1] : 224,
    ];
    const b = inputShape[0];
    const dynamicBatch = typeof b !== 'number' || b <= 0;
    const last = outputShape[outputShape.length - 1];
    const classes = typeof last === 'number' && last > 0 ? last : 1000;
    let embeddingInfo: ModelInfo['embedding'];
    const embIndex = embedding ? session.outputNames.indexOf(embedding.name) : -1;
    if (embedding && embIndex > 0) {
      const meta = (session as unknown as { outputMetadata?: unknown[] }).outputMetadata?.[embIndex];
      const dims = dimsOf(meta).slice(1);
      const width = dims.every((d) => typeof d === 'number' && d > 0) ? (dims as number[]).reduce((a, b) => a * b, 1) : 0;
      embeddingInfo = { outputName: embedding.name, dims: width, producer: embedding.producer };
    }

    const info: ModelInfo = {
      path: file,
      sha256,
      bytes: size,
      name: path.basename(file).replace(/\.onnx$/i, ''),
      inputName,
      inputShape,
      inputType,
      layout,
      inputSize,
      outputName,
      outputShape,
      classes,
      ...(embeddingInfo ? { embedding: embeddingInfo } : {}),
      dynamicBatch,
      maxBatch: dynamicBatch ? 1024 : (b as number),
      outputIsProbabilities: summary.lastOpType === 'Softmax',
      ...(summary.irVersion !== undefined ? { irVersion: summary.irVersion } : {}),
      ...(summary.producerName
        ? { producer: `${summary.producerName}${summary.producerVersion ? ' ' + summary.producerVersion : ''}` }
        : {}),
      opsets: summary.opsets,
      nodeCount: summary.nodeCount,
      activeProvider: active,
      requestedProviders: requested,
      providerFallbacks: fallbacks,
      graphOptimizationLevel: level,
      intraOpNumThreads: threads,
      ortVersion: version,
      optimizedModelCache: cacheState,
      loadMs: Math.round(performance.now() - t0),
    };
    return new ModelSession(session, info);
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
  }
}

interface ModelIndexEntry {
  sha256: string;
  summary: OnnxSummary;
}

async function readModelIndex(file: string): Promise<Record<string, ModelIndexEntry>> {
  try {
    const v = JSON.parse(await fs.readFile(file, 'utf8'));
    return v && typeof v === 'object' ? v : {};
  } catch {
    return {}; // missing or torn: recomputed
  }
}

async function writeModelIndexEntry(file: string, key: string, entry: ModelIndexEntry): Promise<void> {
  try {
    await fs.mkdir(path.dirname(file), { recursive: true });
    const all = await readModelIndex(file);
    all[key] = entry;
    const keys = Object.keys(all);
    for (const k of keys.slice(0, Math.max(0, keys.length - 64))) delete all[k];
    const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    await fs.writeFile(tmp, JSON.stringify(all));
    await fs.rename(tmp, file);
  } catch {
    // The index is an optimization only.
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await fs.access(p);
    return true;
  } catch {
    return false;
  }
}
