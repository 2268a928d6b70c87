/**
 * The classification engine shared by the CLI and the server: bounded-concurrency decoding that overlaps
 * inference, dynamic batching (max batch size + max queue delay, like Triton's `max_queue_delay`), interactive
 * requests ahead of bulk ones, and softmax/top-k with labels.
 *
 * Steady state allocates nothing large: per-image tensors and batch buffers come from pools and go back to them
 * (the inference worker hands each batch buffer back with its output), so a long folder run does not churn the
 * garbage collector with ~1 MB per image.
 */
import { ClassifierError, toClassifierError } from '../errors.js';
import type { InferenceBackend } from './inference-backend.js';
import { openBackend } from './open-backend.js';
import { checkLabelsFit, IMAGENET_LABELS, predict, type LabelSet } from '../model/labels.js';
import { readImageFile } from '../fs/read-file.js';
import { defaultPreprocessWorkerScript, PreprocessPool } from '../image/preprocess-pool.js';
import { preprocessImage, preprocessKey, resolvePreprocessConfig, tensorElements, type PreprocessConfig } from '../image/preprocess.js';
import type { PreprocessResult } from '../image/preprocess.js';
import { defaultThreads, type ModelInfo } from '../model/session.js';
import type { PreprocessingMode } from '@image-classifier/protocol/settings';
import type { ClassifierOptions, ClassifyOptions, ClassifyOutcome, InferResult, Priority } from './classifier-options.js';
import { Semaphore } from './semaphore.js';
import { Prefetch } from './prefetch.js';
import { allAborted, cancelled, type Job } from './jobs.js';

export type { ClassifierOptions, ClassifyOptions, ClassifyOutcome, InferResult, Priority } from './classifier-options.js';

export class Classifier {
  readonly preprocessConfig: PreprocessConfig;
  readonly preprocessing: PreprocessingMode;
  readonly labels: LabelSet | undefined;
  readonly maxBatch: number;
  private readonly maxDelayMs: number;
  private readonly decodeGate: Semaphore;
  private readonly interactive: Job[] = [];
  private readonly bulk: Job[] = [];
  private inflight = 0;
  private readonly maxInflight: number;
  private readonly overlap: boolean;
  /** Decoders running, and decoders waiting for the inference phase to end. */
  private decoding = 0;
  private phaseWaiters: Array<() => void> = [];
  /** Per-image tensors and batch buffers, reused. */
  private readonly tensorPool: Float32Array[] = [];
  private readonly batchPool: Float32Array[] = [];
  private readonly tensorPoolMax: number;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private prefetched: Prefetch | undefined; // images decoded while the model loaded, not yet asked for
  /** Counters for status and benchmarks (`prefetched`: requests answered from images decoded while the model loaded). */
  readonly stats = { images: 0, batches: 0, inferenceMs: 0, prefetched: 0 };

  private constructor(
    private readonly backend: InferenceBackend,
    private readonly opts: ClassifierOptions,
    /** Decoding and preprocessing threads (none: in this thread). */
    private readonly pool: PreprocessPool | undefined,
  ) {
    const info = backend.info;
    this.preprocessing = opts.preprocessing ?? 'exact';
    this.preprocessConfig = resolvePreprocessConfig({
      cropSize: info.inputSize,
      layout: info.layout,
      ...opts.preprocess,
    });
    if (this.preprocessConfig.cropSize[0] !== info.inputSize[0] || this.preprocessConfig.cropSize[1] !== info.inputSize[1]) {
      throw new ClassifierError(
        'INVALID_ARGUMENT',
        `The crop size ${this.preprocessConfig.cropSize.join('×')} does not match the model's input ${info.inputSize.join('×')}.`,
      );
    }
    if (opts.labels) {
      checkLabelsFit(opts.labels, info.classes);
      this.labels = opts.labels;
    } else if (info.classes === 1000) {
      this.labels = IMAGENET_LABELS;
    } else if (info.classes === 1001) {
      // TensorFlow-style models put "background" first.
      this.labels = { source: 'imagenet-1k+background', labels: ['background', ...IMAGENET_LABELS.labels] };
    }
    this.maxBatch = Math.max(1, Math.min(opts.maxBatch ?? 8, info.maxBatch));
    this.maxDelayMs = Math.max(0, opts.maxDelayMs ?? 2);
    this.decodeGate = new Semaphore(Math.max(1, opts.decodeConcurrency ?? defaultThreads()));
    this.overlap = opts.overlapDecode ?? true;
    this.maxInflight = this.overlap ? Math.max(1, backend.maxInflight ?? 2) : 1;
    this.tensorPoolMax = Math.max(1, opts.decodeConcurrency ?? defaultThreads()) + this.maxBatch * (this.maxInflight + 1);
  }

  static async create(opts: ClassifierOptions): Promise<Classifier> {
    // The decoders start (processes load the image library, a thread the WebAssembly decoder) while the model loads.
    const workers = opts.preprocessWorkers ?? (opts.worker === false ? 0 : Math.max(1, opts.decodeConcurrency ?? defaultThreads()));
    const pool =
      workers > 0
        ? new PreprocessPool(workers, opts.preprocessWorkerScript ?? defaultPreprocessWorkerScript(opts.workerScript), {
            ...(opts.decoderNice !== undefined ? { nice: opts.decoderNice } : {}),
          })
        : undefined;
    pool?.preload();
    const prefetch = opts.prefetch ? Prefetch.forClassifier(opts, pool) : undefined;
    let backend: InferenceBackend;
    try {
      backend = await openBackend(opts);
    } catch (e) {
      prefetch?.stop();
      await pool?.close();
      throw e;
    }
    try {
      const c = new Classifier(backend, opts, pool);
      prefetch?.freeze();
      // The model takes the preprocessing the prefetch guessed (nearly always): its tensors are used.
      if (prefetch?.key === preprocessKey(c.preprocessing, c.preprocessConfig)) c.prefetched = prefetch;
      else prefetch?.stop();
      return c;
    } catch (e) {
      prefetch?.stop();
      await Promise.all([backend.release(), pool?.close()]);
      throw e;
    }
  }

  /** A classifier on a backend the caller made, decoding in this thread (tests of the batching rules use one). */
  static forBackend(backend: InferenceBackend, opts: Omit<ClassifierOptions, 'modelPath'> = {}): Classifier {
    return new Classifier(backend, { ...opts, modelPath: backend.info.path }, undefined);
  }

  get info(): ModelInfo {
    return this.backend.info;
  }

  /** Images a caller should keep submitted to keep every batch slot busy (a remote server takes several batches). */
  get pipelineImages(): number {
    return this.maxBatch * (this.maxInflight + 1);
  }

  /** Identifies everything that determines a result besides the image bytes (for result caches). */
  get resultKey(): string {
    const r = this.info.remote;
    // A remote model is known by its server, name and version: its results never mix with a local model's.
    const model = r ? `remote=${r.url}|${r.model}|${r.version}` : this.info.sha256;
    return `${model};${preprocessKey(this.preprocessing, this.preprocessConfig)};labels=${this.labels?.source ?? 'none'}`;
  }

  /** Reads, decodes, preprocesses and classifies one file. */
  async classifyFile(file: string, o: ClassifyOptions = {}): Promise<ClassifyOutcome> {
    const early = this.prefetched?.take(file);
    if (early) return this.classifyPrefetched(early, o);
    const release = await this.acquireDecoder(o.priority === 'interactive');
    let bytes: Buffer;
    try {
      if (o.signal?.aborted) throw cancelled();
      bytes = await readImageFile(file);
    } catch (e) {
      release();
      throw e;
    }
    return this.classifyBytesHoldingGate(bytes, file, o, release);
  }

  /** Decodes, preprocesses and classifies image bytes; `name` appears in error messages. */
  async classifyBytes(bytes: Uint8Array, name: string, o: ClassifyOptions = {}): Promise<ClassifyOutcome> {
    const release = await this.acquireDecoder(o.priority === 'interactive');
    return this.classifyBytesHoldingGate(bytes, name, o, release);
  }

  /** A decode slot; unless decoding overlaps inference, it opens only between batches. */
  private async acquireDecoder(interactive: boolean): Promise<() => void> {
    const releaseGate = await this.decodeGate.acquire(interactive);
    this.decoding++;
    // Phased: wait for the batch in flight to finish. Overlapped: wait while the queue holds enough images for the
    // next batches (decoding further ahead only takes cores from inference and holds memory). Never interactive ones.
    while (!interactive && (this.overlap ? this.queued >= this.maxBatch * this.maxInflight : this.inflight > 0)) {
      await new Promise<void>((r) => this.phaseWaiters.push(r));
    }
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.decoding--;
      releaseGate();
      this.schedule();
    };
  }

  private async classifyBytesHoldingGate(
    bytes: Uint8Array,
    name: string,
    o: ClassifyOptions,
    release: () => void,
  ): Promise<ClassifyOutcome> {
    let pre;
    let pending;
    const t0 = performance.now();
    try {
      if (o.signal?.aborted) throw cancelled();
      let out = this.tensorPool.pop() ?? new Float32Array(tensorElements(this.preprocessConfig));
      const settings = {
        preprocessing: this.preprocessing,
        config: this.preprocessConfig,
        ...(this.opts.maxPixels !== undefined ? { maxPixels: this.opts.maxPixels } : {}),
        interactive: o.priority === 'interactive',
      };
      try {
        // A worker transfers `out` away and hands it back (filled, or unused on failure).
        pre = this.pool
          ? await this.pool.run(bytes, name, { ...settings, ...(o.signal ? { signal: o.signal } : {}) }, out, (back) => (out = back))
          : await preprocessImage(bytes, name, { ...settings, out });
      } catch (e) {
        this.recycleTensor(out);
        throw e;
      }
      // Queue before giving the decode slot back, so the scheduler sees this image when it decides.
      pending = this.enqueueDecoded(pre, o);
    } finally {
      release();
    }
    return this.outcome(pre, pending, o, performance.now() - t0);
  }

  /** A file decoded while the model loaded (see prefetch.ts): its tensor goes to the queue, its error to the caller. */
  private async classifyPrefetched(early: Promise<PreprocessResult>, o: ClassifyOptions): Promise<ClassifyOutcome> {
    const t0 = performance.now();
    this.stats.prefetched++;
    const pre = await early;
    return this.outcome(pre, this.enqueueDecoded(pre, o), o, performance.now() - t0);
  }

  /** Queues a decoded image (a copy of its tensor when the caller keeps it); CANCELLED at once if aborted. */
  private enqueueDecoded(pre: PreprocessResult, o: ClassifyOptions): Promise<InferResult> {
    return this.enqueue(o.keepTensor ? pre.tensor.slice() : pre.tensor, true, o.priority ?? 'bulk', o.signal, Boolean(o.embedding));
  }

  private async outcome(pre: PreprocessResult, pending: Promise<InferResult>, o: ClassifyOptions, ms: number): Promise<ClassifyOutcome> {
    const tensor = o.keepTensor ? pre.tensor : undefined;
    const r = await pending;
    const predictions = predict(r.row, this.labels, o.topK ?? 5, 0, r.row.length, this.info.outputIsProbabilities);
    return {
      predictions,
      ...(o.logits ? { logits: r.row } : {}),
      ...(o.embedding && r.embedding ? { embedding: r.embedding } : {}),
      ...(tensor ? { tensor } : {}),
      width: pre.width,
      height: pre.height,
      format: pre.format,
      timings: { preprocessMs: ms, queueMs: r.queueMs, inferenceMs: r.inferenceMs, batchSize: r.batchSize },
      ...(r.answeredBy ? { answeredBy: r.answeredBy } : {}),
    };
  }

  /** Queues one preprocessed image (the caller's tensor, left untouched) for batched inference; resolves with its output row. */
  infer(tensor: Float32Array, priority: Priority = 'bulk', signal?: AbortSignal, embedding = false): Promise<InferResult> {
    return this.enqueue(tensor, false, priority, signal, embedding);
  }

  private recycleTensor(t: Float32Array): void {
    if (this.tensorPool.length < this.tensorPoolMax && t.length === tensorElements(this.preprocessConfig)) this.tensorPool.push(t);
  }

  private enqueue(
    tensor: Float32Array,
    pooled: boolean,
    priority: Priority,
    signal: AbortSignal | undefined,
    embedding: boolean,
  ): Promise<InferResult> {
    if (this.closed) return Promise.reject(new ClassifierError('MODEL_NOT_READY', 'The classifier was closed.'));
    if (signal?.aborted) {
      if (pooled) this.recycleTensor(tensor);
      return Promise.reject(cancelled());
    }
    return new Promise((resolve, reject) => {
      const job: Job = { tensor, pooled, enqueuedAt: performance.now(), signal, embedding, resolve, reject };
      (priority === 'interactive' ? this.interactive : this.bulk).push(job);
      this.schedule();
    });
  }

  /** Images waiting for inference. */
  get queued(): number {
    return this.interactive.length + this.bulk.length;
  }

  private schedule(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.dispatchReady();
    // Decoders held back (phased: a batch in flight; overlapped: a full queue) go when that is over and re-check.
    if (this.phaseWaiters.length && (this.overlap ? this.queued < this.maxBatch * this.maxInflight : this.inflight === 0)) {
      for (const w of this.phaseWaiters.splice(0)) w();
    }
  }

  private dispatchReady(): void {
    while (this.inflight < this.maxInflight && this.queued > 0) {
      if (this.queued < this.maxBatch && this.interactive.length === 0) {
        // A partial batch: images still being decoded will fill it (each finished decode schedules again);
        // otherwise wait at most maxDelayMs for more requests.
        if (!this.overlap && this.decoding > 0) return;
        // The last slot in flight only bridges the hand-over between batches: a partial bulk batch there would wait
        // anyway and run less efficiently (ResNet50, batch 2: +3–5 % an image); it waits to fill or for the model to
        // run short of work (then the max delay applies). A remote server may run several batches at once: not there.
        if (!this.info.remote && this.maxInflight > 1 && this.inflight >= this.maxInflight - 1) return;
        const oldest = Math.min(this.interactive[0]?.enqueuedAt ?? Infinity, this.bulk[0]?.enqueuedAt ?? Infinity);
        const waited = performance.now() - oldest;
        if (waited < this.maxDelayMs) {
          this.timer = setTimeout(() => this.schedule(), Math.max(0, this.maxDelayMs - waited));
          return;
        }
      }
      this.dispatch();
    }
  }

  private dispatch(): void {
    const jobs: Job[] = [];
    while (jobs.length < this.maxBatch && this.queued > 0) {
      const j = (this.interactive.length ? this.interactive : this.bulk).shift()!;
      if (j.signal?.aborted) {
        if (j.pooled) this.recycleTensor(j.tensor);
        j.reject(cancelled());
        continue;
      }
      jobs.push(j);
    }
    if (jobs.length === 0) return;
    const per = tensorElements(this.preprocessConfig);
    const batchDim = this.info.dynamicBatch ? jobs.length : this.info.maxBatch;
    // A pooled buffer holds the largest batch; the session reads the first batchDim images of it.
    const capacity = per * (this.info.dynamicBatch ? this.maxBatch : this.info.maxBatch);
    let input = this.batchPool.pop();
    if (!input || input.length !== capacity) input = new Float32Array(capacity);
    jobs.forEach((j, i) => {
      input.set(j.tensor, i * per);
      if (j.pooled) this.recycleTensor(j.tensor);
    });
    this.inflight++;
    const started = performance.now();
    const wantEmbeddings = jobs.some((j) => j.embedding);
    // A remote request is cancelled once every image in its batch is.
    const cancel = jobs.every((j) => j.signal) ? allAborted(jobs.map((j) => j.signal!)) : undefined;
    this.backend
      .run(
        input,
        batchDim,
        (buf) => {
          if (this.batchPool.length < this.maxInflight + 1 && buf.length === capacity) this.batchPool.push(buf);
        },
        wantEmbeddings,
        cancel?.signal,
      )
      .then(
        (out) => {
          const ms = performance.now() - started;
          this.stats.batches++;
          this.stats.images += jobs.length;
          this.stats.inferenceMs += ms;
          const classes = this.info.classes;
          const e = out.embeddings;
          const dims = e ? this.info.embedding?.dims || e.length / batchDim : 0;
          jobs.forEach((j, i) => {
            j.resolve({
              row: out.logits.slice(i * classes, (i + 1) * classes),
              ...(e && j.embedding ? { embedding: e.slice(i * dims, (i + 1) * dims) } : {}),
              inferenceMs: ms,
              batchSize: jobs.length,
              queueMs: started - j.enqueuedAt,
              ...(out.answeredBy ? { answeredBy: out.answeredBy } : {}),
            });
          });
        },
        (e) => {
          const err = toClassifierError(e, 'INFERENCE_FAILED');
          for (const j of jobs) j.reject(err);
        },
      )
      .finally(() => {
        cancel?.dispose();
        this.inflight--;
        this.schedule();
      });
  }

  /** Test hook (server env IMAGE_CLASSIFIER_TEST_HOOKS): the inference worker dies as if it had crashed. */
  crashInferenceWorkerForTest(): boolean {
    this.backend.crashForTest?.();
    return this.backend.crashForTest !== undefined;
  }

  /** Queued images fail; runs and decodes in flight return before their threads are stopped. */
  async close(): Promise<void> {
    this.closed = true;
    this.prefetched?.stop();
    if (this.timer) clearTimeout(this.timer);
    const err = new ClassifierError('MODEL_NOT_READY', 'The classifier was closed.');
    for (const j of [...this.interactive.splice(0), ...this.bulk.splice(0)]) j.reject(err);
    await Promise.all([this.backend.release(), this.pool?.close()]);
  }
}
