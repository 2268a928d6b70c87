/**
 * One model download's HTTP transfer (fetch, redirects, idle timeout) streamed into the temp file with hashing,
 * size checks and progress reports, and the errors the download throws.
 */
import { createHash } from 'node:crypto';
import type * as fsp from 'node:fs/promises';
import { ClassifierError } from '../errors.js';
import type { DownloadOptions } from './download.js';
import { ProgressReporter } from './download-progress.js';
import { discard, errCode, errText, getFollowingRedirects, type Hops, HttpFailure, IdleAbort, streamBody } from './http-fetch.js';
import { MODEL_URL_ENV, parseHttpUrl, redactUrl } from './model-source.js';

const LFS_POINTER_PREFIX = 'version https://git-lfs.github.com/spec/';
const REQUEST_HEADERS = { 'user-agent': 'image-classifier', accept: '*/*', 'accept-encoding': 'identity' };

const AIRGAP_HINT =
  `Check the network or proxy, set ${MODEL_URL_ENV} to a reachable mirror, or on an air-gapped machine copy the ` +
  `.onnx file over and pass it with --model <path>.`;

export function downloadFailed(url: string, reason: string, details: Record<string, unknown>, cause?: unknown): ClassifierError {
  return new ClassifierError('MODEL_DOWNLOAD_FAILED', `Could not download the model from ${redactUrl(url)}: ${reason}. ${AIRGAP_HINT}`, {
    details: { url: redactUrl(url), ...details },
    ...(cause !== undefined ? { cause } : {}),
  });
}

/** CHECKSUM_MISMATCH: `what` says what differed, then a hint about mirrors (and about git-lfs pointers when tiny). */
export function checksumMismatch(url: string, what: string, details: Record<string, unknown>, actualBytes?: number): ClassifierError {
  let hint =
    `Check that ${redactUrl(url)} serves the expected file unchanged` +
    ` (if ${MODEL_URL_ENV} points to a mirror, check the mirror), or pass the matching sha256.`;
  if (actualBytes !== undefined && actualBytes < 1024) {
    hint += ' A file this small is often a git-lfs pointer rather than the model itself.';
  }
  return new ClassifierError('CHECKSUM_MISMATCH', `${what} ${hint}`, { details: { url: redactUrl(url), ...details } });
}

export function cancelled(url: string): ClassifierError {
  return new ClassifierError('CANCELLED', `The model download from ${redactUrl(url)} was cancelled; nothing was kept.`, {
    details: { url: redactUrl(url) },
  });
}

/** The options checked and defaulted. */
export interface ResolvedOptions {
  url: string;
  expectedSha256?: string;
  expectedSize?: number;
  destDir: string;
  fileName: string;
  timeoutMs: number;
  progressIntervalMs: number;
}

export interface TransferResult {
  bytes: number;
  sha256: string;
}

/** Where a transfer got to, for its error messages. */
interface TransferState extends Hops {
  phase: 'connect' | 'body';
  received: number;
  contentLength: number | undefined;
}

/** Requests the URL (following redirects) and streams the body into `fh`, hashing it. */
export async function transfer(o: ResolvedOptions, opts: DownloadOptions, fh: fsp.FileHandle, tmpPath: string): Promise<TransferResult> {
  const idle = new IdleAbort(o.timeoutMs, opts.signal);
  const st: TransferState = { url: parseHttpUrl(o.url, 'The model URL'), phase: 'connect', received: 0, contentLength: undefined };
  try {
    const res = await getFollowingRedirects(st, { fetchImpl: opts.fetchImpl, signal: idle.signal, headers: REQUEST_HEADERS });
    idle.touch();
    st.contentLength = await announcedLength(o, res);
    st.phase = 'body';
    return await receiveBody(o, opts, res, { fh, tmpPath, st, idle });
  } catch (e) {
    if (e instanceof ClassifierError) throw e;
    if (e instanceof HttpFailure) throw downloadFailed(o.url, e.reason, e.details);
    throw failureError(o, opts.signal, idle.kind, st, e);
  } finally {
    idle.dispose();
  }
}

/** The Content-Length, when given; CHECKSUM_MISMATCH (before reading the body) when it is not the expected size. */
async function announcedLength(o: ResolvedOptions, res: Response): Promise<number | undefined> {
  const cl = res.headers.get('content-length');
  const length = cl !== null && /^\d+$/.test(cl) ? Number(cl) : undefined;
  if (length !== undefined && o.expectedSize !== undefined && length !== o.expectedSize) {
    await discard(res);
    throw checksumMismatch(
      o.url,
      `The server at ${redactUrl(o.url)} offers ${length} bytes but the model should have ${o.expectedSize}; nothing was kept.`,
      { expectedBytes: o.expectedSize, actualBytes: length },
      length,
    );
  }
  return length;
}

interface Sink {
  fh: fsp.FileHandle;
  tmpPath: string;
  st: TransferState;
  idle: IdleAbort;
}

async function receiveBody(o: ResolvedOptions, opts: DownloadOptions, res: Response, sink: Sink): Promise<TransferResult> {
  const { st, idle } = sink;
  const total = st.contentLength ?? o.expectedSize;
  const progress = new ProgressReporter(opts.onProgress, o.progressIntervalMs, total);
  progress.report(st.received);
  const hash = createHash('sha256');
  let head = Buffer.alloc(0);
  await streamBody(res.body, async (chunk) => {
    idle.touch();
    st.received += chunk.length;
    hash.update(chunk);
    if (head.length < LFS_POINTER_PREFIX.length) head = Buffer.concat([head, chunk]).subarray(0, LFS_POINTER_PREFIX.length);
    if (o.expectedSize !== undefined && st.received > o.expectedSize) {
      throw checksumMismatch(
        o.url,
        `The server at ${redactUrl(o.url)} sent more than the model's ${o.expectedSize} bytes; the download was discarded.`,
        { expectedBytes: o.expectedSize, receivedBytes: st.received },
      );
    }
    await writeAll(o.url, sink, chunk);
    if (st.received !== total) progress.report(st.received);
  });
  if (idle.kind) throw new Error(idle.kind);
  checkComplete(o, st, head);
  progress.report(st.received, true);
  return { bytes: st.received, sha256: hash.digest('hex') };
}

async function writeAll(url: string, sink: Sink, chunk: Buffer): Promise<void> {
  try {
    let off = 0;
    while (off < chunk.length) {
      const { bytesWritten } = await sink.fh.write(chunk, off, chunk.length - off);
      off += bytesWritten;
    }
  } catch (e) {
    throw downloadFailed(url, `cannot write ${sink.tmpPath} (${errText(e)})`, { path: sink.tmpPath, code: errCode(e) }, e);
  }
}

/** A body shorter than its Content-Length, an empty one, or a git-lfs pointer is never taken for a model. */
function checkComplete(o: ResolvedOptions, st: TransferState, head: Buffer): void {
  const { received, contentLength } = st;
  if (contentLength !== undefined && received !== contentLength) {
    throw downloadFailed(o.url, `the connection closed after ${received} of ${contentLength} bytes`, {
      receivedBytes: received,
      expectedBytes: contentLength,
    });
  }
  if (received === 0) throw downloadFailed(o.url, 'the server sent an empty file', { receivedBytes: 0 });
  if (o.expectedSize === undefined && head.toString('latin1') === LFS_POINTER_PREFIX) {
    throw downloadFailed(o.url, 'the server sent a git-lfs pointer file instead of the model (use the raw/media URL of the file)', {
      receivedBytes: received,
    });
  }
}

/** The error for a failed request or body: CANCELLED, an idle timeout, a broken connection, or a network error. */
function failureError(
  o: ResolvedOptions,
  signal: AbortSignal | undefined,
  kind: IdleAbort['kind'],
  st: TransferState,
  e: unknown,
): ClassifierError {
  const { url, timeoutMs } = o;
  const { received, contentLength } = st;
  if (kind === 'abort' || signal?.aborted) return cancelled(url);
  const at = st.url.toString();
  const where = at !== new URL(url).toString() ? ` (redirected to ${redactUrl(at)})` : '';
  if (kind === 'timeout') {
    const when = st.phase === 'body' ? ` after ${received} bytes` : ' while waiting for the server';
    return downloadFailed(url, `no data arrived for ${timeoutMs / 1000} s${when}${where}`, { timeoutMs, receivedBytes: received }, e);
  }
  if (st.phase === 'body') {
    const of = contentLength !== undefined ? ` of ${contentLength}` : '';
    return downloadFailed(
      url,
      `the connection broke after ${received}${of} bytes (${errText(e)})${where}`,
      { receivedBytes: received, ...(contentLength !== undefined ? { expectedBytes: contentLength } : {}), code: errCode(e) },
      e,
    );
  }
  return downloadFailed(url, `network error: ${errText(e)}${where}`, { code: errCode(e) }, e);
}
