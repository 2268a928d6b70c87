/**
 * The server's state, one plain object shared by the handlers (model host, cached classification, batches, wiring).
 */
import type { Classifier, ClassifierError } from '@image-classifier/core';
import type { Prediction, ServerSettings, ServerState, StatusParams } from '@image-classifier/protocol';
import { setMaxListeners } from 'node:events';
import type { Connection } from 'vscode-languageserver/node';
import { Admission } from '../admission.js';
import type { ResultCache } from '../result-cache.js';
import { Roots } from '../roots.js';

/** An embedding in the cache: its width and its float16 little-endian bytes, base64. */
export interface CachedEmbedding {
  d: number;
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

export interface ServerContext {
  readonly connection: Connection;
  readonly options: ServerOptions;
  readonly log: (m: string) => void;
  /** Normalized settings in force. */
  settings: ServerSettings;
  /** Normalized `initializationOptions`; configuration changes apply over them. */
  initSettings: ServerSettings | undefined;
  initRoots: string[] | undefined;
  roots: Roots;
  cache: ResultCache<CachedValue> | undefined;
  /** Embeddings (float16, base64) beside the results, opened on the first request that wants one. */
  embeddingCache: ResultCache<CachedEmbedding> | undefined;
  cacheDir: string | undefined;
  state: ServerState;
  lastStatus: StatusParams;
  loadError: ClassifierError | undefined;
  current: Loaded | undefined;
  /** Resolves when the load in progress ends (ready or error). */
  loading: Promise<void> | undefined;
  generation: number;
  initialized: boolean;
  labelsSource: string | undefined;
  /** While a model loads: what the same model file and settings were last time, to answer from the cache. */
  early: { key: string; name: string } | undefined;
  readonly admission: Admission;
  pendingSingles: number;
  runningBatches: number;
  /** The server is shutting down: new requests are refused, and `stop` has cancelled the work in progress. */
  closing: boolean;
  /** The client sent `shutdown`. */
  shutdownRequested: boolean;
  readonly stop: AbortController;
}

export function createContext(connection: Connection, options: ServerOptions): ServerContext {
  const stop = new AbortController();
  // Every request in flight listens to it (thousands at a time are expected).
  setMaxListeners(0, stop.signal);
  return {
    connection,
    options,
    log: options.log ?? ((m) => process.stderr.write(`[image-classifier] ${m}\n`)),
    settings: {},
    initSettings: undefined,
    initRoots: undefined,
    roots: new Roots(undefined),
    cache: undefined,
    embeddingCache: undefined,
    cacheDir: undefined,
    state: 'loading',
    lastStatus: { state: 'loading', message: 'Waiting for initialize' },
    loadError: undefined,
    current: undefined,
    loading: undefined,
    generation: 0,
    initialized: false,
    labelsSource: undefined,
    early: undefined,
    admission: new Admission(18, 4),
    pendingSingles: 0,
    runningBatches: 0,
    closing: false,
    shutdownRequested: false,
    stop,
  };
}
