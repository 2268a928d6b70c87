/**
 * Errors are values with a stable code and a sentence the user can act on.
 * The same codes travel through the CLI (error records, exit codes), the JSON-RPC server
 * (numeric codes in @image-classifier/protocol) and the extension (notifications).
 */
import type { ErrorCode } from '@image-classifier/protocol/errors';

export type { ErrorCode };

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

/** A request whose caller cancelled it. */
export function cancelled(): ClassifierError {
  return new ClassifierError('CANCELLED', 'The request was cancelled.');
}
