/**
 * Where inference runs: in this thread (`ModelSession` directly) or in a worker thread, behind one interface.
 */
import { Worker } from 'node:worker_threads';
import { ClassifierError, type ErrorCode } from '../errors.js';
import { findWorkerScript, transferList } from '../threads.js';
import { ModelSession, type BatchOutput, type ModelInfo, type SessionOptions } from '../model/session.js';

export interface InferenceBackend {
  readonly info: ModelInfo;
  /**
   * Runs the first `batch` images of `input` (which may hold more). `giveBack` receives `input` once the backend
   * is done with it, so the caller can reuse the buffer (a worker transfers it out and back). With `embeddings`,
   * the embeddings come along when the model has them (`info.embedding`).
   */
  run(input: Float32Array, batch: number, giveBack?: (input: Float32Array) => void, embeddings?: boolean): Promise<BatchOutput>;
  release(): Promise<void>;
}

export type WorkerRequest =
  | { type: 'load'; id: number; modelPath: string; options: SessionOptions }
  | { type: 'run'; id: number; input: Float32Array; batch: number; embeddings: boolean }
  | { type: 'release'; id: number };

export type WorkerResponse =
  | { type: 'loaded'; id: number; info: ModelInfo }
  | { type: 'result'; id: number; output: BatchOutput; input: Float32Array; ms: number }
  | { type: 'released'; id: number }
  | { type: 'error'; id: number; error: { code: ErrorCode; message: string } };

export function defaultWorkerScript(): string {
  return findWorkerScript('engine/inference-worker.js');
}

export class LocalBackend implements InferenceBackend {
  constructor(private readonly session: ModelSession) {}
  get info(): ModelInfo {
    return this.session.info;
  }
  static async load(modelPath: string, options: SessionOptions): Promise<LocalBackend> {
    return new LocalBackend(await ModelSession.load(modelPath, options));
  }
  async run(input: Float32Array, batch: number, giveBack?: (input: Float32Array) => void, embeddings = false): Promise<BatchOutput> {
    try {
      return await this.session.runOutputs(input, batch, embeddings);
    } finally {
      giveBack?.(input);
    }
  }
  release(): Promise<void> {
    return this.session.release();
  }
}

export class WorkerBackend implements InferenceBackend {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: WorkerResponse) => void; reject: (e: Error) => void }>();
  private dead: Error | undefined;
  private _info!: ModelInfo;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (msg: WorkerResponse) => {
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.type === 'error') p.reject(new ClassifierError(msg.error.code, msg.error.message));
      else p.resolve(msg);
    });
    const fail = (e: Error) => {
      this.dead = e;
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    };
    worker.on('error', (e) => fail(new ClassifierError('INFERENCE_FAILED', `The inference worker crashed: ${e.message}`)));
    worker.on('exit', (code) => fail(new ClassifierError('INFERENCE_FAILED', `The inference worker exited (code ${code}).`)));
  }

  get info(): ModelInfo {
    return this._info;
  }

  static async load(modelPath: string, options: SessionOptions, workerScript = defaultWorkerScript()): Promise<WorkerBackend> {
    const b = new WorkerBackend(new Worker(workerScript, { env: { ...process.env, ORT_DISABLE_TELEMETRY: '1' } }));
    try {
      const r = await b.call({ type: 'load', id: 0, modelPath, options });
      if (r.type !== 'loaded') throw new Error('unexpected reply');
      b._info = r.info;
      return b;
    } catch (e) {
      await b.worker.terminate();
      throw e;
    }
  }

  private call(req: WorkerRequest, transfer: ArrayBuffer[] = []): Promise<WorkerResponse> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...req, id }, transfer);
    });
  }

  /** Note: `input` is transferred to the worker and unusable afterwards; it comes back through `giveBack`. */
  async run(input: Float32Array, batch: number, giveBack?: (input: Float32Array) => void, embeddings = false): Promise<BatchOutput> {
    const r = await this.call({ type: 'run', id: 0, input, batch, embeddings }, transferList(input));
    if (r.type !== 'result') throw new ClassifierError('INTERNAL', 'unexpected reply from the inference worker');
    giveBack?.(r.input);
    return r.output;
  }

  async release(): Promise<void> {
    if (!this.dead) {
      await this.call({ type: 'release', id: 0 }).catch(() => undefined);
    }
    this.dead ??= new ClassifierError('MODEL_NOT_READY', 'The model was unloaded.');
    await this.worker.terminate();
  }
}

export async function loadBackend(
  modelPath: string,
  options: SessionOptions,
  where: { worker?: boolean; workerScript?: string } = {},
): Promise<InferenceBackend> {
  return where.worker === false ? LocalBackend.load(modelPath, options) : WorkerBackend.load(modelPath, options, where.workerScript);
}
