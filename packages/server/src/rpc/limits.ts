/**
 * What a request may hold, checked before any work: one params object, a `uri` that is a string of bounded
 * length, a batch of bounded size. Anything else is INVALID_ARGUMENT with a sentence (never INTERNAL), and the
 * checks never walk or print the value they refuse (a 10⁵-deep array or a 1 MB string costs nothing here).
 */
import { ClassifierError } from '@image-classifier/core';
import { ClassifyBatchRequest, usageLine } from '@image-classifier/protocol';

/** The longest `uri` accepted as sent (a file:// URI may percent-encode every byte of its path). */
export const MAX_URI_CHARS = 16_384;
/** The longest path accepted once decoded (Linux's PATH_MAX). */
export const MAX_PATH_CHARS = 4_096;
/** The most URIs in one classifyBatch; a client splits larger folders into several batches. */
export const MAX_BATCH_URIS = ClassifyBatchRequest.maxUris;

function invalid(message: string): ClassifierError {
  return new ClassifierError('INVALID_ARGUMENT', message);
}

/** An optional integer param in [min, max]: `fallback` when absent, else INVALID_ARGUMENT naming it. */
export function optionalInt(name: string, v: unknown, fallback: number, max: number, min = 1): number {
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
    throw invalid(`${name} must be an integer from ${min} to ${max} (got ${JSON.stringify(v)}).`);
  return v;
}

/** What `v` is, in a few words (never its contents). */
export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (typeof v === 'string') return `a string of ${v.length} characters`;
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

/**
 * The params object of a request from the handler's arguments: vscode-jsonrpc spreads array params
 * (`[p, null]` → `(p, null, token)`) and passes the cancellation token last.
 */
export function singleParams(args: unknown[], usage: string): Record<string, unknown> {
  const params = args.slice(0, -1);
  const p = params[0];
  if (params.length !== 1 || !p || typeof p !== 'object' || Array.isArray(p)) {
    const got = params.length === 1 ? describeValue(p) : `${params.length} positional values`;
    throw invalid(`${usage} (got ${got}).`);
  }
  return p as Record<string, unknown>;
}

/** The cancellation token vscode-jsonrpc passes last. */
export function tokenOf<T>(args: unknown[]): T {
  return args[args.length - 1] as T;
}

/** `v` if it can be a file:// URI or an absolute path of acceptable length; INVALID_ARGUMENT otherwise. */
export function checkUri(v: unknown): string {
  if (typeof v !== 'string') throw invalid(`uri must be a string (a file:// URI or an absolute path), got ${describeValue(v)}.`);
  if (v.length > MAX_URI_CHARS) throw invalid(`The uri is ${v.length} characters long; the limit is ${MAX_URI_CHARS}.`);
  const escapes = /^file:/i.test(v) ? (v.match(/%[0-9a-f]{2}/gi)?.length ?? 0) : 0;
  const pathChars = v.length - 2 * escapes;
  if (pathChars > MAX_PATH_CHARS) throw invalid(`The path is ${pathChars} characters long; the limit is ${MAX_PATH_CHARS}.`);
  return v;
}

/** A batch's `uris`, checked as a whole (each one is checked as its item is classified). */
export function checkUris(v: unknown): unknown[] {
  if (!Array.isArray(v))
    throw invalid(`${usageLine(ClassifyBatchRequest.method, ClassifyBatchRequest.usage)} (uris is ${describeValue(v)}).`);
  if (v.length > MAX_BATCH_URIS) {
    throw invalid(`The batch holds ${v.length} URIs; the limit is ${MAX_BATCH_URIS}: send the folder in several batches.`);
  }
  return v;
}

/** How a batch item names its uri: as sent when it is a string of acceptable length, else a short description. */
export function uriLabel(v: unknown): string {
  if (typeof v === 'string') return v.length <= MAX_URI_CHARS ? v : `${v.slice(0, 256)}… (${v.length} characters)`;
  return `(${describeValue(v)})`;
}
