/**
 * Error codes, declared once for every boundary: the engine's string codes (CLI records and exit codes), their
 * JSON-RPC numbers (server responses carry both: the number as `code`, the string as `data.code`) and the
 * extension's reading of them. No imports: the extension's activation bundle includes this module.
 */

/** The engine's string codes. Each error also carries a sentence the user can act on. */
export const ERROR_CODES = [
  'FILE_NOT_FOUND',
  'NOT_A_FILE',
  'READ_FAILED',
  'EMPTY_FILE',
  'UNSUPPORTED_FORMAT',
  'DECODE_FAILED',
  'IMAGE_TOO_LARGE',
  'IMAGE_TOO_SMALL',
  'IMAGE_TOO_COMPLEX',
  'OUTSIDE_WORKSPACE',
  'MODEL_NOT_FOUND',
  'MODEL_LOAD_FAILED',
  'MODEL_NOT_READY',
  'MODEL_DOWNLOAD_FAILED',
  'CHECKSUM_MISMATCH',
  'LABELS_MISMATCH',
  'LABELS_INVALID',
  'INVALID_ARGUMENT',
  'INFERENCE_FAILED',
  'NO_EMBEDDING',
  'QUEUE_FULL',
  'CANCELLED',
  'INTERNAL',
  // A remote inference server (Open Inference Protocol / KServe v2: Triton, KServe, MLServer).
  'REMOTE_UNAVAILABLE',
  'REMOTE_MODEL_NOT_FOUND',
  'REMOTE_MODEL_MISMATCH',
  'REMOTE_AUTH_FAILED',
  'REMOTE_TIMEOUT',
  'REMOTE_FAILED',
  // The client's own, about the server process: never sent by the server.
  'SERVER_STOPPED',
  'SERVER_CRASHED',
  'SERVER_START_FAILED',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export function isErrorCode(v: unknown): v is ErrorCode {
  return typeof v === 'string' && (ERROR_CODES as readonly string[]).includes(v);
}

/** An error as it travels in results (batch items, model info). */
export interface ErrorDto {
  code: ErrorCode;
  message: string;
}

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
  IMAGE_TOO_COMPLEX: 1015,
  REMOTE_UNAVAILABLE: 1016,
  REMOTE_MODEL_NOT_FOUND: 1017,
  REMOTE_MODEL_MISMATCH: 1018,
  REMOTE_AUTH_FAILED: 1019,
  REMOTE_TIMEOUT: 1020,
  REMOTE_FAILED: 1021,
  INTERNAL: 1099,
} as const satisfies Partial<Record<ErrorCode, number>>;

export type RpcErrorName = keyof typeof RpcErrorCodes;

/**
 * What the user can do about each remote-server error: the engine's message says what happened (the server, the
 * model, the HTTP status), this sentence follows it.
 */
export const REMOTE_ERROR_ADVICE = {
  REMOTE_UNAVAILABLE:
    'Check that the inference server is running and that imageClassifier.remote.url (--remote) points at it, or turn on imageClassifier.remote.fallbackToLocal to classify with the local model meanwhile.',
  REMOTE_MODEL_NOT_FOUND:
    'Check imageClassifier.remote.model and imageClassifier.remote.version (--remote-model, --remote-version) against the models the server has loaded.',
  REMOTE_MODEL_MISMATCH:
    'This client sends one FP32 image tensor [batch, 3, height, width] (or [batch, height, width, 3]) and reads FP32 logits [batch, classes] (and an optional embedding [batch, dims]); serve a model with that signature (deploy/triton in the project shows one).',
  REMOTE_AUTH_FAILED:
    'Set the headers the server expects in IMAGE_CLASSIFIER_REMOTE_HEADERS (a JSON object) or IMAGE_CLASSIFIER_REMOTE_TOKEN (a bearer token), or in VS Code with "Image Classifier: Set Remote Server Credentials".',
  REMOTE_TIMEOUT:
    'The server may be overloaded or the network slow: raise imageClassifier.remote.timeoutMs, lower the batch size, or turn on imageClassifier.remote.fallbackToLocal.',
  REMOTE_FAILED: "The server's log says more; the request was well formed, so this is the server's own error.",
} as const satisfies Partial<Record<ErrorCode, string>>;

/** LSP's RequestCancelled. */
export const RPC_REQUEST_CANCELLED = -32800;

/** Codes without a number of their own travel as a related one. */
const RELATED: Partial<Record<ErrorCode, number>> = {
  NOT_A_FILE: RpcErrorCodes.FILE_NOT_FOUND,
  READ_FAILED: RpcErrorCodes.FILE_NOT_FOUND,
  EMPTY_FILE: RpcErrorCodes.DECODE_FAILED,
  IMAGE_TOO_SMALL: RpcErrorCodes.UNSUPPORTED_FORMAT,
  MODEL_NOT_FOUND: RpcErrorCodes.MODEL_LOAD_FAILED,
  LABELS_INVALID: RpcErrorCodes.MODEL_LOAD_FAILED,
  CANCELLED: RPC_REQUEST_CANCELLED,
};

/** Maps an engine error code to its JSON-RPC code. */
export function rpcCodeFor(code: string): number {
  return (RpcErrorCodes as Record<string, number>)[code] ?? RELATED[code as ErrorCode] ?? RpcErrorCodes.INTERNAL;
}

/** The string code of a JSON-RPC error number of ours (for errors that arrive without `data.code`). */
export function errorCodeForRpc(n: number): RpcErrorName | undefined {
  for (const [name, code] of Object.entries(RpcErrorCodes)) if (code === n) return name as RpcErrorName;
  return undefined;
}
