/**
 * Decoding and preprocessing in decoder processes. Each image's bytes are copied to a decoder (they stay the
 * caller's) and its tensor is copied back into the caller's `out`, so the main thread's garbage collector never
 * sees the decoded pixels (pauses of 5–10 ms that delayed cached answers).
 *
 * Processes, not worker threads: a decode cannot be interrupted inside libvips/librsvg, and a worker thread
 * terminated there still holds its native call, its memory and its CPU, and the process's exit waits for it
 * (libuv joins its thread pool). A decoder process over its time budget is killed (SIGKILL) and replaced: the
 * image fails with IMAGE_TOO_COMPLEX, the others go on, shutdown never waits for it.
 *
 * JPEGs the WebAssembly decoder takes go to decoder threads instead (decoder-threads.ts: WebAssembly stops when its
 * thread is terminated), which write the tensor in place: no copies through a pipe, no normalization here.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { cancelled, ClassifierError } from '../errors.js';
import { findWorkerScript } from '../threads.js';
import { DecoderThreads } from './decoder-threads.js';
import { normalizeInto, type PreprocessConfig, type PreprocessResult } from './preprocess.js';
import {
  type DecoderRequest,
  fromDecoderError,
  overBudgetError,
  type PreprocessRequest,
  type PreprocessResponse,
  type ThumbnailRequest,
} from './decoder-messages.js';
import type { Thumbnail } from './thumbnail.js';
import type { PreprocessingMode } from '@image-classifier/protocol/settings';

export type { DecoderRequest, PreprocessRequest, PreprocessResponse, ThumbnailRequest } from './decoder-messages.js';

type Answer = Exclude<PreprocessResponse, { type: 'started' } | { type: 'ready' } | { type: 'error' }>;

/** `preprocess-worker.js`, preferably beside the inference worker a bundled build names. */
export function defaultPreprocessWorkerScript(besides?: string): string {
  return findWorkerScript('image/preprocess-worker.js', besides);
}

/** How long close() lets decodes in flight finish before it kills the decoders anyway. */
const CLOSE_WAIT_MS = 1_000;

/** How long close() waits for the killed decoders to be reaped. */
const REAP_WAIT_MS = 200;

/** Resolves when `child` has exited (at once if it has). */
function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((r) => child.once('exit', () => r()));
}

/** The time budget of one decode, unless the pool is given one: after it, the decoder is killed and replaced. */
export const DEFAULT_DECODE_TIMEOUT_MS = 5_000;

/** Overrides the default decode time budget (milliseconds), for tests and for machines slower than most. */
export const DECODE_TIMEOUT_ENV = 'IMAGE_CLASSIFIER_DECODE_TIMEOUT_MS';

/** A decoder that has not even picked a request up this long after its budget is treated as over budget. */
const PICKUP_GRACE_MS = 10_000;

/** Requests up to this size sent to an idle decoder start their budget when sent (larger ones when picked up). */
const UNANNOUNCED_MAX_BYTES = 4 * 1024 * 1024;

/** V8 heap cap of a decoder (libvips' pixel buffers are native: the pixel and SVG budgets bound those). */
const DECODER_HEAP_MB = 512;

export interface PreprocessPoolOptions {
  /** The time budget of one decode (default: $IMAGE_CLASSIFIER_DECODE_TIMEOUT_MS, else 5 s). */
  decodeTimeoutMs?: number;
  /** Scheduling priority of the decoder processes and threads (nice; Linux, where they set it themselves before any work). */
  nice?: number;
  /** Decoder threads for the JPEGs the WebAssembly decoder takes (default: as many as decoder processes; 0: none; $IMAGE_CLASSIFIER_DECODER_THREADS=0 also). */
  threads?: number;
}

/** `0` turns decoder threads off: every image then decodes in a decoder process (A/B benchmarks, a fallback). */
export const DECODER_THREADS_ENV = 'IMAGE_CLASSIFIER_DECODER_THREADS';

/** Tells a decoder process its nice value. */
export const DECODER_NICE_ENV = 'IMAGE_CLASSIFIER_DECODER_NICE';

function decodeTimeoutFromEnv(): number {
  const v = Number(process.env[DECODE_TIMEOUT_ENV]);
  return Number.isFinite(v) && v > 0 ? v : DEFAULT_DECODE_TIMEOUT_MS;
}

interface Pending {
  /** The decoder's answer (never called once abandoned or failed). */
  answer: (msg: Answer) => void;
  /** Fails the job (the caller's tensor goes back first). */
  fail: (e: Error) => void;
  req: DecoderRequest;
  /** Cancelled: answered already, the decoder's answer is dropped. */
  abandoned?: boolean;
  timer?: NodeJS.Timeout;
}

interface Slot {
  child: ChildProcess;
  busy: number;
  pending: Map<number, Pending>;
  /** It has sent a message: it is up, and when not busy its event loop picks a request up at once. */
  up: boolean;
}

/**
 * A cancelled image is answered at once (CANCELLED, its tensor back); its decode runs on, within its time budget,
 * and its result is dropped: killing a decoder for every cancelled hover would cost more than it saves.
 */
function abandon(p: Pending): void {
  if (p.abandoned) return;
  p.abandoned = true;
  p.fail(cancelled());
}

function settle(p: Pending, msg: PreprocessResponse): void {
  if (p.abandoned || msg.type === 'started' || msg.type === 'ready') return;
  if (msg.type === 'error') {
    p.fail(fromDecoderError(msg.error));
    return;
  }
  p.answer(msg);
}

/** A tensor job's answer → its result: the crop normalized into the caller's tensor (the values the decoder would make). */
function tensorAnswer(out: Float32Array, config: PreprocessConfig, msg: Answer): PreprocessResult {
  if (msg.type !== 'done') throw new ClassifierError('INTERNAL', `The decoder answered a tensor job with ${msg.type}.`);
  const [h, w] = config.cropSize;
  if (msg.cropWidth !== w || msg.cropHeight !== h || msg.rgb.length !== w * h * 3 || out.length !== w * h * 3) {
    throw new ClassifierError('INTERNAL', `The decoder returned a ${msg.cropWidth}×${msg.cropHeight} crop for a ${w}×${h} tensor.`);
  }
  normalizeInto({ data: msg.rgb, width: w, height: h }, config, out, 0);
  return { tensor: out, offset: 0, width: msg.width, height: msg.height, format: msg.format };
}

function setRef(child: ChildProcess, on: boolean): void {
  const channel = child.channel as { ref?: () => void; unref?: () => void } | null | undefined;
  if (on) {
    child.ref();
    channel?.ref?.();
  } else {
    child.unref();
    channel?.unref?.();
  }
}

export class PreprocessPool {
  private readonly slots: Slot[] = [];
  private nextId = 1;
  private closed = false;
  private readonly decodeTimeoutMs: number;
  private readonly nice: number;
  private readonly threads: DecoderThreads | undefined;

  constructor(
    size: number,
    private readonly script: string = defaultPreprocessWorkerScript(),
    opts: PreprocessPoolOptions = {},
  ) {
    this.decodeTimeoutMs = opts.decodeTimeoutMs ?? decodeTimeoutFromEnv();
    this.nice = opts.nice ?? 0;
    for (let i = 0; i < Math.max(1, size); i++) this.slots.push(this.spawn());
    const threads = process.env[DECODER_THREADS_ENV] === '0' ? 0 : (opts.threads ?? Math.max(1, size));
    this.threads =
      threads > 0 ? new DecoderThreads({ size: threads, script, decodeTimeoutMs: this.decodeTimeoutMs, nice: this.nice }) : undefined;
  }

  private spawn(): Slot {
    const child = fork(this.script, [], {
      serialization: 'advanced',
      // stdout is the server's JSON-RPC stream: a decoder never writes there.
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      execArgv: [`--max-old-space-size=${DECODER_HEAP_MB}`],
      env: { ...process.env, [DECODER_NICE_ENV]: String(this.nice) },
    });
    const slot: Slot = { child, busy: 0, pending: new Map(), up: false };
    child.on('message', (msg: PreprocessResponse) => {
      slot.up = true;
      const p = slot.pending.get(msg.id);
      if (!p) return;
      clearTimeout(p.timer);
      if (msg.type === 'started') {
        // The time budget counts from here: not the decoder's start-up, nor images ahead of it elsewhere.
        p.timer = setTimeout(() => this.overBudget(slot, msg.id), this.decodeTimeoutMs).unref();
        return;
      }
      slot.pending.delete(msg.id);
      if (--slot.busy === 0) setRef(child, false);
      settle(p, msg);
    });
    const fail = (why: string) => {
      const i = this.slots.indexOf(slot);
      if (i < 0) return; // replaced already (killed over its budget)
      const err = new ClassifierError('INTERNAL', `An image decoder stopped (${why}); the image was not decoded. Try again.`);
      for (const p of slot.pending.values()) {
        clearTimeout(p.timer);
        if (!p.abandoned) p.fail(err);
      }
      slot.pending.clear();
      slot.busy = 0;
      if (!this.closed) this.slots[i] = this.spawn();
    };
    child.on('error', (e) => fail(e.message));
    child.on('exit', (code, signal) => {
      if (!this.closed) fail(signal ? `signal ${signal}` : `exit code ${code}`);
    });
    // Idle decoders do not keep the process alive; busy ones do (see send).
    setRef(child, false);
    return slot;
  }

  /** What the decoder threads did (undefined without them): see DecoderThreads.counts. */
  get threadCounts(): Readonly<DecoderThreads['counts']> | undefined {
    return this.threads?.counts;
  }

  /** The decoder threads' ids (Linux), by lane: see DecoderThreads.threadIds. */
  get decoderThreadIds(): DecoderThreads['threadIds'] | undefined {
    return this.threads?.threadIds;
  }

  /** Loads the image library in every decoder now rather than on the first image. */
  preload(): void {
    for (const s of this.slots) s.child.send({ type: 'preload' }, () => undefined);
  }

  /**
   * Decodes and preprocesses `bytes` into `out` (`giveBack` receives it, also on failure, and it is the tensor of
   * the result). Rejects with the decoder's ClassifierError; IMAGE_TOO_COMPLEX past the time budget; CANCELLED
   * at once when `signal` aborts. `interactive`: a request someone waits for (a decoder thread of its own).
   */
  async run(
    bytes: Uint8Array,
    name: string,
    opts: { preprocessing: PreprocessingMode; config: PreprocessConfig; maxPixels?: number; signal?: AbortSignal; interactive?: boolean },
    out: Float32Array,
    giveBack: (out: Float32Array) => void,
  ): Promise<PreprocessResult> {
    if (!this.closed && this.threads?.takes(bytes, opts, out)) {
      return this.threads.decode(bytes, name, opts, out, giveBack, (back) => this.inProcess(bytes, name, opts, back, giveBack));
    }
    return this.inProcess(bytes, name, opts, out, giveBack);
  }

  private inProcess(
    bytes: Uint8Array,
    name: string,
    opts: { preprocessing: PreprocessingMode; config: PreprocessConfig; maxPixels?: number; signal?: AbortSignal },
    out: Float32Array,
    giveBack: (out: Float32Array) => void,
  ): Promise<PreprocessResult> {
    const req: PreprocessRequest = {
      type: 'run',
      id: this.nextId++,
      bytes,
      name,
      preprocessing: opts.preprocessing,
      config: opts.config,
      ...(opts.maxPixels !== undefined ? { maxPixels: opts.maxPixels } : {}),
    };
    let given = false;
    const back = () => {
      if (!given) giveBack(out);
      given = true;
    };
    return this.submit(req, opts.signal, back, (msg) => {
      back();
      return tensorAnswer(out, opts.config, msg);
    });
  }

  /**
   * A WebP thumbnail of `bytes` (longest side ≤ `size`), made in a decoder under the same time budget and guards
   * as `run`: IMAGE_TOO_COMPLEX past the budget, the decoder's ClassifierError otherwise, CANCELLED on `signal`.
   */
  thumbnail(bytes: Uint8Array, name: string, opts: { size: number; maxPixels?: number; signal?: AbortSignal }): Promise<Thumbnail> {
    const req: ThumbnailRequest = {
      type: 'thumbnail',
      id: this.nextId++,
      bytes,
      name,
      size: opts.size,
      ...(opts.maxPixels !== undefined ? { maxPixels: opts.maxPixels } : {}),
    };
    return this.submit(
      req,
      opts.signal,
      () => undefined,
      (msg) => {
        if (msg.type !== 'thumbnail') throw new ClassifierError('INTERNAL', `The decoder answered a thumbnail job with ${msg.type}.`);
        return msg.thumbnail;
      },
    );
  }

  /** Sends `req` to the least busy decoder; `release` runs before any failure, `take` turns the answer into the result. */
  private submit<T>(req: DecoderRequest, signal: AbortSignal | undefined, release: () => void, take: (msg: Answer) => T): Promise<T> {
    if (this.closed) return Promise.reject(new ClassifierError('MODEL_NOT_READY', 'The classifier was closed.'));
    if (signal?.aborted) return Promise.reject(cancelled());
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => abandon(p);
      const detach = () => signal?.removeEventListener('abort', onAbort);
      const p: Pending = {
        answer: (msg) => {
          detach();
          try {
            resolve(take(msg));
          } catch (e) {
            reject(e);
          }
        },
        fail: (e) => {
          detach();
          release();
          reject(e);
        },
        req,
      };
      this.send(this.leastBusy(), p);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private leastBusy(): Slot {
    let slot = this.slots[0]!;
    for (const s of this.slots) if (s.busy < slot.busy) slot = s;
    return slot;
  }

  /**
   * Sends a request to a decoder; its time budget starts when the decoder picks it up (or, failing that, later). A
   * decoder that is up and idle picks a small request up at once: its budget starts now, without a `started`
   * message. A large one announces its pickup, so the time to copy it through the pipe is not part of the budget.
   */
  private send(slot: Slot, p: Pending): void {
    slot.pending.set(p.req.id, p);
    const idle = slot.busy++ === 0;
    if (idle) setRef(slot.child, true);
    p.req.ack = !(idle && slot.up && p.req.bytes.byteLength <= UNANNOUNCED_MAX_BYTES);
    const budget = p.req.ack ? this.decodeTimeoutMs + PICKUP_GRACE_MS : this.decodeTimeoutMs;
    p.timer = setTimeout(() => this.overBudget(slot, p.req.id), budget).unref();
    slot.child.send(p.req, () => undefined);
  }

  /**
   * A decode over its time budget: its decoder is killed and replaced, the image fails with IMAGE_TOO_COMPLEX,
   * and the images queued behind it on that decoder go to the new one.
   */
  private overBudget(slot: Slot, id: number): void {
    const p = slot.pending.get(id);
    const i = this.slots.indexOf(slot);
    if (!p || i < 0) return;
    slot.pending.delete(id);
    if (!p.abandoned) {
      p.fail(overBudgetError(p.req.name, this.decodeTimeoutMs, p.req.type === 'thumbnail'));
    }
    setRef(slot.child, false);
    slot.child.kill('SIGKILL');
    if (this.closed) return;
    const fresh = this.spawn();
    this.slots[i] = fresh;
    for (const q of slot.pending.values()) {
      clearTimeout(q.timer);
      this.send(fresh, q);
    }
    slot.pending.clear();
  }

  /** Lets decodes in flight return first (bounded), then kills the decoders: nothing waits on a stuck decode. */
  async close(): Promise<void> {
    this.closed = true;
    const end = Date.now() + CLOSE_WAIT_MS;
    while ((this.threads?.busy || this.slots.some((s) => [...s.pending.values()].some((p) => !p.abandoned))) && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 5));
    }
    const threadsEnded = this.threads?.close();
    const err = new ClassifierError('MODEL_NOT_READY', 'The classifier was closed.');
    const gone: Array<Promise<void>> = [];
    for (const s of this.slots) {
      for (const p of s.pending.values()) {
        clearTimeout(p.timer);
        if (!p.abandoned) p.fail(err);
      }
      s.pending.clear();
      setRef(s.child, false);
      gone.push(exited(s.child));
      s.child.kill('SIGKILL');
    }
    // Reaped before close() returns (a killed process is gone within a millisecond or two): no decoder outlives
    // the classifier, and its CPU time is counted to this process (a command-line run ends with its whole tree).
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(gone), new Promise<void>((r) => (timer = setTimeout(r, REAP_WAIT_MS)))]);
    clearTimeout(timer);
    await threadsEnded;
  }
}
