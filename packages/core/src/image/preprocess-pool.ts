/**
 * Decoding and preprocessing in worker threads. Each image's bytes are copied to a worker (they stay the
 * caller's), its output tensor is transferred there and back, so the pool allocates nothing per image and the
 * main thread's garbage collector never sees the decoded pixels (pauses of 5–10 ms that delayed cached answers).
 */
import { Worker } from 'node:worker_threads';
import { ClassifierError, type ErrorCode } from '../errors.js';
import { ownsBuffer, findWorkerScript, transferList } from '../threads.js';
import type { PreprocessConfig, PreprocessResult } from './preprocess.js';
import type { PreprocessingMode } from '@image-classifier/protocol/settings';

export interface PreprocessRequest {
  type: 'run';
  id: number;
  bytes: Uint8Array;
  name: string;
  preprocessing: PreprocessingMode;
  config: PreprocessConfig;
  maxPixels?: number;
  out: Float32Array;
}

export type PreprocessResponse =
  | { type: 'started'; id: number }
  | { type: 'done'; id: number; out: Float32Array; width: number; height: number; format: string }
  | { type: 'error'; id: number; out: Float32Array; error: { code: ErrorCode; message: string; details?: Record<string, unknown> } };

/** `preprocess-worker.js`, preferably beside the inference worker a bundled build names. */
export function defaultPreprocessWorkerScript(besides?: string): string {
  return findWorkerScript('image/preprocess-worker.js', besides);
}

/** How long close() lets decodes in flight finish before it terminates the threads anyway. */
const CLOSE_WAIT_MS = 1_000;

/** How long close() waits for terminated threads (one inside a native render exits only when that returns). */
const TERMINATE_WAIT_MS = 500;

/** The time budget of one decode, unless the pool is given one: after it, the thread is terminated and replaced. */
export const DEFAULT_DECODE_TIMEOUT_MS = 5_000;

/** Overrides the default decode time budget (milliseconds), for tests and for machines slower than most. */
export const DECODE_TIMEOUT_ENV = 'IMAGE_CLASSIFIER_DECODE_TIMEOUT_MS';

/** A thread that has not even picked a request up this long after its budget is treated as over budget. */
const PICKUP_GRACE_MS = 10_000;

/** V8 heap cap of a decoder thread (libvips' pixel buffers are native: the pixel and SVG budgets bound those). */
const WORKER_HEAP_MB = 512;

export interface PreprocessPoolOptions {
  /** The time budget of one decode (default: $IMAGE_CLASSIFIER_DECODE_TIMEOUT_MS, else 5 s). */
  decodeTimeoutMs?: number;
}

function decodeTimeoutFromEnv(): number {
  const v = Number(process.env[DECODE_TIMEOUT_ENV]);
  return Number.isFinite(v) && v > 0 ? v : DEFAULT_DECODE_TIMEOUT_MS;
}

interface Pending {
  resolve: (r: PreprocessResult) => void;
  reject: (e: Error) => void;
  giveBack: (out: Float32Array) => void;
  /** The request as sent, without its tensor (sent again, with a new one, if its thread is replaced). */
  req: Omit<PreprocessRequest, 'out'>;
  /** The tensor's length (it is in the worker meanwhile). */
  outLength: number;
  timer?: NodeJS.Timeout;
}

interface Slot {
  worker: Worker;
  busy: number;
  pending: Map<number, Pending>;
}

/**
 * A cancelled image is answered at once (CANCELLED, a fresh tensor back); its decode runs on, within its time
 * budget, and its result is dropped: stopping a thread for every cancelled hover would cost more than it saves.
 */
function abandon(p: Pending): void {
  const { reject, giveBack, outLength } = p;
  p.resolve = () => undefined;
  p.reject = () => undefined;
  p.giveBack = () => undefined;
  giveBack(new Float32Array(outLength));
  reject(new ClassifierError('CANCELLED', 'The request was cancelled.'));
}

export class PreprocessPool {
  private readonly slots: Slot[] = [];
  private nextId = 1;
  private closed = false;
  private readonly decodeTimeoutMs: number;
  /** Threads terminated over their budget that have not exited yet (one inside a native call exits after it). */
  private readonly dying = new Set<Worker>();

  constructor(
    size: number,
    private readonly script: string = defaultPreprocessWorkerScript(),
    opts: PreprocessPoolOptions = {},
  ) {
    this.decodeTimeoutMs = opts.decodeTimeoutMs ?? decodeTimeoutFromEnv();
    for (let i = 0; i < Math.max(1, size); i++) this.slots.push(this.spawn());
  }

  private spawn(): Slot {
    const worker = new Worker(this.script, { resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB } });
    const slot: Slot = { worker, busy: 0, pending: new Map() };
    slot.worker.on('message', (msg: PreprocessResponse) => {
      const p = slot.pending.get(msg.id);
      if (!p) return;
      if (msg.type === 'started') {
        // The time budget counts from here: not the thread's start-up, nor images ahead of it on another thread.
        clearTimeout(p.timer);
        p.timer = setTimeout(() => this.overBudget(slot, msg.id), this.decodeTimeoutMs).unref();
        return;
      }
      slot.pending.delete(msg.id);
      clearTimeout(p.timer);
      if (--slot.busy === 0) slot.worker.unref();
      p.giveBack(msg.out);
      if (msg.type === 'error') {
        p.reject(new ClassifierError(msg.error.code, msg.error.message, msg.error.details ? { details: msg.error.details } : undefined));
      } else {
        p.resolve({ tensor: msg.out, offset: 0, width: msg.width, height: msg.height, format: msg.format });
      }
    });
    const fail = (why: string) => {
      if (this.dying.has(slot.worker)) return;
      const err = new ClassifierError('INTERNAL', `An image decoder thread stopped (${why}); the image was not classified. Try again.`);
      for (const p of slot.pending.values()) {
        clearTimeout(p.timer);
        p.giveBack(new Float32Array(p.outLength));
        p.reject(err);
      }
      slot.pending.clear();
      slot.busy = 0;
      // Replace it, unless the pool is closing.
      const i = this.slots.indexOf(slot);
      if (!this.closed && i >= 0) this.slots[i] = this.spawn();
    };
    slot.worker.on('error', (e) => fail(e.message));
    slot.worker.on('exit', (code) => {
      if (!this.closed) fail(`exit code ${code}`);
    });
    // Idle workers do not keep the process alive; busy ones do (see run).
    slot.worker.unref();
    return slot;
  }

  /** Loads the image library in every worker now rather than on the first image. */
  preload(): void {
    for (const s of this.slots) s.worker.postMessage({ type: 'preload' });
  }

  /**
   * Decodes and preprocesses `bytes` into `out` (transferred to a worker and back: `giveBack` receives it, also on
   * failure, and it is the tensor of the result). Rejects with the decoder's ClassifierError.
   */
  run(
    bytes: Uint8Array,
    name: string,
    opts: { preprocessing: PreprocessingMode; config: PreprocessConfig; maxPixels?: number; signal?: AbortSignal },
    out: Float32Array,
    giveBack: (out: Float32Array) => void,
  ): Promise<PreprocessResult> {
    if (this.closed) return Promise.reject(new ClassifierError('MODEL_NOT_READY', 'The classifier was closed.'));
    if (opts.signal?.aborted) return Promise.reject(new ClassifierError('CANCELLED', 'The request was cancelled.'));
    const id = this.nextId++;
    // The bytes are copied (structured clone copies a view's whole buffer: give it one of exactly this size).
    const own = ownsBuffer(bytes) ? bytes : bytes.slice();
    const req: Omit<PreprocessRequest, 'out'> = {
      type: 'run',
      id,
      bytes: own,
      name,
      preprocessing: opts.preprocessing,
      config: opts.config,
      ...(opts.maxPixels !== undefined ? { maxPixels: opts.maxPixels } : {}),
    };
    const signal = opts.signal;
    return new Promise((resolve, reject) => {
      const onAbort = () => abandon(p);
      const detach = () => signal?.removeEventListener('abort', onAbort);
      const p: Pending = {
        resolve: (r) => {
          detach();
          resolve(r);
        },
        reject: (e) => {
          detach();
          reject(e);
        },
        giveBack,
        req,
        outLength: out.length,
      };
      this.send(this.leastBusy(), p, out);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private leastBusy(): Slot {
    let slot = this.slots[0]!;
    for (const s of this.slots) if (s.busy < slot.busy) slot = s;
    return slot;
  }

  /** Sends a request to a thread; its time budget starts when the thread picks it up (or, failing that, later). */
  private send(slot: Slot, p: Pending, out: Float32Array): void {
    slot.pending.set(p.req.id, p);
    if (slot.busy++ === 0) slot.worker.ref();
    p.timer = setTimeout(() => this.overBudget(slot, p.req.id), this.decodeTimeoutMs + PICKUP_GRACE_MS).unref();
    slot.worker.postMessage({ ...p.req, out } satisfies PreprocessRequest, transferList(out));
  }

  /**
   * A decode over its time budget: its thread is terminated (not awaited) and replaced, the image fails with
   * IMAGE_TOO_COMPLEX, and the images queued behind it on that thread go to the new one.
   */
  private overBudget(slot: Slot, id: number): void {
    const p = slot.pending.get(id);
    const i = this.slots.indexOf(slot);
    if (!p || i < 0) return;
    slot.pending.delete(id);
    const seconds = this.decodeTimeoutMs / 1000;
    p.giveBack(new Float32Array(p.outLength));
    p.reject(
      new ClassifierError(
        'IMAGE_TOO_COMPLEX',
        `${p.req.name} took longer than ${seconds} s to decode; it was stopped and not classified. Simplify it or convert it to PNG/JPEG.`,
        { details: { timeoutMs: this.decodeTimeoutMs } },
      ),
    );
    const { worker } = slot;
    this.dying.add(worker);
    worker.unref();
    void worker.terminate().finally(() => this.dying.delete(worker));
    if (this.closed) return;
    const fresh = this.spawn();
    this.slots[i] = fresh;
    for (const q of slot.pending.values()) {
      clearTimeout(q.timer);
      this.send(fresh, q, new Float32Array(q.outLength));
    }
    slot.pending.clear();
  }

  /** Lets decodes in flight return first (bounded): stopping a thread inside a native call can abort the process. */
  async close(): Promise<void> {
    this.closed = true;
    const end = Date.now() + CLOSE_WAIT_MS;
    while (this.slots.some((s) => s.pending.size > 0) && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
    const err = new ClassifierError('MODEL_NOT_READY', 'The classifier was closed.');
    for (const s of this.slots) {
      for (const p of s.pending.values()) {
        clearTimeout(p.timer);
        p.reject(err);
      }
      s.pending.clear();
    }
    // A thread inside a long native call (a decode over its budget) exits only when that call returns: not awaited
    // past TERMINATE_WAIT_MS, and unreferenced so that it does not keep the process alive.
    const workers = [...this.slots.map((s) => s.worker), ...this.dying];
    for (const w of workers) w.unref();
    const terminated = Promise.all(workers.map((w) => w.terminate()));
    await Promise.race([terminated, new Promise((r) => setTimeout(r, TERMINATE_WAIT_MS).unref())]);
  }
}
