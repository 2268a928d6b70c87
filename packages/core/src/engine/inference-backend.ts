/**
 * Where inference runs: in this thread (`ModelSession` directly) or in a worker thread, behind one interface.
 */
import { Worker } from 'node:worker_threads';
import { ClassifierError, type ErrorCode } from '../errors.js';
import { findWorkerScript, transferList } from '../threads.js';
import { ModelSession, type BatchOutput, type ModelInfo, type SessionOptions } from '../model/session.js';
import { takePrestartedWorker } from './worker-prestart.js';

export interface InferenceBackend {
  readonly info: ModelInfo;
  /**
   * Runs the first `batch` images of `input` (which may hold more). `giveBack` receives `input` once the backend
   * is done with it, so the caller can reuse the buffer (a worker transfers it out and back). With `embeddings`,
   * the embeddings come along when the model has them (`info.embedding`). `signal` cancels a run that can be
   * cancelled (a remote request); a local run finishes.
   */
  run(
    input: Float32Array,
    batch: number,
    giveBack?: (input: Float32Array) => void,
    embeddings?: boolean,
    signal?: AbortSignal,
  ): Promise<BatchOutput>;
  /** Batches the engine keeps in flight (default 2 with overlapped decoding): a remote server takes several. */
  readonly maxInflight?: number;
  release(): Promise<void>;
  /** Test hook: make the inference thread die as if it had crashed (worker backends only). */
  crashForTest?(): void;
}

export type WorkerRequest =
  | { type: 'load'; id: number; modelPath: string; options: SessionOptions }
  | { type: 'run'; id: number; input: Float32Array; batch: number; embeddings: boolean }
  | { type: 'release'; id: number }
  /** Test hook (see WorkerBackend.crashForTest). */
  | { type: 'crash'; id: number };

export type WorkerResponse =
  | { type: 'loaded'; id: number; info: ModelInfo }
  | { type: 'result'; id: number; output: BatchOutput; input: Float32Array; ms: number }
  | { type: 'released'; id: number }
  /** Unasked, once: the thread has loaded ONNX Runtime's binding (or failed to) and waits for work. */
  | { type: 'ready'; id: 0 }
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

/** At most this many replacements of a dead worker within RESTART_WINDOW_MS; after that the backend stays failed. */
const MAX_RESTARTS = 5;
const RESTART_WINDOW_MS = 60_000;
/** How long release() lets runs in flight return before it terminates the worker anyway. */
const RELEASE_WAIT_MS = 2_000;

interface Pending {
  resolve: (v: WorkerResponse) => void;
  reject: (e: Error) => void;
}

/** Settles with `p`, or after `ms` (whichever comes first); the timer never outlives the race, so it keeps no process alive. */
async function within<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves once `cond()` holds or `ms` have passed (polled: used only on the way out). */
async function until(cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
}

/**
 * ONNX Runtime in a worker thread, supervised: a worker that dies (a native crash, an exit) fails the images it
 * had in flight with INFERENCE_FAILED and is replaced by a fresh one with the same model; later runs wait for it.
 * Release lets runs in flight return before it terminates the thread (stopping a thread inside a native call can
 * abort the whole process).
 */
export class WorkerBackend implements InferenceBackend {
  private nextId = 1;
  private worker!: Worker;
  private pending = new Map<number, Pending>();
  /** Settles when the worker being started (after a crash) has loaded the model. */
  private ready: Promise<void> = Promise.resolve();
  /** Set when the backend can run nothing more: released, or its worker could not be replaced. */
  private dead: Error | undefined;
  private released = false;
  private readonly restartTimes: number[] = [];
  private _info!: ModelInfo;
  /** How many times a dead worker was replaced. */
  restarts = 0;

  private constructor(
    private readonly modelPath: string,
    private readonly options: SessionOptions,
    private readonly script: string,
  ) {}

  get info(): ModelInfo {
    return this._info;
  }

  static async load(modelPath: string, options: SessionOptions, workerScript = defaultWorkerScript()): Promise<WorkerBackend> {
    const b = new WorkerBackend(modelPath, options, workerScript);
    b._info = await b.start();
    return b;
  }

  /** A new worker with the model loaded (terminated again if the load fails). */
  private async start(): Promise<ModelInfo> {
    // The worker prestarted at the program's start (worker-prestart.ts), else a new one.
    const w = takePrestartedWorker(this.script) ?? new Worker(this.script, { env: { ...process.env, ORT_DISABLE_TELEMETRY: '1' } });
    const pending = new Map<number, Pending>();
    this.worker = w;
    this.pending = pending;
    w.on('message', (msg: WorkerResponse) => {
      const p = pending.get(msg.id);
      if (!p) return;
      pending.delete(msg.id);
      if (msg.type === 'error') p.reject(new ClassifierError(msg.error.code, msg.error.message));
      else p.resolve(msg);
    });
    w.on('error', (e) => this.died(w, `crashed (${e.message})`));
    w.on('exit', (code) => this.died(w, `exited (code ${code})`));
    try {
      const r = await this.post(w, pending, { type: 'load', id: 0, modelPath: this.modelPath, options: this.options });
      if (r.type !== 'loaded') throw new Error('unexpected reply');
      return r.info;
    } catch (e) {
      await w.terminate();
      throw e;
    }
  }

  /** The worker `w` stopped: fail what it held and, unless released or crashing in a loop, start another. */
  private died(w: Worker, why: string): void {
    if (w !== this.worker || this.dead) return;
    const lost = [...this.pending.values()];
    this.pending = new Map();
    const err = new ClassifierError(
      'INFERENCE_FAILED',
      `The inference worker ${why}; the images it was classifying were not classified. A new worker is starting: try again.`,
    );
    for (const p of lost) p.reject(err);
    if (this.released) return;
    const now = Date.now();
    while (this.restartTimes.length && now - this.restartTimes[0]! > RESTART_WINDOW_MS) this.restartTimes.shift();
    if (this.restartTimes.length >= MAX_RESTARTS) {
      this.dead = new ClassifierError(
        'INFERENCE_FAILED',
        `The inference worker stopped ${MAX_RESTARTS + 1} times within a minute (last: ${why}); reload the model to try again.`,
      );
      return;
    }
    this.restartTimes.push(now);
    this.ready = this.start().then(
      () => {
        this.restarts++;
      },
      (e: unknown) => {
        this.dead ??= new ClassifierError(
          'INFERENCE_FAILED',
          `The inference worker ${why} and could not be restarted: ${e instanceof Error ? e.message : String(e)}`,
        );
      },
    );
  }

  private post(w: Worker, pending: Map<number, Pending>, req: WorkerRequest, transfer: ArrayBuffer[] = []): Promise<WorkerResponse> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      w.postMessage({ ...req, id }, transfer);
    });
  }

  private async call(req: WorkerRequest, transfer: ArrayBuffer[] = []): Promise<WorkerResponse> {
    await this.ready;
    if (this.released) throw new ClassifierError('MODEL_NOT_READY', 'The model was unloaded.');
    if (this.dead) throw this.dead;
    return this.post(this.worker, this.pending, req, transfer);
  }

  /** Note: `input` is transferred to the worker and unusable afterwards; it comes back through `giveBack`. */
  async run(input: Float32Array, batch: number, giveBack?: (input: Float32Array) => void, embeddings = false): Promise<BatchOutput> {
    const r = await this.call({ type: 'run', id: 0, input, batch, embeddings }, transferList(input));
    if (r.type !== 'result') throw new ClassifierError('INTERNAL', 'unexpected reply from the inference worker');
    giveBack?.(r.input);
    return r.output;
  }

  /** Test hook: the worker exits as if it had crashed when its current (or next) run returns, without answering it. */
  crashForTest(): void {
    if (!this.dead && !this.released) this.worker.postMessage({ type: 'crash', id: 0 } satisfies WorkerRequest);
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await this.ready;
    if (!this.dead) {
      await until(() => this.pending.size === 0, RELEASE_WAIT_MS);
      if (this.pending.size === 0) {
        const bye = this.post(this.worker, this.pending, { type: 'release', id: 0 }).catch(() => undefined);
        await within(bye, RELEASE_WAIT_MS);
      }
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
