/** Turning what a handler threw into what the client sees. */
import { ClassifierError, toClassifierError } from '@image-classifier/core';
import { type ErrorDto, rpcCodeFor } from '@image-classifier/protocol';
import { LSPErrorCodes, ResponseError } from 'vscode-languageserver/node';

/** A ClassifierError (or anything thrown) → the JSON-RPC error the client sees. */
export function toResponseError(e: unknown): ResponseError<{ code: string }> {
  if (e instanceof ResponseError) return e as ResponseError<{ code: string }>;
  const err = toClassifierError(e);
  return new ResponseError(rpcCodeFor(err.code), err.message, { code: err.code });
}

export function errorDto(e: unknown): ErrorDto {
  const err = toClassifierError(e);
  return { code: err.code, message: err.message };
}

export function isCancelled(e: unknown): boolean {
  return e instanceof ClassifierError && e.code === 'CANCELLED';
}

/** Runs a request handler: refused before initialize, cancellations as RequestCancelled, errors as their codes. */
export async function handle<T>(initialized: boolean, f: () => Promise<T>): Promise<T> {
  try {
    if (!initialized) throw new ClassifierError('MODEL_NOT_READY', 'The server has not been initialized yet: send initialize first.');
    return await f();
  } catch (e) {
    if (isCancelled(e)) throw new ResponseError(LSPErrorCodes.RequestCancelled, 'The request was cancelled.', { code: 'CANCELLED' });
    throw toResponseError(e);
  }
}

export function validTopK(v: unknown, fallback: number): number {
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 100_000) {
    throw new ClassifierError('INVALID_ARGUMENT', `topK must be a positive integer (got ${JSON.stringify(v)}).`);
  }
  return v;
}
