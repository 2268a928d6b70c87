/**
 * Decoder threads: JPEGs the WebAssembly decoder takes are decoded, cropped and normalized in worker threads of
 * this process, straight into the caller's tensor (transferred there and back). A decoder process costs each image
 * two copies through a pipe, the crop's normalization here and a hand-over in each event loop (0.5–1 ms of CPU
 * an image, measured: BENCHMARKS.md); a thread costs none of that.
 *
 * Threads are safe here where they were not for libvips (preprocess-pool.ts): WebAssembly code stops when its
 * thread is terminated, its memory is bounded (the decoder takes at most WASM_JPEG_MAX_PIXELS, threads at most
 * THREAD_MAX_PIXELS) and it is JavaScript memory, given back when the thread ends. A decode over the time budget
 * (its thread's CPU time, on Linux) terminates its thread (IMAGE_TOO_COMPLEX); anything the WebAssembly decoder
 * declines, and every job after the threads fail to start, goes back to the caller for a decoder process.
 *
 * Two lanes: bulk decodes (folders) in up to `size` threads; interactive ones (a hover, one image) in a thread of
 * their own, started on the first such request (an idle bulk thread serves meanwhile), so that an interactive image
 * never waits behind a folder's decodes.
 */
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { cancelled } from '../errors.js';
import { ownsBuffer, transferList } from '../threads.js';
import { DEFAULT_MAX_PIXELS, sniffFormat } from './decode.js';
import { fromDecoderError, overBudgetError, type ThreadRequest, type ThreadResponse } from './decoder-messages.js';
import { type JpegFrame, plainJpegPlan } from './jpeg-frame.js';
import { wasmTakes } from './jpeg-wasm.js';
import { fastJpegPlan, type PreprocessConfig, type PreprocessResult, tensorElements } from './preprocess.js';
import type { PreprocessingMode } from '@image-classifier/protocol/settings';

/** Larger JPEGs go to decoder processes, whose memory is not this process's. */
export const THREAD_MAX_PIXELS = 24_000_000;

/** V8 heap cap of a decoder thread: the pixels are WebAssembly memory, outside it; its own work allocates little. */
const THREAD_HEAP_MB = 64;

/** Threads that fail before they are up, in a row, after which jobs go to decoder processes. */
const MAX_START_FAILURES = 3;

/**
 * The JPEG's frame where `mode`'s crop of these bytes is the exact path over the WebAssembly JPEG decoder (a JPEG
 * it takes, in `exact`, or in `fast` where fastResizeCrop goes straight to the exact path), which a decoder thread
 * can make. Reads the header alone; the decode may still decline (a libjpeg warning…).
 */
function wasmCropPlanned(bytes: Uint8Array, mode: PreprocessingMode, c: PreprocessConfig, maxPixels: number): JpegFrame | undefined {
  if (sniffFormat(bytes) !== 'jpeg') return undefined;
  const plan = plainJpegPlan(bytes, () => undefined);
  if (!plan || !wasmTakes(plan, false)) return undefined;
  return mode === 'exact' || fastJpegPlan(plan.frame, c, maxPixels, () => true) === 'exact' ? plan.frame : undefined;
}

/** A decode waits at most this many budgets of wall time (and at least MIN_WAIT_MS) for the CPU time of its budget. */
const MAX_WAIT_BUDGETS = 12;
const MIN_WAIT_MS = 30_000;

/** The shortest wait before a budget is checked again. */
const MIN_RECHECK_MS = 5;

/** CPU time of one of this process's threads, in ms (Linux), or undefined. */
function threadCpuMs(tid: number | undefined): number | undefined {
  if (tid === undefined) return undefined;
  try {
    return Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
  } catch {
    return undefined;
  }
}

/** How long close() waits for the threads to end. */
const END_WAIT_MS = 1_000;

type Lane = 'bulk' | 'interactive';

interface Job {
  lane: Lane;
  req: ThreadRequest;
  /** The tensor's length (once transferred, `req.out` reads 0). */
  elements: number;
  /** Every outcome: the result, undefined where a decoder process must decode it, or the error. */
  settle: (r: { result?: PreprocessResult; error?: Error; out: Float32Array }) => void;
  abandoned?: boolean;
  timer?: NodeJS.Timeout;
  /** When it started (ms), and its thread's CPU time then (ms; undefined where it cannot be read). */
  startedAt?: number;
  cpuAtStart?: number | undefined;
}

interface DecoderThread {
  lane: Lane;
  worker: Worker;
  /** Its thread id (Linux), for its CPU time. */
  tid?: number;
  up: boolean;
  job?: Job;
  ended: boolean;
}

export interface DecoderThreadsOptions {
  size: number;
  script: string;
  decodeTimeoutMs: number;
  nice: number;
}

export class DecoderThreads {
  private readonly threads: DecoderThread[] = [];
  private readonly queue: Job[] = [];
  private nextId = 1;
  private startFailures = 0;
  private closed = false;
  /** Images decoded in threads, failed there (header errors), handed back for a decoder process; threads stopped over budget or lost. */
  readonly counts = { decoded: 0, failed: 0, declined: 0, overBudget: 0, lost: 0 };

  constructor(private readonly opts: DecoderThreadsOptions) {
    // One starts now, beside the model's load; the others when two images are waiting at once.
    this.spawn('bulk');
  }

  /** Whether threads can take jobs (they have not failed to start, one after another, MAX_START_FAILURES times). */
  get usable(): boolean {
    return !this.closed && this.startFailures < MAX_START_FAILURES;
  }

  /** The thread ids (Linux) of the threads that are up, by lane. */
  get threadIds(): { bulk: number[]; interactive: number[] } {
    const ids = (lane: Lane) => this.threads.filter((t) => t.lane === lane && t.tid !== undefined).map((t) => t.tid!);
    return { bulk: ids('bulk'), interactive: ids('interactive') };
  }

  /** Whether a thread takes this job: a JPEG the WebAssembly decoder takes, on the exact path, into a tensor of its own. */
  takes(
    bytes: Uint8Array,
    opts: { preprocessing: PreprocessingMode; config: PreprocessConfig; maxPixels?: number },
    out: Float32Array,
  ): boolean {
    if (!this.usable || out.length !== tensorElements(opts.config) || !ownsBuffer(out)) return false;
    const frame = wasmCropPlanned(bytes, opts.preprocessing, opts.config, opts.maxPixels ?? DEFAULT_MAX_PIXELS);
    return frame !== undefined && frame.width * frame.height <= THREAD_MAX_PIXELS;
  }

  /** Whether an image is being decoded or waits for a thread (an abandoned one's decode is not counted). */
  get busy(): boolean {
    return this.queue.length > 0 || this.threads.some((t) => t.job && !t.job.abandoned);
  }

  /**
   * `run`, then `otherwise` (a decoder process) with the tensor where the thread hands the image back; `giveBack`
   * receives the tensor once, when the decode is over (from `otherwise` in that case).
   */
  async decode(
    bytes: Uint8Array,
    name: string,
    opts: { config: PreprocessConfig; maxPixels?: number; signal?: AbortSignal; interactive?: boolean },
    out: Float32Array,
    giveBack: (out: Float32Array) => void,
    otherwise: (out: Float32Array) => Promise<PreprocessResult>,
  ): Promise<PreprocessResult> {
    let back = out;
    let done: PreprocessResult | undefined;
    try {
      done = await this.run(bytes, name, opts, out, (b) => (back = b));
    } catch (e) {
      giveBack(back);
      throw e;
    }
    if (!done) return otherwise(back);
    giveBack(back);
    return done;
  }

  /**
   * Decodes into `out` (transferred to the thread); resolves with the result, or with undefined where a decoder
   * process must take the image. `giveBack` receives the tensor first, every time: the one that came back, or,
   * where the thread was stopped holding it, a fresh one for the process.
   */
  run(
    bytes: Uint8Array,
    name: string,
    opts: { config: PreprocessConfig; maxPixels?: number; signal?: AbortSignal; interactive?: boolean },
    out: Float32Array,
    giveBack: (out: Float32Array) => void,
  ): Promise<PreprocessResult | undefined> {
    if (opts.signal?.aborted) {
      giveBack(out);
      return Promise.reject(cancelled());
    }
    const elements = out.length;
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        const i = this.queue.indexOf(job);
        if (i >= 0) this.queue.splice(i, 1);
        job.settle({
          error: cancelled(),
          out: i >= 0 ? out : new Float32Array(elements),
        });
      };
      const job: Job = {
        lane: opts.interactive ? 'interactive' : 'bulk',
        elements,
        req: {
          id: this.nextId++,
          bytes,
          name,
          config: opts.config,
          ...(opts.maxPixels !== undefined ? { maxPixels: opts.maxPixels } : {}),
          out,
        },
        settle: (r) => {
          if (job.abandoned) return;
          // A cancelled job running in a thread is answered now; its decode finishes there and is dropped.
          job.abandoned = true;
          opts.signal?.removeEventListener('abort', onAbort);
          giveBack(r.out);
          if (r.error) reject(r.error);
          else resolve(r.result);
        },
      };
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.push(job);
      this.pump();
    });
  }

  /** Hands queued jobs to idle threads of their lane that are up; starts another thread where jobs wait and one may start. */
  private pump(): void {
    if (!this.usable) {
      for (const job of this.queue.splice(0)) job.settle({ out: job.req.out });
      return;
    }
    for (const lane of ['interactive', 'bulk'] as const) {
      for (;;) {
        const i = this.queue.findIndex((j) => j.lane === lane);
        if (i < 0) break;
        // Until the interactive thread is up (it starts on the first such request), an idle bulk thread serves.
        const borrow = lane === 'interactive' && !this.threads.some((t) => t.lane === lane && t.up);
        const idle =
          this.threads.find((t) => t.lane === lane && t.up && !t.job) ?? (borrow ? this.threads.find((t) => t.up && !t.job) : undefined);
        if (borrow && !this.threads.some((t) => t.lane === lane)) this.spawn(lane);
        if (!idle) {
          const mine = this.threads.filter((t) => t.lane === lane);
          // A thread still starting keeps the process alive while jobs wait for it.
          for (const t of mine) if (!t.up) t.worker.ref();
          const waiting = this.queue.filter((j) => j.lane === lane).length;
          if (mine.length < (lane === 'bulk' ? this.opts.size : 1) && mine.filter((t) => !t.up).length < waiting) this.spawn(lane);
          break;
        }
        this.start(idle, this.queue.splice(i, 1)[0]!);
      }
    }
  }

  private start(t: DecoderThread, job: Job): void {
    try {
      t.worker.postMessage(job.req, transferList(job.req.out));
    } catch {
      // Not transferable after all: a decoder process takes it.
      job.settle({ out: job.req.out });
      return;
    }
    t.job = job;
    t.worker.ref();
    // The thread is up and idle: it picks the job up at once, so the budget counts from now.
    job.startedAt = performance.now();
    job.cpuAtStart = threadCpuMs(t.tid);
    job.timer = setTimeout(() => this.checkBudget(t, job), this.opts.decodeTimeoutMs).unref();
  }

  /**
   * The budget is the thread's CPU time where it can be read (Linux): a thread at the helpers' nice value may wait for
   * a core while inference or another program keeps them busy, and an ordinary photo must not fail for that. Wall
   * time bounds it too (a thread that would take no CPU at all).
   */
  private checkBudget(t: DecoderThread, job: Job): void {
    if (t.job !== job) return;
    const budget = this.opts.decodeTimeoutMs;
    const now = threadCpuMs(t.tid);
    const used = now !== undefined && job.cpuAtStart !== undefined ? now - job.cpuAtStart : undefined;
    if (used !== undefined && used < budget && performance.now() - job.startedAt! < Math.max(budget * MAX_WAIT_BUDGETS, MIN_WAIT_MS)) {
      job.timer = setTimeout(() => this.checkBudget(t, job), Math.max(budget - used, MIN_RECHECK_MS)).unref();
      return;
    }
    this.overBudget(t);
  }

  private spawn(lane: Lane): void {
    let worker: Worker;
    try {
      worker = new Worker(this.opts.script, {
        workerData: { role: 'decoder-thread', nice: this.opts.nice },
        resourceLimits: { maxOldGenerationSizeMb: THREAD_HEAP_MB },
        // stdout is the server's JSON-RPC stream: a decoder never writes there.
        stdout: true,
      });
    } catch {
      this.startFailures++;
      return;
    }
    const t: DecoderThread = { lane, worker, up: false, ended: false };
    this.threads.push(t);
    worker.on('message', (msg: ThreadResponse) => {
      if (msg.type === 'ready') {
        t.up = true;
        if (msg.tid !== undefined) t.tid = msg.tid;
        this.startFailures = 0;
        if (!this.closed) t.worker.unref();
        this.pump();
        return;
      }
      const job = t.job;
      if (!job || job.req.id !== msg.id) return;
      clearTimeout(job.timer);
      t.job = undefined;
      if (!this.closed) t.worker.unref();
      if (msg.type === 'done') {
        this.counts.decoded++;
        job.settle({ result: { tensor: msg.out, offset: 0, width: msg.width, height: msg.height, format: msg.format }, out: msg.out });
      } else if (msg.type === 'declined') {
        this.counts.declined++;
        job.settle({ out: msg.out });
      } else {
        this.counts.failed++;
        job.settle({ error: fromDecoderError(msg.error), out: msg.out });
      }
      this.pump();
    });
    const gone = () => {
      if (t.ended) return;
      t.ended = true;
      const i = this.threads.indexOf(t);
      if (i >= 0) this.threads.splice(i, 1);
      if (!t.up) this.startFailures++;
      // Its image goes to a decoder process (its tensor stayed in the thread: a fresh one).
      const job = t.job;
      t.job = undefined;
      if (job) {
        clearTimeout(job.timer);
        this.counts.lost++;
        job.settle({ out: new Float32Array(job.elements) });
      }
      if (!this.closed) this.pump();
    };
    worker.on('error', gone);
    worker.on('exit', gone);
    // Referenced while it starts for a waiting job (the job keeps the process alive until answered); idle, not.
    if (!this.queue.some((j) => j.lane === lane)) worker.unref();
  }

  /** A decode over its time budget: its thread is terminated, the image fails with IMAGE_TOO_COMPLEX. */
  private overBudget(t: DecoderThread): void {
    const job = t.job;
    if (!job) return;
    t.job = undefined;
    t.ended = true;
    const i = this.threads.indexOf(t);
    if (i >= 0) this.threads.splice(i, 1);
    void t.worker.terminate();
    this.counts.overBudget++;
    job.settle({ error: overBudgetError(job.req.name, this.opts.decodeTimeoutMs), out: new Float32Array(job.elements) });
    this.pump();
  }

  /** Ends every thread (a decode in flight stops at once; its image goes to the caller for a decoder process). */
  async close(): Promise<void> {
    this.closed = true;
    const ending = this.threads.splice(0).map((t) => {
      const job = t.job;
      t.job = undefined;
      t.ended = true;
      if (job) {
        clearTimeout(job.timer);
        job.settle({ out: new Float32Array(job.elements) });
      }
      return t.worker.terminate().catch(() => undefined);
    });
    for (const job of this.queue.splice(0)) job.settle({ out: job.req.out });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(ending), new Promise<void>((r) => (timer = setTimeout(r, END_WAIT_MS)))]);
    clearTimeout(timer);
  }
}
