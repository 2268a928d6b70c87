/**
 * The JSON-RPC protocol between the editor and the inference server, declared once: each method's name,
 * params and result. Client and server both import these types, so a renamed field breaks the build, not a user.
 *
 * No native imports here (no onnxruntime-node, no sharp): the extension bundles this module.
 */
import { NotificationType, ProgressType, RequestType } from 'vscode-jsonrpc';

export type PreprocessingMode = 'exact' | 'fast';
export type GraphOptimization = 'disabled' | 'basic' | 'extended' | 'all';

/** Sent as `initializationOptions` and as `settings.imageClassifier` in `workspace/didChangeConfiguration`. */
export interface ServerSettings {
  /** Path or http(s) URL of an .onnx model; empty = the default ResNet50 (downloaded on first use). */
  model?: string;
  /** Expected sha256 of a URL model. */
  modelSha256?: string;
  /** Mirror of the default model's URL. */
  defaultModelUrl?: string;
  /** Labels file, one per line; empty = ImageNet-1k. */
  labels?: string;
  topK?: number;
  preprocessing?: PreprocessingMode;
  /** Intra-op threads; 0 or absent = all cores. */
  threads?: number;
  executionProviders?: string[];
  graphOptimizationLevel?: GraphOptimization;
  /** Models, optimized models and the result cache live here. */
  cacheDir?: string;
  /** Absolute filesystem paths the server may read images from. Files elsewhere are refused. */
  roots?: string[];
  maxImagePixels?: number;
  /** Dynamic batching: largest batch and how long a partial batch waits (ms). */
  maxBatch?: number;
  maxDelayMs?: number;
  /** Images accepted but not yet finished, beyond which requests are refused with QUEUE_FULL. */
  maxQueue?: number;
}

export interface PredictionDto {
  index: number;
  label: string;
  probability: number;
}

export interface ErrorDto {
  /** The engine's string code, e.g. 'FILE_NOT_FOUND'. */
  code: string;
  message: string;
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
  predictions: PredictionDto[];
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
}

// ---- imageClassifier/classifyBatch -------------------------------------------------------------------------

export interface ClassifyBatchParams {
  uris: string[];
  topK?: number;
  force?: boolean;
  /** Also return each image's embedding (see `ClassifyParams.embedding`). */
  embedding?: boolean;
  /** LSP work-done progress token (the client creates it). */
  workDoneToken?: string | number;
  /** LSP partial-result token: batches of `BatchItem` are sent through `$/progress` as they finish. */
  partialResultToken?: string | number;
}

export interface BatchItem {
  uri: string;
  predictions?: PredictionDto[];
  error?: ErrorDto;
  cached?: boolean;
  embedding?: number[];
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
  export const method = 'imageClassifier/classifyBatch' as const;
  export const type = new RequestType<ClassifyBatchParams, ClassifyBatchResult, void>(method);
  /** The shape of partial results on `$/progress`. */
  export const partialResult = new ProgressType<BatchItem[]>();
}

// ---- imageClassifier/modelInfo -----------------------------------------------------------------------------

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
  error?: ErrorDto;
}

export namespace ModelInfoRequest {
  export const method = 'imageClassifier/modelInfo' as const;
  export const type = new RequestType<Record<string, never> | void, ModelInfoResult, void>(method);
}

// ---- imageClassifier/clearCache ----------------------------------------------------------------------------

export interface ClearCacheResult {
  removed: number;
}

export namespace ClearCacheRequest {
  export const method = 'imageClassifier/clearCache' as const;
  export const type = new RequestType<Record<string, never> | void, ClearCacheResult, void>(method);
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
}

// ---- Error codes -------------------------------------------------------------------------------------------

/**
 * JSON-RPC error codes of this server, outside the ranges JSON-RPC and LSP reserve (−32899..−32800 and
 * −32099..−32000, −32768..−32000). Each error also carries `data: { code: '<STRING_CODE>' }`.
 */
export const RpcErrorCodes = {
  FILE_NOT_FOUND: 1001,
  UNSUPPORTED_FORMAT: 1002,
  IMAGE_TOO_LARGE: 1003,
  OUTSIDE_WORKSPACE: 1004,
  MODEL_NOT_READY: 1005,
  MODEL_LOAD_FAILED: 1006,
  MODEL_DOWNLOAD_FAILED: 1007,
  DECODE_FAILED: 1008,
  INVALID_ARGUMENT: 1009,
  INFERENCE_FAILED: 1010,
  QUEUE_FULL: 1011,
  CHECKSUM_MISMATCH: 1012,
  LABELS_MISMATCH: 1013,
  NO_EMBEDDING: 1014,
  INTERNAL: 1099,
} as const;

export type RpcErrorName = keyof typeof RpcErrorCodes;

/** Maps an engine error code to its JSON-RPC code (codes without their own number map to related ones). */
export function rpcCodeFor(code: string): number {
  const direct = (RpcErrorCodes as Record<string, number>)[code];
  if (direct !== undefined) return direct;
  switch (code) {
    case 'NOT_A_FILE':
    case 'READ_FAILED':
      return RpcErrorCodes.FILE_NOT_FOUND;
    case 'EMPTY_FILE':
      return RpcErrorCodes.DECODE_FAILED;
    case 'IMAGE_TOO_SMALL':
      return RpcErrorCodes.UNSUPPORTED_FORMAT;
    case 'MODEL_NOT_FOUND':
    case 'LABELS_INVALID':
      return RpcErrorCodes.MODEL_LOAD_FAILED;
    case 'CANCELLED':
      return -32800; // LSP RequestCancelled
    default:
      return RpcErrorCodes.INTERNAL;
  }
}
