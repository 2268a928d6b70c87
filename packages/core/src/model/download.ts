/**
 * The product's default-model download: the only network access the product ever makes.
 *
 * - Streams the body (never buffers the file), hashes while streaming, writes to a temp file in the destination
 *   directory (`<name>.<pid>.<random>.partial`), fsyncs it, verifies size and sha256, then renames it into place.
 * - Nothing unverified ever lands at the final path, and an existing file there is only replaced by verified bytes.
 * - On failure the temp file is removed and a ClassifierError is thrown: CHECKSUM_MISMATCH when the bytes are not the
 *   expected ones, CANCELLED when the caller aborted, MODEL_DOWNLOAD_FAILED otherwise, INVALID_ARGUMENT for bad options.
 * - Only node:http / node:https, following at most 5 redirects (GitHub's /raw/ path redirects to
 *   media.githubusercontent.com for git-lfs files).
 */
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as http from 'node:http';
import * as https from 'node:https';
import * as os from 'node:os';
import * as path from 'node:path';
import { ClassifierError } from '../errors.js';

/** ResNet50 v1 (opset 12) from the ONNX Model Zoo (git-lfs), as listed in docs/environment.md. */
export const DEFAULT_MODEL = {
  name: 'resnet50-v1-12',
  fileName: 'resnet50-v1-12.onnx',
  url: 'https://github.com/onnx/models/raw/main/validated/vision/classification/resnet/model/resnet50-v1-12.onnx',
  size: 102576593,
  sha256: '3f03fdef724b22947eed826f1eef1dc5c34151bb4c37d634f1db89dfa2dd1526',
} as const;

/** Environment variable overriding the model URL (mirrors, air-gapped sites). */
export const MODEL_URL_ENV = 'IMAGE_CLASSIFIER_MODEL_URL';
/** Environment variable overriding the whole cache directory. */
export const CACHE_DIR_ENV = 'IMAGE_CLASSIFIER_CACHE_DIR';

export const MAX_REDIRECTS = 5;
export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_PROGRESS_INTERVAL_MS = 100;

const APP_DIR = 'image-classifier';
const SHA256_RE = /^[0-9a-f]{64}$/;
const LFS_POINTER_PREFIX = 'version https://git-lfs.github.com/spec/';
/** A `.partial` file whose writer is gone is removed once it is older than this. */
const STALE_PARTIAL_MS = 5 * 60_000;

export interface DownloadProgress {
  receivedBytes: number;
  /** Content-Length, else the expected size, else unknown until the end (the final report always has it). */
  totalBytes?: number;
  /** 0..100; present when totalBytes is known. Exactly 100 only in the final report. */
  percent?: number;
  /** Average transfer rate since the response started, bytes per second. */
  bytesPerSecond?: number;
  elapsedMs?: number;
}

/**
 * An `http.request`-compatible function (the default picks node:http or node:https by protocol).
 * Inject one to route through a proxy, add headers, or observe requests in tests.
 */
export type RequestImpl = (url: URL, options: http.RequestOptions, callback: (res: http.IncomingMessage) => void) => http.ClientRequest;

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
  fetchImpl?: RequestImpl;
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
// Locations

export interface CacheDirContext {
  env?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
  homedir?: string;
}

/**
 * The user's cache directory for this product: `$IMAGE_CLASSIFIER_CACHE_DIR`, else `$XDG_CACHE_HOME/image-classifier`,
 * else `~/Library/Caches/image-classifier` (macOS), `%LOCALAPPDATA%\image-classifier\Cache` (Windows),
 * `~/.cache/image-classifier` (Linux and others). `ctx` exists for tests.
 */
export function defaultCacheDir(ctx: CacheDirContext = {}): string {
  const env = ctx.env ?? process.env;
  const platform = ctx.platform ?? process.platform;
  const p = platform === 'win32' ? path.win32 : path.posix;
  const home = (): string => ctx.homedir ?? os.homedir();

  const override = env[CACHE_DIR_ENV]?.trim();
  if (override) return p.resolve(override);
  const xdg = env['XDG_CACHE_HOME']?.trim();
  // The XDG spec says relative values are invalid and must be ignored.
  if (xdg && p.isAbsolute(xdg)) return p.join(xdg, APP_DIR);
  if (platform === 'win32') {
    const local = env['LOCALAPPDATA']?.trim() || p.join(home(), 'AppData', 'Local');
    return p.join(local, APP_DIR, 'Cache');
  }
  if (platform === 'darwin') return p.join(home(), 'Library', 'Caches', APP_DIR);
  return p.join(home(), '.cache', APP_DIR);
}

/** Where the default model lives once downloaded. */
export function defaultModelPath(ctx: CacheDirContext = {}): string {
  const p = (ctx.platform ?? process.platform) === 'win32' ? path.win32 : path.posix;
  return p.join(defaultCacheDir(ctx), 'models', DEFAULT_MODEL.fileName);
}

/** option > env IMAGE_CLASSIFIER_MODEL_URL > DEFAULT_MODEL.url. Throws INVALID_ARGUMENT for a non-http(s) URL. */
export function resolveModelUrl(opts: { url?: string; env?: NodeJS.ProcessEnv } = {}): string {
  const fromOption = opts.url?.trim();
  if (fromOption) {
    parseHttpUrl(fromOption, 'The model URL');
    return fromOption;
  }
  const fromEnv = (opts.env ?? process.env)[MODEL_URL_ENV]?.trim();
  if (fromEnv) {
    parseHttpUrl(fromEnv, `${MODEL_URL_ENV}`);
    return fromEnv;
  }
  return DEFAULT_MODEL.url;
}

/** The file name a URL is stored under: its last path segment, decoded and reduced to [A-Za-z0-9._-]. */
export function modelFileNameForUrl(url: string): string {
  let segment = '';
  try {
    const parts = new URL(url).pathname.split('/').filter(Boolean);
    segment = parts[parts.length - 1] ?? '';
  } catch {
    segment = '';
  }
  try {
    segment = decodeURIComponent(segment);
  } catch {
    /* keep it encoded */
  }
  let name = segment
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/^[._]+/, '')
    .slice(0, 200);
  if (!name || /\.partial$/i.test(name)) name = name ? `${name}.onnx` : 'model.onnx';
  return name;
}

// ---------------------------------------------------------------------------------------------------------------
// Hashing and progress display

/** sha256 (hex) of a file, streamed in 1 MiB reads. */
export async function sha256File(filePath: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  const stream = fs.createReadStream(filePath, { highWaterMark: 1 << 20, ...(signal ? { signal } : {}) });
  for await (const chunk of stream as AsyncIterable<Buffer>) hash.update(chunk);
  return hash.digest('hex');
}

function formatMB(bytes: number): string {
  return (bytes / 1e6).toFixed(1);
}

/**
 * The bar and percent every progress line starts with: `[#########.........]  45%` (`width` = inner width).
 * The CLI's download and classify lines both draw it.
 */
export function renderBar(percent: number, width = 30): string {
  const w = Math.max(1, Math.floor(width));
  const clamped = Math.min(100, Math.max(0, percent));
  const filled = Math.min(w, Math.floor((clamped / 100) * w));
  return `[${'#'.repeat(filled)}${'.'.repeat(w - filled)}] ${`${Math.floor(clamped)}%`.padStart(4)}`;
}

/**
 * One terminal line: `[#########.........]  45%  46.2/102.6 MB  12.3 MB/s` (MB = 10^6 bytes).
 * Without a known total: `[..................]    ?  46.2 MB  12.3 MB/s`. `width` is the bar's inner width.
 */
export function renderProgressBar(p: DownloadProgress, width = 30): string {
  const w = Math.max(1, Math.floor(width));
  const total = p.totalBytes !== undefined && p.totalBytes > 0 ? p.totalBytes : undefined;
  let percent = p.percent;
  if (percent === undefined && total !== undefined) percent = (p.receivedBytes / total) * 100;
  if (percent === undefined && total === undefined && p.totalBytes === 0) percent = 100;
  let line: string;
  if (percent !== undefined && Number.isFinite(percent)) {
    const sizes = total !== undefined ? `${formatMB(p.receivedBytes)}/${formatMB(total)} MB` : `${formatMB(p.receivedBytes)} MB`;
    line = `${renderBar(percent, w)}  ${sizes}`;
  } else {
    line = `[${'.'.repeat(w)}]    ?  ${formatMB(p.receivedBytes)} MB`;
  }
  if (p.bytesPerSecond !== undefined && Number.isFinite(p.bytesPerSecond) && p.bytesPerSecond >= 0) {
    line += `  ${formatMB(p.bytesPerSecond)} MB/s`;
  }
  return line;
}

// ---------------------------------------------------------------------------------------------------------------
// Errors

/** Removes credentials from a URL before it goes into a message. */
function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.username || u.password) {
      u.username = '';
      u.password = '';
    }
    return u.toString();
  } catch {
    return url;
  }
}

function parseHttpUrl(url: string, what: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ClassifierError(
      'INVALID_ARGUMENT',
      `${what} is not a valid URL: ${JSON.stringify(redactUrl(url))}. Use an http:// or https:// address, ` +
        `or pass a local model file with --model <path>.`,
    );
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') {
    throw new ClassifierError(
      'INVALID_ARGUMENT',
      `${what} must be an http:// or https:// address, not ${u.protocol} (${redactUrl(url)}). ` +
        `To use a file already on this machine, pass it with --model <path>.`,
    );
  }
  return u;
}

const AIRGAP_HINT =
  `Check the network or proxy, set ${MODEL_URL_ENV} to a reachable mirror, or on an air-gapped machine copy the ` +
  `.onnx file over and pass it with --model <path>.`;

function downloadFailed(url: string, reason: string, details: Record<string, unknown>, cause?: unknown): ClassifierError {
  return new ClassifierError('MODEL_DOWNLOAD_FAILED', `Could not download the model from ${redactUrl(url)}: ${reason}. ${AIRGAP_HINT}`, {
    details: { url: redactUrl(url), ...details },
    ...(cause !== undefined ? { cause } : {}),
  });
}

function mirrorHint(url: string, actualBytes?: number): string {
  let hint =
    `Check that ${redactUrl(url)} serves the expected file unchanged` +
    ` (if ${MODEL_URL_ENV} points to a mirror, check the mirror), or pass the matching sha256.`;
  if (actualBytes !== undefined && actualBytes < 1024) {
    hint += ' A file this small is often a git-lfs pointer rather than the model itself.';
  }
  return hint;
}

function cancelled(url: string): ClassifierError {
  return new ClassifierError('CANCELLED', `The model download from ${redactUrl(url)} was cancelled; nothing was kept.`, {
    details: { url: redactUrl(url) },
  });
}

function errCode(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function errText(e: unknown): string {
  const code = errCode(e);
  const msg = e instanceof Error ? e.message : String(e);
  if (code && msg && !msg.includes(code)) return `${msg} (${code})`;
  return msg || code || 'unknown error';
}

// ---------------------------------------------------------------------------------------------------------------
// Download

const defaultRequest: RequestImpl = (url, options, callback) =>
  (url.protocol === 'https:' ? https.request : http.request)(url, options, callback);

function isRedirect(status: number): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308;
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

interface ResolvedOptions {
  url: string;
  expectedSha256?: string;
  expectedSize?: number;
  destDir: string;
  fileName: string;
  timeoutMs: number;
  progressIntervalMs: number;
}

function resolveOptions(opts: DownloadOptions): ResolvedOptions {
  const url = resolveModelUrl(opts.url !== undefined ? { url: opts.url } : {});
  const isDefault = url === DEFAULT_MODEL.url;

  let expectedSha256: string | undefined;
  if (opts.sha256 !== undefined) {
    const s = opts.sha256.trim().toLowerCase();
    if (!SHA256_RE.test(s)) {
      throw new ClassifierError('INVALID_ARGUMENT', `sha256 must be 64 hexadecimal characters, got ${JSON.stringify(opts.sha256)}.`);
    }
    expectedSha256 = s;
  } else if (isDefault) {
    expectedSha256 = DEFAULT_MODEL.sha256;
  }

  let expectedSize: number | undefined;
  if (opts.size !== undefined) {
    if (!Number.isSafeInteger(opts.size) || opts.size < 0) {
      throw new ClassifierError('INVALID_ARGUMENT', `size must be a non-negative integer number of bytes, got ${String(opts.size)}.`);
    }
    expectedSize = opts.size;
  } else if (isDefault && (opts.sha256 === undefined || expectedSha256 === DEFAULT_MODEL.sha256)) {
    expectedSize = DEFAULT_MODEL.size;
  }

  let fileName: string;
  if (opts.fileName !== undefined) {
    fileName = opts.fileName;
    if (!fileName || fileName === '.' || fileName === '..' || /[\\/\0]/.test(fileName) || fileName.endsWith('.partial')) {
      throw new ClassifierError('INVALID_ARGUMENT', `fileName must be a plain file name, got ${JSON.stringify(opts.fileName)}.`);
    }
  } else {
    fileName = isDefault ? DEFAULT_MODEL.fileName : modelFileNameForUrl(url);
  }

  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!(timeoutMs > 0) || !Number.isFinite(timeoutMs)) {
    throw new ClassifierError('INVALID_ARGUMENT', `timeoutMs must be a positive number, got ${String(opts.timeoutMs)}.`);
  }
  const progressIntervalMs = Math.max(0, opts.progressIntervalMs ?? DEFAULT_PROGRESS_INTERVAL_MS);

  const destDir = path.resolve(opts.destDir ?? path.join(defaultCacheDir(), 'models'));
  return {
    url,
    ...(expectedSha256 !== undefined ? { expectedSha256 } : {}),
    ...(expectedSize !== undefined ? { expectedSize } : {}),
    destDir,
    fileName,
    timeoutMs,
    progressIntervalMs,
  };
}

/**
 * Makes sure the model is at `<destDir>/<fileName>` with the expected bytes, downloading it if needed.
 *
 * A file already at the path is used when its sha256 matches (or, with no expected sha256, when its size matches
 * any expected size); otherwise it is left alone until verified bytes replace it.
 */
export async function downloadModel(opts: DownloadOptions = {}): Promise<DownloadResult> {
  const o = resolveOptions(opts);
  const { url, expectedSha256, expectedSize, destDir, fileName } = o;
  const finalPath = path.join(destDir, fileName);
  const signal = opts.signal;
  const throwIfAborted = (): void => {
    if (signal?.aborted) throw cancelled(url);
  };
  throwIfAborted();

  // 1. Already there?
  const existing = await fsp.stat(finalPath).catch(() => undefined);
  if (existing?.isFile() && (expectedSize === undefined || existing.size === expectedSize)) {
    let actual: string | undefined;
    try {
      actual = await sha256File(finalPath, signal);
    } catch {
      throwIfAborted();
      actual = undefined; // unreadable: try to replace it
    }
    if (actual !== undefined && (expectedSha256 === undefined || actual === expectedSha256)) {
      return { path: finalPath, sha256: actual, bytes: existing.size, downloaded: false, url };
    }
  }
  throwIfAborted();

  // 2. Download to a temp file beside the destination.
  try {
    await fsp.mkdir(destDir, { recursive: true });
  } catch (e) {
    throw downloadFailed(
      url,
      `cannot create the directory ${destDir} (${errText(e)}); set ${CACHE_DIR_ENV} to a writable directory`,
      { destDir },
      e,
    );
  }
  await removeStalePartials(destDir, fileName);

  const tmpPath = path.join(destDir, `${fileName}.${process.pid}.${randomBytes(6).toString('hex')}.partial`);
  let fh: fsp.FileHandle | undefined;
  try {
    try {
      fh = await fsp.open(tmpPath, 'wx', 0o644);
    } catch (e) {
      throw downloadFailed(url, `cannot write to ${destDir} (${errText(e)}); set ${CACHE_DIR_ENV} to a writable directory`, { destDir }, e);
    }
    const result = await transfer(o, opts, fh, tmpPath);
    const handle = fh;
    fh = undefined;
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    throwIfAborted();

    // 3. Verify.
    if (expectedSize !== undefined && result.bytes !== expectedSize) {
      throw new ClassifierError(
        'CHECKSUM_MISMATCH',
        `The file downloaded from ${redactUrl(url)} has ${result.bytes} bytes but the model should have ${expectedSize}; ` +
          `the download was discarded. ${mirrorHint(url, result.bytes)}`,
        { details: { url: redactUrl(url), expectedBytes: expectedSize, actualBytes: result.bytes } },
      );
    }
    if (expectedSha256 !== undefined && result.sha256 !== expectedSha256) {
      throw new ClassifierError(
        'CHECKSUM_MISMATCH',
        `The file downloaded from ${redactUrl(url)} failed verification: expected sha256 ${expectedSha256}, ` +
          `got ${result.sha256} (${result.bytes} bytes); the download was discarded. ${mirrorHint(url, result.bytes)}`,
        { details: { url: redactUrl(url), expectedSha256, actualSha256: result.sha256, actualBytes: result.bytes } },
      );
    }

    // 4. Move into place atomically.
    try {
      await fsp.rename(tmpPath, finalPath);
    } catch (e) {
      throw downloadFailed(url, `the verified download could not be moved to ${finalPath} (${errText(e)})`, { path: finalPath }, e);
    }
    await fsyncDir(destDir);
    return { path: finalPath, sha256: result.sha256, bytes: result.bytes, downloaded: true, url };
  } catch (e) {
    if (fh) await fh.close().catch(() => undefined);
    await fsp.unlink(tmpPath).catch(() => undefined);
    if (e instanceof ClassifierError) throw e;
    if (signal?.aborted) throw cancelled(url);
    throw downloadFailed(url, errText(e), {}, e);
  }
}

interface TransferResult {
  bytes: number;
  sha256: string;
}

/** Requests the URL (following redirects) and streams the body into `fh`, hashing it. */
async function transfer(o: ResolvedOptions, opts: DownloadOptions, fh: fsp.FileHandle, tmpPath: string): Promise<TransferResult> {
  const { url, expectedSize, timeoutMs } = o;
  const request = opts.fetchImpl ?? defaultRequest;
  const signal = opts.signal;

  let failure: 'timeout' | 'abort' | undefined;
  let currentReq: http.ClientRequest | undefined;
  let currentRes: http.IncomingMessage | undefined;
  const kill = (kind: 'timeout' | 'abort'): void => {
    if (failure) return;
    failure = kind;
    const err = new Error(kind === 'abort' ? 'aborted by the caller' : `no data for ${timeoutMs} ms`);
    currentRes?.destroy(err);
    currentReq?.destroy(err);
  };
  const timer = setTimeout(() => kill('timeout'), timeoutMs);
  const onAbort = (): void => kill('abort');
  signal?.addEventListener('abort', onAbort, { once: true });

  let received = 0;
  let contentLength: number | undefined;
  let phase: 'connect' | 'body' = 'connect';
  let currentUrl = parseHttpUrl(url, 'The model URL');

  const failureError = (e: unknown): ClassifierError => {
    if (failure === 'abort' || signal?.aborted) return cancelled(url);
    const where = currentUrl.toString() !== url ? ` (redirected to ${redactUrl(currentUrl.toString())})` : '';
    if (failure === 'timeout') {
      const at = phase === 'body' ? ` after ${received} bytes` : ' while waiting for the server';
      return downloadFailed(url, `no data arrived for ${timeoutMs / 1000} s${at}${where}`, { timeoutMs, receivedBytes: received }, e);
    }
    if (phase === 'body') {
      const of = contentLength !== undefined ? ` of ${contentLength}` : '';
      return downloadFailed(
        url,
        `the connection broke after ${received}${of} bytes (${errText(e)})${where}`,
        { receivedBytes: received, ...(contentLength !== undefined ? { expectedBytes: contentLength } : {}), code: errCode(e) },
        e,
      );
    }
    return downloadFailed(url, `network error: ${errText(e)}${where}`, { code: errCode(e) }, e);
  };

  try {
    // Request, following redirects.
    let res: http.IncomingMessage;
    for (let hop = 0; ; hop++) {
      res = await new Promise<http.IncomingMessage>((resolve, reject) => {
        let req: http.ClientRequest;
        try {
          req = request(
            currentUrl,
            {
              method: 'GET',
              agent: false,
              headers: { 'user-agent': 'image-classifier', accept: '*/*', 'accept-encoding': 'identity' },
            },
            (r) => {
              // Errors before the body is read surface through the iterator; never leave them unhandled.
              r.on('error', () => undefined);
              resolve(r);
            },
          );
        } catch (e) {
          reject(e);
          return;
        }
        currentReq = req;
        req.on('error', reject);
        req.end();
      });
      currentRes = res;
      timer.refresh();
      const status = res.statusCode ?? 0;
      if (isRedirect(status)) {
        const location = res.headers.location;
        res.resume();
        res.destroy();
        if (!location) {
          throw downloadFailed(url, `HTTP ${status} redirect without a Location header`, { status });
        }
        if (hop >= MAX_REDIRECTS) {
          throw downloadFailed(url, `too many redirects (more than ${MAX_REDIRECTS})`, { status });
        }
        let next: URL;
        try {
          next = new URL(location, currentUrl);
        } catch {
          throw downloadFailed(url, `HTTP ${status} redirect to an invalid address ${JSON.stringify(location)}`, { status });
        }
        if (next.protocol !== 'http:' && next.protocol !== 'https:') {
          throw downloadFailed(url, `HTTP ${status} redirect to an unsupported address ${redactUrl(next.toString())}`, { status });
        }
        currentUrl = next;
        continue;
      }
      if (status < 200 || status > 299) {
        res.resume();
        res.destroy();
        const where = currentUrl.toString() !== url ? ` (at ${redactUrl(currentUrl.toString())})` : '';
        const hint =
          status === 404
            ? ' (the file is not at that address)'
            : status === 403 || status === 429
              ? ' (access refused or rate-limited)'
              : '';
        throw downloadFailed(url, `the server answered HTTP ${status}${res.statusMessage ? ` ${res.statusMessage}` : ''}${hint}${where}`, {
          status,
        });
      }
      break;
    }

    const cl = res.headers['content-length'];
    if (cl !== undefined && /^\d+$/.test(cl)) contentLength = Number(cl);
    if (contentLength !== undefined && expectedSize !== undefined && contentLength !== expectedSize) {
      res.destroy();
      throw new ClassifierError(
        'CHECKSUM_MISMATCH',
        `The server at ${redactUrl(url)} offers ${contentLength} bytes but the model should have ${expectedSize}; ` +
          `nothing was kept. ${mirrorHint(url, contentLength)}`,
        { details: { url: redactUrl(url), expectedBytes: expectedSize, actualBytes: contentLength } },
      );
    }

    // Stream the body.
    phase = 'body';
    const total = contentLength ?? expectedSize;
    const started = performance.now();
    let lastEmit = -Infinity;
    const emit = (final: boolean): void => {
      if (!opts.onProgress) return;
      const now = performance.now();
      if (!final && now - lastEmit < o.progressIntervalMs) return;
      lastEmit = now;
      const elapsedMs = now - started;
      const totalBytes = final ? received : total;
      const p: DownloadProgress = { receivedBytes: received, elapsedMs };
      if (totalBytes !== undefined) {
        p.totalBytes = totalBytes;
        p.percent = final ? 100 : totalBytes > 0 ? Math.min(99.9, (received / totalBytes) * 100) : 0;
      }
      if (elapsedMs > 0) p.bytesPerSecond = (received / elapsedMs) * 1000;
      try {
        opts.onProgress(p);
      } catch {
        /* a faulty progress callback must not break the download */
      }
    };
    emit(false);

    const hash = createHash('sha256');
    let head = Buffer.alloc(0);
    for await (const chunk of res as AsyncIterable<Buffer>) {
      timer.refresh();
      received += chunk.length;
      hash.update(chunk);
      if (head.length < LFS_POINTER_PREFIX.length) head = Buffer.concat([head, chunk]).subarray(0, LFS_POINTER_PREFIX.length);
      if (expectedSize !== undefined && received > expectedSize) {
        res.destroy();
        throw new ClassifierError(
          'CHECKSUM_MISMATCH',
          `The server at ${redactUrl(url)} sent more than the model's ${expectedSize} bytes; the download was discarded. ${mirrorHint(url)}`,
          { details: { url: redactUrl(url), expectedBytes: expectedSize, receivedBytes: received } },
        );
      }
      try {
        let off = 0;
        while (off < chunk.length) {
          const { bytesWritten } = await fh.write(chunk, off, chunk.length - off);
          off += bytesWritten;
        }
      } catch (e) {
        res.destroy();
        throw downloadFailed(url, `cannot write ${tmpPath} (${errText(e)})`, { path: tmpPath, code: errCode(e) }, e);
      }
      if (received !== total) emit(false);
    }
    if (failure) throw new Error(failure);

    if (contentLength !== undefined && received !== contentLength) {
      throw downloadFailed(url, `the connection closed after ${received} of ${contentLength} bytes`, {
        receivedBytes: received,
        expectedBytes: contentLength,
      });
    }
    if (received === 0) {
      throw downloadFailed(url, 'the server sent an empty file', { receivedBytes: 0 });
    }
    if (expectedSize === undefined && head.toString('latin1') === LFS_POINTER_PREFIX) {
      throw downloadFailed(url, 'the server sent a git-lfs pointer file instead of the model (use the raw/media URL of the file)', {
        receivedBytes: received,
      });
    }
    emit(true);
    return { bytes: received, sha256: hash.digest('hex') };
  } catch (e) {
    if (e instanceof ClassifierError) throw e;
    throw failureError(e);
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
    currentRes?.destroy();
    currentReq?.destroy();
  }
}
