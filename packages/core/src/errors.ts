/**
 * Errors are values with a stable code and a sentence the user can act on.
 * The same codes travel through the CLI (error records, exit codes), the JSON-RPC server
 * (numeric codes in `protocol.ts`) and the extension (notifications).
 */
export type ErrorCode =
  | 'FILE_NOT_FOUND'
  | 'NOT_A_FILE'
  | 'READ_FAILED'
  | 'EMPTY_FILE'
  | 'UNSUPPORTED_FORMAT'
  | 'DECODE_FAILED'
  | 'IMAGE_TOO_LARGE'
  | 'IMAGE_TOO_SMALL'
  | 'OUTSIDE_WORKSPACE'
  | 'MODEL_NOT_FOUND'
  | 'MODEL_LOAD_FAILED'
  | 'MODEL_NOT_READY'
  | 'MODEL_DOWNLOAD_FAILED'
  | 'CHECKSUM_MISMATCH'
  | 'LABELS_MISMATCH'
  | 'LABELS_INVALID'
  | 'INVALID_ARGUMENT'
  | 'INFERENCE_FAILED'
  | 'NO_EMBEDDING'
  | 'QUEUE_FULL'
  | 'CANCELLED'
  | 'INTERNAL';

export class ClassifierError extends Error {
  readonly code: ErrorCode;
  readonly details?: Record<string, unknown>;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(message, options?.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = 'ClassifierError';
    this.code = code;
    if (options?.details) this.details = options.details;
  }
  toJSON(): { code: ErrorCode; message: string } {
    return { code: this.code, message: this.message };
  }
}

export function isClassifierError(e: unknown): e is ClassifierError {
  return e instanceof ClassifierError;
}

/** Turns anything thrown into a ClassifierError, keeping codes that are already there. */
export function toClassifierError(e: unknown, fallback: ErrorCode = 'INTERNAL'): ClassifierError {
  if (e instanceof ClassifierError) return e;
  const msg = e instanceof Error ? e.message : String(e);
  return new ClassifierError(fallback, msg, { cause: e });
}
