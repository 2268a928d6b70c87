/**
 * The JSON-RPC methods between the editor and the inference server, declared once: each method's name,
 * params and result. Client and server both import these types, so a renamed field breaks the build, not a user.
 *
 * No native imports here (no onnxruntime-node, no sharp): the extension bundles this module.
 */
import { NotificationType, ProgressType, RequestType } from 'vscode-jsonrpc';
import type { ErrorDto } from './errors.js';
import { type MessageDirection, paramsUsage } from './rpc.js';
import { CLASSIFY_BATCH_MAX_URIS } from './limits.js';
import type { GraphOptimization, PreprocessingMode } from './settings.js';

/** One class of the model's answer: its index in the model's output, its label, its softmax probability. */
export interface Prediction {
  index: number;
  label: string;
  probability: number;
}

// ---- imageClassifier/classify ------------------------------------------------------------------------------

export interface ClassifyParams {
  /** file:// URI (or absolute path) of the image. */
  uri: string;
  topK?: number;
  /** Ignore the result cache. */
  force?: boolean;
  /**
   * Also return the image's embedding (the model's penultimate-layer features, `ModelInfoResult.embedding`).
   * Fresh ones are the model's float32 values; cached ones were stored as float16 (relative error ≤ 2⁻¹¹).
   * NO_EMBEDDING when the model has none.
   */
  embedding?: boolean;
}

export interface ClassifyResult {
  uri: string;
  predictions: Prediction[];
  /** Model name, e.g. 'resnet50-v1-12'. */
  model: string;
  cached: boolean;
  durationMs: number;
  width?: number;
  height?: number;
  /** With `embedding: true`. */
  embedding?: number[];
}

export namespace ClassifyRequest {
  export const method = 'imageClassifier/classify' as const;
  export const type = new RequestType<ClassifyParams, ClassifyResult, void>(method);
  export const messageDirection: MessageDirection = 'clientToServer';
  export const usage = paramsUsage<ClassifyParams>()('uri', 'topK?');
}

// ---- imageClassifier/classifyBatch -------------------------------------------------------------------------

export interface ClassifyBatchParams {
  uris: string[];
  topK?: number;
  force?: boolean;
  /** Also return each image's embedding (see `ClassifyParams.embedding`). */
  embedding?: boolean;
  /**
   * Answer from the result cache only (labels shown again after a window reload): an image the cache does not
   * hold comes back with neither `predictions` nor `error` (`cached: false`); the model runs on none.
   */
  cachedOnly?: boolean;
  /** LSP work-done progress token (the client creates it). */
  workDoneToken?: string | number;
  /** LSP partial-result token: batches of `BatchItem` are sent through `$/progress` as they finish. */
  partialResultToken?: string | number;
}

export interface BatchItem {
  uri: string;
  predictions?: Prediction[];
  error?: ErrorDto;
  cached?: boolean;
  embedding?: number[];
  /** With the remote backend and its local fallback: `local` when the local model answered (not cached). */
  answeredBy?: 'remote' | 'local';
}

export interface ClassifyBatchResult {
  /** Every finished item (also those already sent as partial results). */
  items: BatchItem[];
  /** True when the request was cancelled before all images were done. */
  cancelled: boolean;
  model: string;
  durationMs: number;
}

export namespace ClassifyBatchRequest {
  /** The most URIs one request may hold (INVALID_ARGUMENT beyond); a client splits larger folders. */
  export const maxUris = CLASSIFY_BATCH_MAX_URIS;
  export const method = 'imageClassifier/classifyBatch' as const;
  export const type = new RequestType<ClassifyBatchParams, ClassifyBatchResult, void>(method);
  export const messageDirection: MessageDirection = 'clientToServer';
  export const usage = paramsUsage<ClassifyBatchParams>()('uris: string[]', 'topK?');
  /** The shape of partial results on `$/progress`. */
  export const partialResult = new ProgressType<BatchItem[]>();
}

// ---- imageClassifier/modelInfo -----------------------------------------------------------------------------

/** A model on an Open Inference Protocol server (Triton, KServe), as `model info` shows it. */
export interface RemoteModelInfo {
  /** The server's base URL (no credentials). */
  url: string;
  model: string;
  /** The version every request names (the one asked for, else the newest the server listed). */
  version: string;
  versions: string[];
  platform?: string;
  server: { name?: string; version?: string };
  /** How tensors travel: the binary tensor extension or JSON. */
  protocol: 'binary' | 'json';
  /** The model's max_batch_size from the server's configuration, when the server tells it. */
  maxBatchSize?: number;
  inflight: number;
  timeoutMs: number;
}

export interface ModelInfoResult {
  state: ServerState;
  name?: string;
  path?: string;
  sha256?: string;
  bytes?: number;
  inputName?: string;
  inputShape?: Array<number | string>;
  outputName?: string;
  outputShape?: Array<number | string>;
  classes?: number;
  layout?: 'NCHW' | 'NHWC';
  opsets?: Array<{ domain: string; version: number }>;
  producer?: string;
  activeProvider?: string;
  providerFallbacks?: Array<{ provider: string; reason: string }>;
  graphOptimizationLevel?: GraphOptimization;
  intraOpNumThreads?: number;
  ortVersion?: string;
  labels?: string;
  preprocessing?: PreprocessingMode;
  loadMs?: number;
  /** The embedding output the model offers (its penultimate layer), when one was found. */
  embedding?: { outputName: string; dims: number };
  /** A model on an Open Inference Protocol server (Triton, KServe): where, which version, how tensors travel. */
  remote?: RemoteModelInfo;
  /** With the remote backend: who answers now (`local` while the local model stands in for the server). */
  answeredBy?: 'remote' | 'local';
  /**
   * Curation's nearest-neighbour search on this platform: 'graph' (usearch's approximate index above 5,000 images,
   * exact below) or 'exact' (usearch has no build here, e.g. win32-arm64: exact search at every size).
   */
  neighbourSearch?: 'graph' | 'exact';
  error?: ErrorDto;
}

export namespace ModelInfoRequest {
  export const method = 'imageClassifier/modelInfo' as const;
  export const type = new RequestType<Record<string, never> | void, ModelInfoResult, void>(method);
  export const messageDirection: MessageDirection = 'clientToServer';
}

// ---- imageClassifier/clearCache ----------------------------------------------------------------------------

export interface ClearCacheResult {
  removed: number;
}

export namespace ClearCacheRequest {
  export const method = 'imageClassifier/clearCache' as const;
  export const type = new RequestType<Record<string, never> | void, ClearCacheResult, void>(method);
  export const messageDirection: MessageDirection = 'clientToServer';
}

// ---- imageClassifier/status (server → client) ----------------------------------------------------------------

export type ServerState = 'loading' | 'downloading' | 'ready' | 'error';

export interface StatusParams {
  state: ServerState;
  /** Download progress, 0..100. */
  percent?: number;
  /** Human-readable line for the status bar / log. */
  message?: string;
  model?: string;
  provider?: string;
  error?: ErrorDto;
}

export namespace StatusNotification {
  export const method = 'imageClassifier/status' as const;
  export const type = new NotificationType<StatusParams>(method);
  export const messageDirection: MessageDirection = 'serverToClient';
}
