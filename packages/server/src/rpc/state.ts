/**
 * The server's state, split by owner. `ServerContext` holds one part per owner; every part is typed read-only here,
 * and only its owner module writes it, through the mutable type it casts to in one place (`… as ModelHostState`
 * only in model-host.ts, and so on; test/state-owners.test.ts checks this):
 *
 * | part        | owner (the one writer)  | what                                                        |
 * | ----------- | ----------------------- | ----------------------------------------------------------- |
 * | `lifecycle` | connection.ts           | initialize seen, shutting down, the stop signal             |
 * | `config`    | settings.ts             | the settings in force, the initialize options, the roots    |
 * | `caches`    | caches.ts               | the result and embedding caches and their folder            |
 * | `model`     | model-host.ts           | the model's state, the loaded model, the load in progress   |
 * | `inFlight`  | in-flight.ts (a class)  | single requests waiting and batches running                 |
 *
 * State private to one module is kept there, per context (WeakMaps): the curation indexes (similar.ts), the pixel
 * feature cache (curate-extract.ts), the thumbnail decoders (thumbnails.ts) and who answers for a remote model
 * (remote.ts).
 */
import type { Classifier, ClassifierError } from '@image-classifier/core';
import type { Prediction, ServerSettings, ServerState, StatusParams } from '@image-classifier/protocol';
import { setMaxListeners } from 'node:events';
import type { Connection } from 'vscode-languageserver/node';
import { Admission } from '../admission.js';
import type { ResultCache } from '../result-cache.js';
import { Roots } from '../roots.js';
import { InFlight } from './in-flight.js';

/** An embedding in the cache: its width and its float16 little-endian bytes, base64. */
export interface CachedEmbedding {
  d: number;
  f: string;
}

/** A model's whole output row in the cache (find by concept): its length and its float32 little-endian bytes, base64. */
export interface CachedOutputs {
  n: number;
  f: string;
}

export interface CachedValue {
  /** Predictions, best first. */
  p: Prediction[];
  w: number;
  h: number;
}

export interface Loaded {
  classifier: Classifier;
  /** Identifies model + preprocessing + labels in result-cache keys. */
  key: string;
  /** Requests using this classifier; a replaced classifier is closed when they are done. */
  users: number;
  retired: boolean;
}

export interface FileOutcome {
  predictions: Prediction[];
  cached: boolean;
  embedding?: number[];
  /** The embedding as float32, when asked with `rawEmbedding`. */
  vector?: Float32Array;
  /** The model's whole output row (logits, float32), when asked with `outputs`. */
  outputs?: Float32Array;
  width?: number;
  height?: number;
  /** The local model answered in place of the remote one (not cached). */
  answeredBy?: 'remote' | 'local';
}

export interface ServerOptions {
  /** Path of core's `inference-worker.js` (bundled builds put it next to the server). */
  workerScript?: string;
  log?: (message: string) => void;
}

/** Written by connection.ts. */
export interface LifecycleState {
  /** `initialize` was answered: requests are served from now on. */
  initialized: boolean;
  /** The server is shutting down: new requests are refused, and `stop` has cancelled the work in progress. */
  closing: boolean;
  /** The client sent `shutdown`. */
  shutdownRequested: boolean;
  /** Aborted when the server stops; every request in flight listens to it. */
  readonly stop: AbortController;
}

/** Written by settings.ts. */
export interface ConfigState {
  /** Normalized settings in force. */
  settings: ServerSettings;
  /** Normalized `initializationOptions`; configuration changes apply over them. */
  initSettings: ServerSettings | undefined;
  /** The workspace folders `initialize` named. */
  initRoots: string[] | undefined;
  /** Where files may be read from. */
  roots: Roots;
}

/** Written by caches.ts. */
export interface CacheState {
  /** The folder holding the caches (`cacheDir`); undefined until the first settings are applied. */
  dir: string | undefined;
  results: ResultCache<CachedValue> | undefined;
  /** Embeddings (float16, base64) beside the results, opened on the first request that wants one. */
  embeddings: ResultCache<CachedEmbedding> | undefined;
  /** Whole output rows (float32, base64) beside the results, opened on the first request that wants one (find). */
  outputs: ResultCache<CachedOutputs> | undefined;
}

/**
 * Written by model-host.ts.
 *
 * `generation` is the model host's cancellation rule. It is bumped by every `load` as it starts and by `unload`
 * (shutdown, stop), nowhere else. A load remembers the generation it started with and, after each await
 * (download progress, the model resolved, the session created, a failure), checks it: once another load or an
 * unload has bumped it, the load is stale and gives way: it sends no status, writes no state, closes the classifier
 * it created, and its error is dropped. Requests are not cancelled by it: they hold the model they were lent
 * (`Loaded.users`) until they finish; a replaced model is retired, closed after its last user, and results it
 * computes after retirement are not cached (cached-classify.ts checks `retired`).
 */
export interface ModelHostState {
  state: ServerState;
  lastStatus: StatusParams;
  loadError: ClassifierError | undefined;
  current: Loaded | undefined;
  /** Resolves when the load in progress ends (ready, error, or stale). */
  loading: Promise<void> | undefined;
  generation: number;
  labelsSource: string | undefined;
  /** While a model loads: what the same model file and settings were last time, to answer from the cache. */
  early: { key: string; name: string } | undefined;
}

export interface ServerContext {
  readonly connection: Connection;
  readonly options: ServerOptions;
  readonly log: (m: string) => void;
  readonly lifecycle: Readonly<LifecycleState>;
  readonly config: Readonly<ConfigState>;
  readonly caches: Readonly<CacheState>;
  readonly model: Readonly<ModelHostState>;
  readonly inFlight: InFlight;
  /** Images admitted into the engine at a time (its limit follows the settings). */
  readonly admission: Admission;
}

export function createContext(connection: Connection, options: ServerOptions): ServerContext {
  const stop = new AbortController();
  // Every request in flight listens to it (thousands at a time are expected).
  setMaxListeners(0, stop.signal);
  const lifecycle: LifecycleState = { initialized: false, closing: false, shutdownRequested: false, stop };
  const config: ConfigState = { settings: {}, initSettings: undefined, initRoots: undefined, roots: new Roots(undefined) };
  const caches: CacheState = { dir: undefined, results: undefined, embeddings: undefined, outputs: undefined };
  const model: ModelHostState = {
    state: 'loading',
    lastStatus: { state: 'loading', message: 'Waiting for initialize' },
    loadError: undefined,
    current: undefined,
    loading: undefined,
    generation: 0,
    labelsSource: undefined,
    early: undefined,
  };
  return {
    connection,
    options,
    log: options.log ?? ((m) => process.stderr.write(`[image-classifier] ${m}\n`)),
    lifecycle,
    config,
    caches,
    model,
    inFlight: new InFlight(),
    admission: new Admission(18, 4),
  };
}
