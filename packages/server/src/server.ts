/**
 * The inference server: one warm model session answering the editor over JSON-RPC (LSP framing), with the
 * methods declared in core's `protocol.ts`. Hovers (`classify`, interactive priority) go ahead of folder runs
 * (`classifyBatch`, bulk priority); results are kept in a persistent cache keyed by image content.
 */
import { createHash } from 'node:crypto';
import { promises as fsp, readdirSync, rmSync, statSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  type CancellationToken,
  ErrorCodes,
  LSPErrorCodes,
  ResponseError,
  type Connection,
  type InitializeParams,
  type InitializeResult,
  WorkDoneProgress,
} from 'vscode-languageserver/node';
import {
  Classifier,
  ClassifierError,
  decodeFloat16,
  embeddingToJson,
  encodeFloat16,
  requireEmbedding,
  DEFAULT_MODEL,
  defaultCacheDir,
  isUrl,
  loadLabelsFile,
  modelFileNameForUrl,
  resolveModel,
  toClassifierError,
  type ClassifierOptions,
  type LabelSet,
} from '@image-classifier/core';
import {
  ClassifyBatchRequest,
  ClassifyRequest,
  ClearCacheRequest,
  ModelInfoRequest,
  rpcCodeFor,
  StatusNotification,
  type BatchItem,
  type ClassifyBatchParams,
  type ClassifyBatchResult,
  type ClassifyParams,
  type ClassifyResult,
  type ErrorDto,
  type ModelInfoResult,
  type Prediction,
  type ServerSettings,
  type ServerState,
  type StatusParams,
} from '@image-classifier/protocol';
import { Admission } from './admission.js';
import { ResultCache } from './result-cache.js';
import { Roots } from './roots.js';

export const SERVER_NAME = 'image-classifier';
export const SERVER_VERSION = '0.1.0';

/** Predictions kept per cached result, so later requests with a larger top-k still hit. */
const STORED_TOP_K = 10;
/** Files larger than this are refused before they are read. */
const MAX_FILE_BYTES = 512 * 1024 * 1024;
const DEFAULT_MAX_QUEUE = 4096;
const MAX_CONCURRENT_BATCHES = 8;
const PROGRESS_INTERVAL_MS = 200;
const PARTIAL_INTERVAL_MS = 100;

/** The embeddings' log beside the results' (same format). */
const EMBEDDINGS_LOG = 'embeddings-v1.log';

/** An embedding in the cache: its width and its float16 little-endian bytes, base64. */
interface CachedEmbedding {
  d: number;
  f: string;
}

interface CachedValue {
  /** Predictions, best first. */
  p: Prediction[];
  w: number;
  h: number;
}

interface Loaded {
  classifier: Classifier;
  /** Identifies model + preprocessing + labels in result-cache keys. */
  key: string;
  /** Requests using this classifier; a replaced classifier is closed when they are done. */
  users: number;
  retired: boolean;
}

interface FileOutcome {
  predictions: Prediction[];
  cached: boolean;
  embedding?: number[];
  width?: number;
  height?: number;
}

export interface ServerOptions {
  /** Path of core's `inference-worker.js` (bundled builds put it next to the server). */
  workerScript?: string;
  log?: (message: string) => void;
}

/** Settings that need a new model session when they change. */
const MODEL_KEYS: Array<keyof ServerSettings> = [
  'model',
  'modelSha256',
  'defaultModelUrl',
  'labels',
  'preprocessing',
  'threads',
  'executionProviders',
  'graphOptimizationLevel',
  'cacheDir',
  'maxImagePixels',
  'maxBatch',
  'maxDelayMs',
];

function sameSetting(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

/** A ClassifierError (or anything thrown) → the JSON-RPC error the client sees. */
export function toResponseError(e: unknown): ResponseError<{ code: string }> {
  if (e instanceof ResponseError) return e as ResponseError<{ code: string }>;
  const err = toClassifierError(e);
  return new ResponseError(rpcCodeFor(err.code), err.message, { code: err.code });
}

function errorDto(e: unknown): ErrorDto {
  const err = toClassifierError(e);
  return { code: err.code, message: err.message };
}

function isCancelled(e: unknown): boolean {
  return e instanceof ClassifierError && e.code === 'CANCELLED';
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

function validTopK(v: unknown, fallback: number): number {
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 100_000) {
    throw new ClassifierError('INVALID_ARGUMENT', `topK must be a positive integer (got ${JSON.stringify(v)}).`);
  }
  return v;
}

function threadIds(): Set<number> {
  try {
    return new Set(readdirSync('/proc/self/task').map(Number).filter(Number.isInteger));
  } catch {
    return new Set();
  }
}

/**
 * The threads that exist when this module loads: the main thread and V8's platform workers, which run the garbage
 * collector's parallel phases. The main thread waits for those, so they keep the main thread's priority.
 */
const STARTUP_THREADS = process.platform === 'linux' ? threadIds() : new Set<number>();

/**
 * Linux: lowers the scheduling priority of the threads started for the work (the inference worker and ONNX
 * Runtime's pool, libuv's pool and libvips' threads where images decode), so the JSON-RPC loop, and the GC helpers
 * it waits on, get a core the moment a request arrives even while inference keeps both cores busy. Elsewhere: nothing.
 */
export function deprioritizeHelperThreads(nice: number): number {
  if (process.platform !== 'linux' || nice <= 0) return 0;
  let n = 0;
  try {
    for (const tid of threadIds()) {
      if (tid === process.pid || STARTUP_THREADS.has(tid)) continue;
      try {
        if (os.getPriority(tid) < nice) os.setPriority(tid, nice);
        n++;
      } catch {
        // the thread ended meanwhile
      }
    }
  } catch {
    // no /proc
  }
  return n;
}

function envNumber(name: string, fallback: number): number {
  const v = process.env[name];
  const n = v === undefined || v === '' ? NaN : Number(v);
  return Number.isFinite(n) ? n : fallback;
}

function rootsFromInitialize(p: InitializeParams): string[] | undefined {
  if (p.workspaceFolders?.length) return p.workspaceFolders.map((f) => f.uri);
  if (p.rootUri) return [p.rootUri];
  if (p.rootPath) return [p.rootPath];
  return undefined;
}

export class InferenceServer {
  private lastThreadTune = 0;
  private settings: ServerSettings = {};
  private initRoots: string[] | undefined;
  private roots = new Roots(undefined);
  private cache: ResultCache<CachedValue> | undefined;
  /** Embeddings (float16, base64) beside the results, opened on the first request that wants one. */
  private embeddingCache: ResultCache<CachedEmbedding> | undefined;
  private cacheDir: string | undefined;

  private state: ServerState = 'loading';
  private lastStatus: StatusParams = { state: 'loading', message: 'Waiting for initialize' };
  private loadError: ClassifierError | undefined;
  private current: Loaded | undefined;
  /** Resolves when the load in progress ends (ready or error). */
  private loading: Promise<void> | undefined;
  private generation = 0;
  private initialized = false;
  private labelsSource: string | undefined;
  /** While a model loads: what the same model file and settings were last time, to answer from the cache. */
  private early: { key: string; name: string } | undefined;

  private readonly admission = new Admission(18, 4);
  private pendingSingles = 0;
  private runningBatches = 0;
  private readonly log: (m: string) => void;

  constructor(
    private readonly connection: Connection,
    private readonly options: ServerOptions = {},
  ) {
    this.log = options.log ?? ((m) => process.stderr.write(`[image-classifier] ${m}\n`));
  }

  listen(): void {
    const c = this.connection;
    c.onInitialize((p) => this.onInitialize(p));
    c.onDidChangeConfiguration((p) => {
      const s = (p.settings as { imageClassifier?: unknown } | undefined)?.imageClassifier;
      if (s && typeof s === 'object') this.applySettings({ ...(this.initSettings ?? {}), ...(s as ServerSettings) });
    });
    c.onShutdown(async () => {
      this.cache?.close();
      this.cache = undefined;
      this.embeddingCache?.close();
      this.embeddingCache = undefined;
      const cur = this.current;
      this.current = undefined;
      this.state = 'error';
      this.loadError = new ClassifierError('MODEL_NOT_READY', 'The server is shutting down.');
      if (cur) await cur.classifier.close().catch(() => undefined);
    });
    c.onExit(() => {
      this.cache?.close();
      this.embeddingCache?.close();
    });
    c.onRequest(ClassifyRequest.type, (p, token) => this.wrap(() => this.classify(p, token)));
    c.onRequest(ClassifyBatchRequest.type, (p, token) => this.wrap(() => this.classifyBatch(p, token)));
    c.onRequest(ModelInfoRequest.type, () => this.modelInfo());
    c.onRequest(ClearCacheRequest.type, () =>
      this.wrap(async () => {
        const removed = this.cache?.clear() ?? 0;
        // Cleared if open; otherwise removed unread (it may be hundreds of MB).
        if (this.embeddingCache) this.embeddingCache.clear();
        else if (this.cacheDir) rmSync(path.join(this.cacheDir, 'results', EMBEDDINGS_LOG), { force: true });
        return { removed };
      }),
    );
    c.listen();
  }

  private initSettings: ServerSettings | undefined;

  private onInitialize(p: InitializeParams): InitializeResult {
    const opts = p.initializationOptions;
    this.initSettings = opts && typeof opts === 'object' ? (opts as ServerSettings) : {};
    this.initRoots = rootsFromInitialize(p);
    this.initialized = true;
    // Load after the initialize response has gone out, so status notifications follow it; requests that come
    // meanwhile wait on `loading`, which then hands over to the real load.
    this.loading = new Promise<void>((resolve) =>
      setImmediate(() => {
        // The engine's decoder threads load the image library while the model loads.
        this.applySettings(this.initSettings ?? {}, true);
        resolve();
      }),
    );
    return {
      capabilities: {
        experimental: {
          imageClassifier: {
            methods: [ClassifyRequest.method, ClassifyBatchRequest.method, ModelInfoRequest.method, ClearCacheRequest.method],
          },
        },
      },
      serverInfo: { name: SERVER_NAME, version: SERVER_VERSION },
    };
  }

  /** Applies new settings; reloads the model when a setting it depends on changed (or `force`). */
  private applySettings(next: ServerSettings, force = false): void {
    const prev = this.settings;
    this.settings = next;
    this.roots = new Roots(next.roots ?? this.initRoots);
    const batch = Math.max(1, next.maxBatch ?? 8);
    this.admission.setLimit(batch * 2 + 2);
    const cacheDir = path.resolve(next.cacheDir ?? defaultCacheDir());
    if (cacheDir !== this.cacheDir) {
      this.cache?.close();
      this.embeddingCache?.close();
      this.embeddingCache = undefined;
      this.cacheDir = cacheDir;
      try {
        this.cache = ResultCache.open<CachedValue>(path.join(cacheDir, 'results'), this.log);
        this.log(`result cache: ${this.cache.entries} results (${this.cache.stats.loadMs} ms)`);
      } catch (e) {
        this.cache = undefined;
        this.log(`result cache disabled: ${(e as Error).message}`);
      }
    }
    if (force || MODEL_KEYS.some((k) => !sameSetting(prev[k], next[k]))) {
      this.loading = this.load(next);
    }
  }

  /**
   * Identifies a model file (path, size, mtime) with the settings that shape results, without reading it; the
   * cache remembers what it resolved to, so a restarted server answers cached results before the model is loaded.
   */
  private modelSignature(s: ServerSettings, cacheDir: string): string | undefined {
    const stamp = (f: string) => {
      const st = statSync(f);
      return `${f}|${st.size}|${st.mtimeMs}`;
    };
    try {
      const file = !s.model
        ? path.join(cacheDir, 'models', DEFAULT_MODEL.fileName)
        : isUrl(s.model)
          ? path.join(cacheDir, 'models', modelFileNameForUrl(s.model))
          : path.resolve(s.model);
      const parts = [stamp(file), s.labels ? stamp(path.resolve(s.labels)) : 'imagenet', s.preprocessing === 'fast' ? 'fast' : 'exact'];
      return createHash('sha256').update(parts.join('\n')).digest('hex').slice(0, 32);
    } catch {
      return undefined;
    }
  }

  private sendStatus(s: StatusParams): void {
    this.lastStatus = s;
    if (!this.initialized) return;
    void this.connection.sendNotification(StatusNotification.type, s).catch(() => undefined);
  }

  private async load(s: ServerSettings): Promise<void> {
    const gen = ++this.generation;
    const stale = () => gen !== this.generation;
    this.state = 'loading';
    this.loadError = undefined;
    this.sendStatus({ state: 'loading', message: 'Loading the model', ...(s.model ? { model: s.model } : {}) });
    const cacheDir = this.cacheDir ?? defaultCacheDir();
    const earlySig = this.modelSignature(s, cacheDir);
    const seen = earlySig ? this.cache?.getModel(earlySig) : undefined;
    this.early = seen && typeof seen.key === 'string' && typeof seen.name === 'string' ? { key: seen.key, name: seen.name } : undefined;
    let classifier: Classifier | undefined;
    try {
      let lastPercent = -1;
      const model = await resolveModel({
        ...(s.model ? { model: s.model } : {}),
        ...(s.modelSha256 ? { sha256: s.modelSha256 } : {}),
        ...(s.defaultModelUrl ? { defaultModelUrl: s.defaultModelUrl } : {}),
        cacheDir,
        onDownloadStart: (url) => this.log(`model: ${url}`),
        onProgress: (p) => {
          if (stale()) return;
          const percent = Math.floor(p.percent ?? 0);
          if (percent === lastPercent && percent !== 100) return;
          lastPercent = percent;
          this.state = 'downloading';
          const mb = (p.receivedBytes / 1e6).toFixed(1);
          this.sendStatus({
            state: 'downloading',
            percent,
            message: `Downloading the model: ${percent}% (${mb}${p.totalBytes ? ` of ${(p.totalBytes / 1e6).toFixed(1)}` : ''} MB)`,
          });
        },
      });
      if (stale()) return;
      if ((this.state as ServerState) === 'downloading') {
        this.state = 'loading';
        this.sendStatus({ state: 'loading', message: 'Loading the model' });
      }
      let labels: LabelSet | undefined;
      if (s.labels) labels = await loadLabelsFile(s.labels);
      const opts: ClassifierOptions = {
        modelPath: model.path,
        ...(labels ? { labels } : {}),
        preprocessing: s.preprocessing === 'fast' ? 'fast' : 'exact',
        session: {
          // The engine turns ORT's spin-waiting off; env IMAGE_CLASSIFIER_ORT_SPINNING=1 turns it back on (tuning).
          allowSpinning: envNumber('IMAGE_CLASSIFIER_ORT_SPINNING', 0) === 1,
          graphOptimizationLevel: s.graphOptimizationLevel ?? 'all',
          ...(s.threads && s.threads > 0 ? { intraOpNumThreads: s.threads } : {}),
          ...(s.executionProviders?.length ? { executionProviders: s.executionProviders } : {}),
          optimizedModelCacheDir: path.join(cacheDir, 'optimized'),
        },
        ...(s.maxImagePixels ? { maxPixels: s.maxImagePixels } : {}),
        ...(s.maxBatch ? { maxBatch: s.maxBatch } : {}),
        ...(s.maxDelayMs !== undefined ? { maxDelayMs: s.maxDelayMs } : {}),
        ...(this.options.workerScript ? { workerScript: this.options.workerScript } : {}),
      };
      classifier = await Classifier.create(opts);
      if (stale()) {
        await classifier.close();
        return;
      }
      const old = this.current;
      this.current = {
        classifier,
        key: createHash('sha256').update(classifier.resultKey).digest('hex').slice(0, 16),
        users: 0,
        retired: false,
      };
      this.labelsSource = classifier.labels?.source;
      if (old) this.retire(old);
      this.early = undefined;
      const sig = this.modelSignature(s, cacheDir);
      if (sig) this.cache?.setModel(sig, { key: this.current.key, name: classifier.info.name });
      this.state = 'ready';
      deprioritizeHelperThreads(envNumber('IMAGE_CLASSIFIER_HELPER_NICE', 10));
      const info = classifier.info;
      this.log(`model ready: ${info.name} (${info.activeProvider}, ${info.loadMs} ms, optimized-model cache ${info.optimizedModelCache})`);
      this.sendStatus({
        state: 'ready',
        model: info.name,
        provider: info.activeProvider,
        message: `${info.name} ready (${info.activeProvider})`,
      });
    } catch (e) {
      if (stale()) return;
      const fallback =
        (this.state as ServerState) === 'downloading' || (s.model && /^https?:/i.test(s.model) && !classifier)
          ? 'MODEL_DOWNLOAD_FAILED'
          : 'MODEL_LOAD_FAILED';
      let err = toClassifierError(e, fallback);
      if (err.code === 'INTERNAL') err = new ClassifierError(fallback, err.message, { cause: e });
      const old = this.current;
      this.current = undefined;
      if (old) this.retire(old);
      this.early = undefined;
      this.state = 'error';
      this.loadError = err;
      this.log(`model failed: ${err.code}: ${err.message}`);
      this.sendStatus({ state: 'error', error: { code: err.code, message: err.message }, message: err.message });
    }
  }

  private retire(l: Loaded): void {
    l.retired = true;
    if (l.users === 0) void l.classifier.close().catch(() => undefined);
  }

  /** The ready model, waiting while a local model loads; MODEL_NOT_READY while downloading. */
  private async acquireModel(): Promise<{ loaded: Loaded; release: () => void }> {
    for (;;) {
      if (this.state === 'ready' && this.current) {
        const l = this.current;
        l.users++;
        let done = false;
        return {
          loaded: l,
          release: () => {
            if (done) return;
            done = true;
            l.users--;
            if (l.retired && l.users === 0) void l.classifier.close().catch(() => undefined);
          },
        };
      }
      if (this.state === 'error') {
        throw this.loadError ?? new ClassifierError('MODEL_NOT_READY', 'The model is not loaded.');
      }
      if (this.state === 'downloading') {
        throw new ClassifierError(
          'MODEL_NOT_READY',
          `The model is still downloading (${this.lastStatus.percent ?? 0}%). Try again when it is ready.`,
        );
      }
      if (!this.loading) throw new ClassifierError('MODEL_NOT_READY', 'The server has not been initialized yet (send initialize first).');
      const l = this.loading;
      await l;
      if (l === this.loading && this.state === 'loading') throw new ClassifierError('MODEL_NOT_READY', 'The model is not loaded.');
    }
  }

  private async wrap<T>(f: () => Promise<T>): Promise<T> {
    try {
      if (!this.initialized)
        throw new ClassifierError('MODEL_NOT_READY', 'The server has not been initialized yet: send initialize first.');
      return await f();
    } catch (e) {
      if (isCancelled(e)) throw new ResponseError(LSPErrorCodes.RequestCancelled, 'The request was cancelled.', { code: 'CANCELLED' });
      throw toResponseError(e);
    }
  }

  private cacheKey(l: Loaded, hash: string): string {
    return `${l.key}:${hash}`;
  }

  private fromCache(l: Loaded, hash: string, topK: number, wantEmbedding: boolean): FileOutcome | undefined {
    const hit = this.cachedResult(l.key, hash, Math.min(topK, l.classifier.info.classes));
    if (!hit || !wantEmbedding) return hit;
    const e = this.embeddings()?.get(this.cacheKey(l, hash));
    if (!e || typeof e.f !== 'string' || e.d !== l.classifier.info.embedding?.dims) return undefined;
    const values = decodeFloat16(Buffer.from(e.f, 'base64'));
    if (values.length !== e.d) return undefined;
    return { ...hit, embedding: embeddingToJson(values) };
  }

  /** The embedding log, opened (and read) on first use. */
  private embeddings(): ResultCache<CachedEmbedding> | undefined {
    if (!this.embeddingCache && this.cache && this.cacheDir) {
      try {
        this.embeddingCache = ResultCache.open<CachedEmbedding>(path.join(this.cacheDir, 'results'), this.log, EMBEDDINGS_LOG);
        this.log(`embedding cache: ${this.embeddingCache.entries} embeddings (${this.embeddingCache.stats.loadMs} ms)`);
      } catch (e) {
        this.log(`embedding cache disabled: ${(e as Error).message}`);
      }
    }
    return this.embeddingCache;
  }

  /** The cached result for content `hash` under a model's result key, if it holds at least `want` predictions. */
  private cachedResult(modelKey: string, hash: string | undefined, want: number): FileOutcome | undefined {
    const v = hash ? this.cache?.get(`${modelKey}:${hash}`) : undefined;
    if (!v || !Array.isArray(v.p) || v.p.length < want) return undefined;
    return { predictions: v.p.slice(0, want), cached: true, width: v.w, height: v.h };
  }

  /**
   * One file through cache and engine. `file` is already inside the roots. Throws ClassifierErrors.
   * The cache is looked up without reading the file when (path, size, mtime) is known, else by content hash.
   */
  private async classifyFile(
    l: Loaded,
    file: { path: string; size: number; mtimeMs: number },
    topK: number,
    force: boolean,
    interactive: boolean,
    signal: AbortSignal | undefined,
    wantEmbedding = false,
  ): Promise<FileOutcome> {
    if (!force && this.cache) {
      const h = this.cache.hashFor(file.path, file.size, file.mtimeMs);
      const hit = h ? this.fromCache(l, h, topK, wantEmbedding) : undefined;
      if (hit) return hit;
    }
    if (file.size > MAX_FILE_BYTES) {
      throw new ClassifierError(
        'IMAGE_TOO_LARGE',
        `${file.path} is ${(file.size / 1e6).toFixed(0)} MB; files over ${MAX_FILE_BYTES / 1e6} MB are not read.`,
      );
    }
    const release = await this.admission.acquire(interactive, signal);
    try {
      let bytes: Buffer;
      try {
        bytes = await fsp.readFile(file.path);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT')
          throw new ClassifierError('FILE_NOT_FOUND', `File not found: ${file.path}. It may have been moved or deleted.`);
        throw new ClassifierError('READ_FAILED', `Cannot read ${file.path}: ${(e as Error).message}.`);
      }
      const hash = createHash('sha256').update(bytes).digest('hex').slice(0, 40);
      this.cache?.setHash(file.path, file.size, file.mtimeMs, hash);
      if (!force) {
        const hit = this.fromCache(l, hash, topK, wantEmbedding);
        if (hit) return hit;
      }
      const keep = Math.min(Math.max(topK, STORED_TOP_K), l.classifier.info.classes);
      const out = await l.classifier.classifyBytes(bytes, file.path, {
        topK: keep,
        embedding: wantEmbedding,
        priority: interactive ? 'interactive' : 'bulk',
        ...(signal ? { signal } : {}),
      });
      // Decoder threads start on first use: lower theirs too (cheap, at most once a second).
      if (performance.now() - this.lastThreadTune > 1000) {
        this.lastThreadTune = performance.now();
        deprioritizeHelperThreads(envNumber('IMAGE_CLASSIFIER_HELPER_NICE', 10));
      }
      const predictions: Prediction[] = out.predictions.map((p) => ({ index: p.index, label: p.label, probability: p.probability }));
      if (!l.retired) this.cache?.put(this.cacheKey(l, hash), { p: predictions, w: out.width, h: out.height });
      if (out.embedding && !l.retired)
        this.embeddings()?.put(this.cacheKey(l, hash), { d: out.embedding.length, f: encodeFloat16(out.embedding).toString('base64') });
      return {
        predictions: predictions.slice(0, Math.min(topK, predictions.length)),
        cached: false,
        width: out.width,
        height: out.height,
        ...(out.embedding ? { embedding: embeddingToJson(out.embedding) } : {}),
      };
    } finally {
      release();
    }
  }

  private signalFor(token: CancellationToken): { signal: AbortSignal; dispose: () => void } {
    const ac = new AbortController();
    if (token.isCancellationRequested) ac.abort();
    const d = token.onCancellationRequested(() => ac.abort());
    return { signal: ac.signal, dispose: () => d.dispose() };
  }

  private async classify(p: ClassifyParams, token: CancellationToken): Promise<ClassifyResult> {
    const t0 = performance.now();
    if (!p || typeof p !== 'object') throw new ClassifierError('INVALID_ARGUMENT', 'classify needs params {uri, topK?}.');
    const topK = validTopK(p.topK, this.settings.topK ?? 5);
    const file = this.roots.resolve(p.uri);
    const maxQueue = this.settings.maxQueue ?? DEFAULT_MAX_QUEUE;
    if (this.pendingSingles >= maxQueue) {
      throw new ClassifierError(
        'QUEUE_FULL',
        `The server has ${this.pendingSingles} requests waiting (limit ${maxQueue}); try again shortly.`,
      );
    }
    if (this.state !== 'ready' && this.early && !p.force && !p.embedding && this.cache) {
      // The model is still loading, but this file's result for the same model is in the cache.
      const hit = this.cachedResult(this.early.key, this.cache.hashFor(file.path, file.size, file.mtimeMs), topK);
      if (hit) {
        return {
          uri: p.uri,
          predictions: hit.predictions,
          model: this.early.name,
          cached: true,
          durationMs: Math.round((performance.now() - t0) * 1000) / 1000,
          width: hit.width,
          height: hit.height,
        };
      }
    }
    this.pendingSingles++;
    const { loaded, release } = await this.acquireModel().catch((e) => {
      this.pendingSingles--;
      throw e;
    });
    const { signal, dispose } = this.signalFor(token);
    try {
      if (p.embedding) requireEmbedding(loaded.classifier.info);
      const r = await this.classifyFile(loaded, file, topK, Boolean(p.force), true, signal, Boolean(p.embedding));
      return {
        uri: p.uri,
        predictions: r.predictions,
        model: loaded.classifier.info.name,
        cached: r.cached,
        durationMs: Math.round((performance.now() - t0) * 1000) / 1000,
        ...(r.width !== undefined ? { width: r.width, height: r.height } : {}),
        ...(r.embedding ? { embedding: r.embedding } : {}),
      };
    } finally {
      dispose();
      release();
      this.pendingSingles--;
    }
  }

  /** LSP work-done progress on the client's token (nothing without one). */
  private workDone(token: string | number | undefined) {
    const send = (v: object) => {
      if (token !== undefined) void this.connection.sendProgress(WorkDoneProgress.type, token, v as never).catch(() => undefined);
    };
    return {
      begin: (title: string, percentage: number, message: string, cancellable: boolean) =>
        send({ kind: 'begin', title, percentage, message, cancellable }),
      report: (percentage: number, message: string) => send({ kind: 'report', percentage, message }),
      done: (message?: string) => send({ kind: 'end', ...(message ? { message } : {}) }),
    };
  }

  private async classifyBatch(p: ClassifyBatchParams, token: CancellationToken): Promise<ClassifyBatchResult> {
    const t0 = performance.now();
    if (!p || typeof p !== 'object' || !Array.isArray(p.uris))
      throw new ClassifierError('INVALID_ARGUMENT', 'classifyBatch needs params {uris: string[], topK?}.');
    const topK = validTopK(p.topK, this.settings.topK ?? 5);
    if (this.runningBatches >= MAX_CONCURRENT_BATCHES) {
      throw new ClassifierError('QUEUE_FULL', `${this.runningBatches} batches are already running; wait for one to finish.`);
    }
    this.runningBatches++;
    let model: { loaded: Loaded; release: () => void };
    try {
      model = await this.acquireModel();
    } catch (e) {
      this.runningBatches--;
      throw e;
    }
    const { loaded } = model;
    if (p.embedding) {
      try {
        requireEmbedding(loaded.classifier.info);
      } catch (e) {
        model.release();
        this.runningBatches--;
        throw e;
      }
    }
    const workDone = this.workDone(p.workDoneToken);
    const partialToken = p.partialResultToken;
    const partial =
      partialToken !== undefined
        ? {
            report: (items: BatchItem[]) =>
              void this.connection.sendProgress(ClassifyBatchRequest.partialResult, partialToken, items).catch(() => undefined),
          }
        : undefined;
    const { signal, dispose } = this.signalFor(token);
    const uris = p.uris;
    const n = uris.length;
    const results: Array<BatchItem | undefined> = new Array(n);
    let done = 0;
    let next = 0;
    let partialBuf: BatchItem[] = [];
    let lastPartial = performance.now();
    let lastProgress = performance.now();
    const rateStart = performance.now();
    const progressMessage = () => {
      const secs = (performance.now() - rateStart) / 1000;
      const rate = secs > 0 ? done / secs : 0;
      return `${done}/${n} · ${rate >= 10 ? rate.toFixed(0) : rate.toFixed(1)} img/s`;
    };
    workDone.begin('Classifying images', 0, `0/${n}`, true);
    const flushPartial = (force: boolean) => {
      if (!partial || partialBuf.length === 0) return;
      if (!force && performance.now() - lastPartial < PARTIAL_INTERVAL_MS && partialBuf.length < 256) return;
      partial.report(partialBuf);
      partialBuf = [];
      lastPartial = performance.now();
    };
    const finish = (i: number, item: BatchItem) => {
      results[i] = item;
      done++;
      partialBuf.push(item);
      flushPartial(false);
      if (performance.now() - lastProgress >= PROGRESS_INTERVAL_MS) {
        lastProgress = performance.now();
        workDone.report(Math.floor((done / Math.max(1, n)) * 100), progressMessage());
      }
    };
    const lane = async () => {
      let sliceStart = performance.now();
      while (!signal.aborted && next < n) {
        const i = next++;
        const uri = uris[i];
        try {
          const file = this.roots.resolve(uri);
          const r = await this.classifyFile(loaded, file, topK, Boolean(p.force), false, signal, Boolean(p.embedding));
          finish(i, { uri: String(uri), predictions: r.predictions, cached: r.cached, ...(r.embedding ? { embedding: r.embedding } : {}) });
        } catch (e) {
          if (isCancelled(e) && signal.aborted) break;
          finish(i, { uri: String(uri), error: errorDto(e) });
        }
        // Cache hits and per-item errors resolve without I/O: give the event loop a turn now and then.
        if (performance.now() - sliceStart > 4) {
          await yieldToEventLoop();
          sliceStart = performance.now();
        }
      }
    };
    try {
      const lanes = Math.max(1, Math.min(n, loaded.classifier.maxBatch * 2 + 2));
      await Promise.all(Array.from({ length: lanes }, lane));
      flushPartial(true);
      const cancelled = signal.aborted && done < n;
      workDone.done(cancelled ? `Cancelled after ${done}/${n}` : progressMessage());
      return {
        items: results.filter((x): x is BatchItem => x !== undefined),
        cancelled,
        model: loaded.classifier.info.name,
        durationMs: Math.round(performance.now() - t0),
      };
    } finally {
      dispose();
      model.release();
      this.runningBatches--;
    }
  }

  private modelInfo(): ModelInfoResult {
    const l = this.current;
    if (this.state !== 'ready' || !l) {
      return {
        state: this.state,
        ...(this.loadError && this.state === 'error' ? { error: errorDto(this.loadError) } : {}),
      };
    }
    const c = l.classifier;
    const i = c.info;
    return {
      state: this.state,
      name: i.name,
      path: i.path,
      sha256: i.sha256,
      bytes: i.bytes,
      inputName: i.inputName,
      inputShape: i.inputShape,
      outputName: i.outputName,
      outputShape: i.outputShape,
      classes: i.classes,
      layout: i.layout,
      opsets: i.opsets,
      ...(i.producer ? { producer: i.producer } : {}),
      activeProvider: i.activeProvider,
      providerFallbacks: i.providerFallbacks,
      graphOptimizationLevel: i.graphOptimizationLevel,
      intraOpNumThreads: i.intraOpNumThreads,
      ortVersion: i.ortVersion,
      ...(this.labelsSource ? { labels: this.labelsSource } : {}),
      preprocessing: c.preprocessing,
      loadMs: i.loadMs,
      ...(i.embedding ? { embedding: { outputName: i.embedding.outputName, dims: i.embedding.dims } } : {}),
    };
  }
}

export { ErrorCodes };
