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
  | { type: 'done'; id: number; out: Float32Array; width: number; height: number; format: string }
  | { type: 'error'; id: number; out: Float32Array; error: { code: ErrorCode; message: string; details?: Record<string, unknown> } };

/** `preprocess-worker.js`, preferably beside the inference worker a bundled build names. */
export function defaultPreprocessWorkerScript(besides?: string): string {
  return findWorkerScript('image/preprocess-worker.js', besides);
}

/** How long close() lets decodes in flight finish before it terminates the threads anyway. */
const CLOSE_WAIT_MS = 2_000;

interface Pending {
  resolve: (r: PreprocessResult) => void;
  reject: (e: Error) => void;
  giveBack: (out: Float32Array) => void;
}

interface Slot {
  worker: Worker;
  busy: number;
  pending: Map<number, Pending>;
}

export class PreprocessPool {
  private readonly slots: Slot[] = [];
  private nextId = 1;
  private closed = false;

  constructor(
    size: number,
    private readonly script: string = defaultPreprocessWorkerScript(),
  ) {
    for (let i = 0; i < Math.max(1, size); i++) this.slots.push(this.spawn());
  }

  private spawn(): Slot {
    const slot: Slot = { worker: new Worker(this.script), busy: 0, pending: new Map() };
    slot.worker.on('message', (msg: PreprocessResponse) => {
      const p = slot.pending.get(msg.id);
      if (!p) return;
      slot.pending.delete(msg.id);
      if (--slot.busy === 0) slot.worker.unref();
      p.giveBack(msg.out);
      if (msg.type === 'error') {
        p.reject(new ClassifierError(msg.error.code, msg.error.message, msg.error.details ? { details: msg.error.details } : undefined));
      } else {
        p.resolve({ tensor: msg.out, offset: 0, width: msg.width, height: msg.height, format: msg.format });
      }
    });
    const fail = (why: string) => {
      const err = new ClassifierError('INTERNAL', `An image decoder thread stopped (${why}); the image was not classified. Try again.`);
      for (const p of slot.pending.values()) p.reject(err);
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
    opts: { preprocessing: PreprocessingMode; config: PreprocessConfig; maxPixels?: number },
    out: Float32Array,
    giveBack: (out: Float32Array) => void,
  ): Promise<PreprocessResult> {
    if (this.closed) return Promise.reject(new ClassifierError('MODEL_NOT_READY', 'The classifier was closed.'));
    let slot = this.slots[0]!;
    for (const s of this.slots) if (s.busy < slot.busy) slot = s;
    const id = this.nextId++;
    // The bytes are copied (structured clone copies a view's whole buffer: give it one of exactly this size).
    const own = ownsBuffer(bytes) ? bytes : bytes.slice();
    return new Promise((resolve, reject) => {
      slot.pending.set(id, { resolve, reject, giveBack });
      if (slot.busy++ === 0) slot.worker.ref();
      const req: PreprocessRequest = {
        type: 'run',
        id,
        bytes: own,
        name,
        preprocessing: opts.preprocessing,
        config: opts.config,
        out,
        ...(opts.maxPixels !== undefined ? { maxPixels: opts.maxPixels } : {}),
      };
      slot.worker.postMessage(req, transferList(out));
    });
  }

  /** Lets decodes in flight return first (bounded): stopping a thread inside a native call can abort the process. */
  async close(): Promise<void> {
    this.closed = true;
    const end = Date.now() + CLOSE_WAIT_MS;
    while (this.slots.some((s) => s.pending.size > 0) && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
    const err = new ClassifierError('MODEL_NOT_READY', 'The classifier was closed.');
    for (const s of this.slots) {
      for (const p of s.pending.values()) p.reject(err);
      s.pending.clear();
    }
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
