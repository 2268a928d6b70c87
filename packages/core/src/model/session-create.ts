/**
 * The steps of `ModelSession.load` after reading the model (model-file.ts): creating the ONNX Runtime session down
 * the execution-provider chain with the optimized-model cache and the embedding-patched graph, and reading the
 * session's inputs and outputs.
 */
import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { InferenceSession } from 'onnxruntime-node';
import { renameReplacing } from '@image-classifier/protocol/platform';
import type { GraphOptimization } from '@image-classifier/protocol/settings';
import { ClassifierError } from '../errors.js';
import { readRegularFile } from '../fs/regular-file.js';
import type { TensorLayout } from '../image/preprocess.js';
import { type EmbeddingTensor, withEmbeddingOutput } from './onnx-inspect.js';
import { describeError, ort } from './ort.js';
import type { ModelInfo, ProviderFallback } from './session.js';

/** Machine identity for the optimized-model cache (ORT's `all` level emits CPU-specific layouts). */
function machineKey(): string {
  const cpu = os.cpus()[0]?.model ?? 'cpu';
  return createHash('sha256').update(`${os.platform()}|${os.arch()}|${cpu}`).digest('hex').slice(0, 12);
}

async function exists(p: string): Promise<boolean> {
  try {
    await fs.access(p);
    return true;
  } catch {
    return false;
  }
}

/** What `createSession` needs to know. */
export interface CreatePlan {
  file: string;
  sha256: string;
  /** The embedding tensor to output, if any. */
  embedding: EmbeddingTensor | undefined;
  /** The embedding is not a graph output yet: sessions are created from patched bytes. */
  patch: boolean;
  /** The model's bytes, when already read. */
  bytes: Buffer | undefined;
  level: GraphOptimization;
  threads: number;
  allowSpinning: boolean | undefined;
  /** Requested execution providers, lowercased. */
  requested: string[];
  /** onnxruntime-node's version. */
  version: string;
  cacheDir: string | false | undefined;
}

export interface CreatedSession {
  session: InferenceSession;
  /** The bytes the session runs from (a cached ORT-format model): they must live as long as the session. */
  modelBytes?: Uint8Array;
  activeProvider: string;
  providerFallbacks: ProviderFallback[];
  optimizedModelCache: ModelInfo['optimizedModelCache'];
  optimizedModelCacheError?: string;
}

/** Where the optimized model for this plan is cached, when caching is on. */
function optimizedModelPath(plan: CreatePlan): string | undefined {
  if (!plan.cacheDir) return undefined;
  const { sha256, version, level, patch, embedding } = plan;
  const key = createHash('sha256')
    .update(
      JSON.stringify({
        sha256,
        version,
        level,
        machine: machineKey(),
        extraOutput: patch ? embedding?.name : undefined,
        x64quantprecision: 1,
        format: 'ort',
      }),
    )
    .digest('hex')
    .slice(0, 24);
  return path.join(plan.cacheDir, `${sha256.slice(0, 16)}-${key}.ort`);
}

/**
 * The optimized model is cached in ONNX Runtime's own format (a flatbuffer) and a hit is created from its bytes,
 * which the session then uses in place, initializers included, instead of parsing a protobuf and copying ~100 MB
 * of weights out of it: ResNet50's session is ready ≈ 40 ms sooner, with ≈ 20 ms less CPU, and answers the same.
 */
const SAVE_ORT_FORMAT = { save_model_format: 'ORT' } as const;
const RUN_FROM_ORT_BYTES = {
  load_model_format: 'ORT',
  use_ort_model_bytes_directly: '1',
  use_ort_model_bytes_for_initializers: '1',
} as const;

/** `base` with extra session config entries. */
function withSessionConfig(base: ReturnType<typeof baseOptions>, entries: Record<string, string>): ReturnType<typeof baseOptions> {
  return { ...base, extra: { ...base.extra, session: { ...base.extra.session, ...entries } } };
}

/** Creates from the patched bytes; a graph ORT refuses once patched loads as it is (no embedding). */
class ModelSource {
  private patched: boolean;
  private bytes: Buffer | undefined;

  constructor(private readonly plan: CreatePlan) {
    this.patched = plan.patch;
    this.bytes = plan.bytes;
  }

  async create(o: InferenceSession.SessionOptions): Promise<InferenceSession> {
    if (this.patched) {
      try {
        return await ort().InferenceSession.create(await this.modelBytes(), o);
      } catch {
        this.patched = false;
      }
    }
    return ort().InferenceSession.create(this.plan.file, o);
  }

  private async modelBytes(): Promise<Uint8Array> {
    return withEmbeddingOutput((this.bytes ??= await readRegularFile(this.plan.file)), this.plan.embedding!);
  }
}

function baseOptions(provider: string, threads: number, allowSpinning: boolean | undefined) {
  return {
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
        ...(allowSpinning === false ? { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } : {}),
      },
    },
  };
}

type Created = Pick<CreatedSession, 'session' | 'modelBytes' | 'optimizedModelCache' | 'optimizedModelCacheError'>;

/**
 * Removes this model's entries in the cache's earlier form (`<sha>-<key>.ort.onnx`, ONNX protobufs, ~100 MB each for
 * ResNet50) once its ORT-format entry is written: nothing reads them any more.
 */
async function removeProtobufEntries(cachePath: string): Promise<void> {
  const dir = path.dirname(cachePath);
  const prefix = `${path.basename(cachePath).split('-')[0]}-`;
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  const old = names.filter((n) => n.startsWith(prefix) && n.endsWith('.ort.onnx'));
  await Promise.all(old.map((n) => fs.rm(path.join(dir, n), { force: true }).catch(() => {})));
}

/** Creates the cache folder and a writable temp file there; the reason when it cannot (read-only, full, not a folder). */
async function prepareCacheWrite(cachePath: string, tmp: string): Promise<string | undefined> {
  try {
    await fs.mkdir(path.dirname(cachePath), { recursive: true });
    await fs.writeFile(tmp, '');
    return undefined;
  } catch (e) {
    await fs.rm(tmp, { force: true }).catch(() => {});
    return describeError(e);
  }
}

/**
 * One provider's session: from the optimized-model cache when `cachePath` is given (filling it on a miss). The
 * cache is a speed-up only: a folder that cannot be written (read-only, full, not a folder) loads the model without
 * it and says why in `optimizedModelCacheError`; a read-only cache still serves its hits.
 */
async function createWith(
  source: ModelSource,
  base: ReturnType<typeof baseOptions>,
  level: GraphOptimization,
  cachePath: string | undefined,
): Promise<Created> {
  if (cachePath === undefined)
    return { session: await source.create({ ...base, graphOptimizationLevel: level }), optimizedModelCache: 'off' };
  if (await exists(cachePath)) {
    try {
      const modelBytes = await readRegularFile(cachePath);
      const session = await ort().InferenceSession.create(modelBytes, {
        ...withSessionConfig(base, RUN_FROM_ORT_BYTES),
        graphOptimizationLevel: 'disabled',
      });
      return { session, modelBytes, optimizedModelCache: 'hit' };
    } catch {
      await fs.rm(cachePath, { force: true }).catch(() => {}); // a torn or stale cache entry: rebuild it
    }
  }
  const tmp = `${cachePath}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const uncached = async (why: string): Promise<Created> => {
    await fs.rm(tmp, { force: true }).catch(() => {});
    const session = await source.create({ ...base, graphOptimizationLevel: level });
    return { session, optimizedModelCache: 'off', optimizedModelCacheError: `cannot write ${path.dirname(cachePath)}: ${why}` };
  };
  const cannot = await prepareCacheWrite(cachePath, tmp);
  if (cannot !== undefined) return uncached(cannot);
  let session: InferenceSession;
  try {
    session = await source.create({
      ...withSessionConfig(base, SAVE_ORT_FORMAT),
      graphOptimizationLevel: level,
      optimizedModelFilePath: tmp,
    });
  } catch (e) {
    // ORT fails the whole load when it cannot write the optimized model (a full disk, a quota): load it without.
    return uncached(describeError(e));
  }
  // Windows: another window's server may hold the cached model open for a moment (renameReplacing retries).
  const renamed = await renameReplacing(fs.rename, tmp, cachePath).then(
    () => undefined,
    (e: unknown) => describeError(e),
  );
  if (renamed === undefined) {
    await removeProtobufEntries(cachePath);
    return { session, optimizedModelCache: 'miss' };
  }
  await fs.rm(tmp, { force: true }).catch(() => {});
  return { session, optimizedModelCache: 'off', optimizedModelCacheError: `cannot write ${cachePath}: ${renamed}` };
}

/** Tries the requested providers in order, then CPU; MODEL_LOAD_FAILED when CPU fails too. */
export async function createSession(plan: CreatePlan): Promise<CreatedSession> {
  const { file, level } = plan;
  const supported = new Set(
    ort()
      .listSupportedBackends()
      .map((b) => b.name.toLowerCase()),
  );
  const chain = [...plan.requested.filter((p) => p !== 'cpu'), 'cpu'];
  const providerFallbacks: ProviderFallback[] = [];
  const cachePath = optimizedModelPath(plan);
  const source = new ModelSource(plan);
  for (const provider of chain) {
    if (provider !== 'cpu' && !supported.has(provider)) {
      providerFallbacks.push({
        provider,
        reason: `not available in this build of onnxruntime-node (available: ${[...supported].join(', ')})`,
      });
      continue;
    }
    // The optimized-model cache only serves CPU sessions: other providers partition the graph themselves.
    const useCache = cachePath !== undefined && provider === 'cpu' && level !== 'disabled';
    try {
      const base = baseOptions(provider, plan.threads, plan.allowSpinning);
      const created = await createWith(source, base, level, useCache ? cachePath : undefined);
      return { ...created, activeProvider: provider, providerFallbacks };
    } catch (e) {
      if (provider === 'cpu') {
        throw new ClassifierError(
          'MODEL_LOAD_FAILED',
          `ONNX Runtime could not load ${file}: ${describeError(e)}. The model may use operators this runtime (${plan.version}) does not support.`,
          { cause: e },
        );
      }
      providerFallbacks.push({ provider, reason: describeError(e) });
    }
  }
  throw new ClassifierError('MODEL_LOAD_FAILED', `No execution provider could load ${file}.`);
}

function dimsOf(meta: unknown): Array<number | string> {
  const m = meta as { shape?: Array<number | string> };
  return Array.isArray(m?.shape) ? m.shape : [];
}

/** The ModelInfo fields read from the session's inputs and outputs. */
export type SessionIO = Pick<
  ModelInfo,
  | 'inputName'
  | 'inputShape'
  | 'inputType'
  | 'layout'
  | 'inputSize'
  | 'outputName'
  | 'outputShape'
  | 'classes'
  | 'embedding'
  | 'dynamicBatch'
  | 'maxBatch'
>;

/** Reads the session's input and outputs; releases it and throws MODEL_LOAD_FAILED unless it takes float32 images. */
export async function describeSession(session: InferenceSession, file: string, embedding: EmbeddingTensor | undefined): Promise<SessionIO> {
  const inputName = session.inputNames[0]!;
  const outputName = session.outputNames[0]!;
  const outputMetadata = (session as unknown as { outputMetadata?: unknown[] }).outputMetadata;
  const inMeta = (session as unknown as { inputMetadata?: unknown[] }).inputMetadata?.[0];
  const inputShape = dimsOf(inMeta);
  const outputShape = dimsOf(outputMetadata?.[0]);
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
    const dims = dimsOf(outputMetadata?.[embIndex]).slice(1);
    const width = dims.every((d) => typeof d === 'number' && d > 0) ? (dims as number[]).reduce((a, b) => a * b, 1) : 0;
    embeddingInfo = { outputName: embedding.name, dims: width, producer: embedding.producer };
  }
  const io = { inputName, inputShape, inputType, layout, inputSize, outputName, outputShape, classes };
  return { ...io, ...(embeddingInfo ? { embedding: embeddingInfo } : {}), dynamicBatch, maxBatch: dynamicBatch ? 1024 : (b as number) };
}
