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
  INTERNAL: 1099,
} as const satisfies Partial<Record<ErrorCode, number>>;

export type RpcErrorName = keyof typeof RpcErrorCodes;

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
