/**
 * The product's default-model download: the only network access the product ever makes.
 *
 * - Streams the body (never buffers the file), hashes while streaming, writes to a temp file in the destination
 *   directory (`<name>.<pid>.<random>.partial`), fsyncs it, verifies size and sha256, then renames it into place.
 * - Nothing unverified ever lands at the final path, and an existing file there is only replaced by verified bytes.
 * - On failure the temp file is removed and a ClassifierError is thrown: CHECKSUM_MISMATCH when the bytes are not the
 *   expected ones, CANCELLED when the caller aborted, MODEL_DOWNLOAD_FAILED otherwise, INVALID_ARGUMENT for bad options.
 * - HTTP is Node's fetch (http-fetch.ts), following at most 5 redirects (GitHub's /raw/ path redirects to
 *   media.githubusercontent.com for git-lfs files), with an idle timeout that restarts on every chunk.
 */
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { ClassifierError } from '../errors.js';
import { errCode, errText, type FetchImpl } from './http-fetch.js';
import { CACHE_DIR_ENV, DEFAULT_MODEL, defaultCacheDir, modelFileNameForUrl, redactUrl, resolveModelUrl } from './model-source.js';
import { cancelled, checksumMismatch, downloadFailed, type ResolvedOptions, transfer } from './download-transfer.js';
import type { DownloadProgress } from './download-progress.js';

export { type DownloadProgress, renderBar, renderProgressBar } from './download-progress.js';
export { type FetchImpl, MAX_REDIRECTS } from './http-fetch.js';
export {
  CACHE_DIR_ENV,
  type CacheDirContext,
  DEFAULT_MODEL,
  defaultCacheDir,
  defaultModelPath,
  MODEL_URL_ENV,
  modelFileNameForUrl,
  resolveModelUrl,
} from './model-source.js';

export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_PROGRESS_INTERVAL_MS = 100;

const SHA256_RE = /^[0-9a-f]{64}$/;
/** A `.partial` file whose writer is gone is removed once it is older than this. */
const STALE_PARTIAL_MS = 5 * 60_000;

export interface DownloadOptions {
  /** Source URL; default: `resolveModelUrl()` (env IMAGE_CLASSIFIER_MODEL_URL, then DEFAULT_MODEL.url). */
  url?: string;
  /** Expected sha256 (hex). Defaults to DEFAULT_MODEL.sha256 when the URL is the default model's. */
  sha256?: string;
  /** Expected size in bytes. Defaults to DEFAULT_MODEL.size when the URL is the default model's. */
  size?: number;
  /** Default: `path.join(defaultCacheDir(), 'models')`. Created if missing. */
  destDir?: string;
  /** Default: the URL's last path segment, sanitized. Must be a plain file name. */
  fileName?: string;
  /** Throttled to one call per `progressIntervalMs`, plus a final call with percent 100. */
  onProgress?: (p: DownloadProgress) => void;
  progressIntervalMs?: number;
  signal?: AbortSignal;
  /** Fail when no data arrives for this long (connecting, waiting for headers, or mid-body). Default 30 s. */
  timeoutMs?: number;
  /** Replaces the global `fetch` (proxies, extra headers, tests); called once per request, redirects included. */
  fetchImpl?: FetchImpl;
}

export interface DownloadResult {
  /** Absolute path of the verified file. */
  path: string;
  /** sha256 (hex) of the file's bytes. */
  sha256: string;
  bytes: number;
  /** false when a file already present at the path was used. */
  downloaded: boolean;
  /** The URL the download was asked for (before redirects). */
  url: string;
}

// ---------------------------------------------------------------------------------------------------------------
// Files

/** sha256 (hex) of a file, streamed in 1 MiB reads. */
export async function sha256File(filePath: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  const stream = fs.createReadStream(filePath, { highWaterMark: 1 << 20, ...(signal ? { signal } : {}) });
  for await (const chunk of stream as AsyncIterable<Buffer>) hash.update(chunk);
  return hash.digest('hex');
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return errCode(e) === 'EPERM';
  }
}

/** Best effort: removes `<fileName>.<pid>.<hex>.partial` files left behind by processes that are gone. */
async function removeStalePartials(destDir: string, fileName: string): Promise<void> {
  let entries: string[];
  try {
    entries = await fsp.readdir(destDir);
  } catch {
    return;
  }
  const prefix = `${fileName}.`;
  const now = Date.now();
  for (const entry of entries) {
    if (!entry.startsWith(prefix) || !entry.endsWith('.partial')) continue;
    const m = /^(\d+)\.[0-9a-f]+\.partial$/.exec(entry.slice(prefix.length));
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || processAlive(pid)) continue;
    const full = path.join(destDir, entry);
    try {
      const st = await fsp.stat(full);
      if (st.isFile() && now - st.mtimeMs > STALE_PARTIAL_MS) await fsp.unlink(full);
    } catch {
      /* raced with another cleaner, or not ours to remove */
    }
  }
}

async function fsyncDir(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  try {
    const h = await fsp.open(dir, 'r');
    try {
      await h.sync();
    } finally {
      await h.close();
    }
  } catch {
    /* durability of the rename is best effort */
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Download

function invalid(message: string): ClassifierError {
  return new ClassifierError('INVALID_ARGUMENT', message);
}

function resolveExpected(opts: DownloadOptions, isDefault: boolean): Pick<ResolvedOptions, 'expectedSha256' | 'expectedSize'> {
  let expectedSha256: string | undefined;
  if (opts.sha256 !== undefined) {
    expectedSha256 = opts.sha256.trim().toLowerCase();
    if (!SHA256_RE.test(expectedSha256)) throw invalid(`sha256 must be 64 hexadecimal characters, got ${JSON.stringify(opts.sha256)}.`);
  } else if (isDefault) {
    expectedSha256 = DEFAULT_MODEL.sha256;
  }
  let expectedSize: number | undefined;
  if (opts.size !== undefined) {
    if (!Number.isSafeInteger(opts.size) || opts.size < 0) {
      throw invalid(`size must be a non-negative integer number of bytes, got ${String(opts.size)}.`);
    }
    expectedSize = opts.size;
  } else if (isDefault && (opts.sha256 === undefined || expectedSha256 === DEFAULT_MODEL.sha256)) {
    expectedSize = DEFAULT_MODEL.size;
  }
  return { ...(expectedSha256 !== undefined ? { expectedSha256 } : {}), ...(expectedSize !== undefined ? { expectedSize } : {}) };
}

function resolveOptions(opts: DownloadOptions): ResolvedOptions {
  const url = resolveModelUrl(opts.url !== undefined ? { url: opts.url } : {});
  const isDefault = url === DEFAULT_MODEL.url;
  const expected = resolveExpected(opts, isDefault);
  let fileName: string;
  if (opts.fileName !== undefined) {
    fileName = opts.fileName;
    if (!fileName || fileName === '.' || fileName === '..' || /[\\/\0]/.test(fileName) || fileName.endsWith('.partial')) {
      throw invalid(`fileName must be a plain file name, got ${JSON.stringify(opts.fileName)}.`);
    }
  } else {
    fileName = isDefault ? DEFAULT_MODEL.fileName : modelFileNameForUrl(url);
  }
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!(timeoutMs > 0) || !Number.isFinite(timeoutMs)) throw invalid(`timeoutMs must be a positive number, got ${String(opts.timeoutMs)}.`);
  const progressIntervalMs = Math.max(0, opts.progressIntervalMs ?? DEFAULT_PROGRESS_INTERVAL_MS);
  const destDir = path.resolve(opts.destDir ?? path.join(defaultCacheDir(), 'models'));
  return { url, ...expected, destDir, fileName, timeoutMs, progressIntervalMs };
}

/** The file already at the path, when it has the expected bytes (no expected sha256: the expected size, if any). */
async function existingResult(o: ResolvedOptions, finalPath: string, signal: AbortSignal | undefined): Promise<DownloadResult | undefined> {
  const existing = await fsp.stat(finalPath).catch(() => undefined);
  if (!existing?.isFile() || (o.expectedSize !== undefined && existing.size !== o.expectedSize)) return undefined;
  let actual: string;
  try {
    actual = await sha256File(finalPath, signal);
  } catch {
    if (signal?.aborted) throw cancelled(o.url);
    return undefined; // unreadable: try to replace it
  }
  if (o.expectedSha256 !== undefined && actual !== o.expectedSha256) return undefined;
  return { path: finalPath, sha256: actual, bytes: existing.size, downloaded: false, url: o.url };
}

/** A fresh `.partial` file beside the destination, after removing the stale ones of dead processes. */
async function openTempFile(o: ResolvedOptions): Promise<{ tmpPath: string; fh: fsp.FileHandle }> {
  const { url, destDir, fileName } = o;
  const unwritable = (what: string, e: unknown): ClassifierError =>
    downloadFailed(url, `${what} (${errText(e)}); set ${CACHE_DIR_ENV} to a writable directory`, { destDir }, e);
  try {
    await fsp.mkdir(destDir, { recursive: true });
  } catch (e) {
    throw unwritable(`cannot create the directory ${destDir}`, e);
  }
  await removeStalePartials(destDir, fileName);
  const tmpPath = path.join(destDir, `${fileName}.${process.pid}.${randomBytes(6).toString('hex')}.partial`);
  try {
    return { tmpPath, fh: await fsp.open(tmpPath, 'wx', 0o644) };
  } catch (e) {
    throw unwritable(`cannot write to ${destDir}`, e);
  }
}

/** Throws CHECKSUM_MISMATCH unless the downloaded bytes have the expected size and sha256. */
function verify(o: ResolvedOptions, got: { bytes: number; sha256: string }): void {
  const { url, expectedSize, expectedSha256 } = o;
  if (expectedSize !== undefined && got.bytes !== expectedSize) {
    throw checksumMismatch(
      url,
      `The file downloaded from ${redactUrl(url)} has ${got.bytes} bytes but the model should have ${expectedSize}; the download was discarded.`,
      { expectedBytes: expectedSize, actualBytes: got.bytes },
      got.bytes,
    );
  }
  if (expectedSha256 !== undefined && got.sha256 !== expectedSha256) {
    throw checksumMismatch(
      url,
      `The file downloaded from ${redactUrl(url)} failed verification: expected sha256 ${expectedSha256}, ` +
        `got ${got.sha256} (${got.bytes} bytes); the download was discarded.`,
      { expectedSha256, actualSha256: got.sha256, actualBytes: got.bytes },
      got.bytes,
    );
  }
}

/**
 * Makes sure the model is at `<destDir>/<fileName>` with the expected bytes, downloading it if needed.
 *
 * A file already at the path is used when its sha256 matches (or, with no expected sha256, when its size matches
 * any expected size); otherwise it is left alone until verified bytes replace it.
 */
export async function downloadModel(opts: DownloadOptions = {}): Promise<DownloadResult> {
  const o = resolveOptions(opts);
  const { url, destDir } = o;
  const finalPath = path.join(destDir, o.fileName);
  const signal = opts.signal;
  const throwIfAborted = (): void => {
    if (signal?.aborted) throw cancelled(url);
  };
  throwIfAborted();
  const existing = await existingResult(o, finalPath, signal);
  if (existing) return existing;
  throwIfAborted();

  const { tmpPath, fh } = await openTempFile(o);
  let open: fsp.FileHandle | undefined = fh;
  try {
    const result = await transfer(o, opts, fh, tmpPath);
    open = undefined;
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    throwIfAborted();
    verify(o, result);
    try {
      await fsp.rename(tmpPath, finalPath);
    } catch (e) {
      throw downloadFailed(url, `the verified download could not be moved to ${finalPath} (${errText(e)})`, { path: finalPath }, e);
    }
    await fsyncDir(destDir);
    return { path: finalPath, sha256: result.sha256, bytes: result.bytes, downloaded: true, url };
  } catch (e) {
    if (open) await open.close().catch(() => undefined);
    await fsp.unlink(tmpPath).catch(() => undefined);
    if (e instanceof ClassifierError) throw e;
    if (signal?.aborted) throw cancelled(url);
    throw downloadFailed(url, errText(e), {}, e);
  }
}
