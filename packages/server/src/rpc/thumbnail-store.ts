/**
 * The thumbnails on disk and the decoder processes that make them. A thumbnail is
 * `<cacheDir>/thumbnails/<hash[0..2]>/<hash>-<size>.webp`, `hash` being the image's content hash (the result cache's
 * SHA-256 prefix): a moved file keeps its thumbnail, a changed one gets a new one. Written to a temporary name and
 * renamed, so a reader never sees half a file. Made in a PreprocessPool of its own (started on first use, niced
 * below the JSON-RPC loop): the same decoders, guards and time budget as classification, and a flood of thumbnails
 * never queues ahead of an image waiting to be classified.
 */
import { closeSync, openSync, readSync, rmSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import * as path from 'node:path';
import { ClassifierError, defaultPreprocessWorkerScript, PreprocessPool, toClassifierError, webpSize } from '@image-classifier/core';
import { renameReplacing } from '@image-classifier/protocol/platform';

export interface StoredThumbnail {
  path: string;
  width: number;
  height: number;
}

/** Failures remembered (per content, size and pixel limit), so a grid that scrolls back does not decode them again. */
const MAX_FAILURES = 10_000;

/** Files read and made at once, across all requests (the rest wait for a slot). */
const MAX_ACTIVE = 12;

/** Decoder processes for thumbnails: half the cores, 1..4. */
function poolSize(): number {
  return Math.max(1, Math.min(4, Math.floor(availableParallelism() / 2)));
}

const cancelled = () => new ClassifierError('CANCELLED', 'The request was cancelled.');

/** `p`, or CANCELLED as soon as `signal` aborts (`p` goes on). */
function untilAborted<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return p;
  if (signal.aborted) return Promise.reject(cancelled());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(cancelled());
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

export class ThumbnailStore {
  private pool: PreprocessPool | undefined;
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly inflight = new Map<string, Promise<StoredThumbnail>>();
  private readonly failures = new Map<string, ClassifierError>();
  private closed = false;

  constructor(private readonly opts: { workerScript?: string; nice: number }) {}

  static dirOf(cacheDir: string): string {
    return path.join(cacheDir, 'thumbnails');
  }

  private static fileOf(dir: string, hash: string, size: number): string {
    return path.join(dir, hash.slice(0, 2), `${hash}-${size}.webp`);
  }

  /** The thumbnail of content `hash` at `size`, if it is on disk (its size read from the WebP header). */
  cached(dir: string, hash: string, size: number): StoredThumbnail | undefined {
    const file = ThumbnailStore.fileOf(dir, hash, size);
    let fd: number;
    try {
      fd = openSync(file, 'r');
    } catch {
      return undefined;
    }
    try {
      const head = new Uint8Array(30);
      const n = readSync(fd, head, 0, head.length, 0);
      const dims = webpSize(head.subarray(0, n));
      return dims ? { path: file, ...dims } : undefined;
    } catch {
      return undefined;
    } finally {
      closeSync(fd);
    }
  }

  /**
   * The thumbnail of `bytes` (content `hash`, a file called `name`): from disk, else made in a decoder and written.
   * One decode per content at a time: concurrent requests share it, and one that is cancelled stops waiting (CANCELLED
   * at once) while the decode goes on for the others and the disk. A failure is remembered until `clear`.
   */
  async get(
    dir: string,
    hash: string,
    bytes: Uint8Array,
    name: string,
    o: { size: number; maxPixels?: number; signal?: AbortSignal },
  ): Promise<{ thumbnail: StoredThumbnail; made: boolean }> {
    const hit = this.cached(dir, hash, o.size);
    if (hit) return { thumbnail: hit, made: false };
    const key = `${dir}\0${hash}\0${o.size}\0${o.maxPixels ?? ''}`;
    const failed = this.failures.get(key);
    if (failed) throw failed;
    let job = this.inflight.get(key);
    if (!job) {
      const opts = { size: o.size, ...(o.maxPixels !== undefined ? { maxPixels: o.maxPixels } : {}) };
      job = this.make(dir, hash, bytes, name, opts)
        .catch((e: unknown) => {
          const err = toClassifierError(e, 'DECODE_FAILED');
          if (err.code !== 'CANCELLED' && err.code !== 'MODEL_NOT_READY' && err.code !== 'INTERNAL') this.remember(key, err);
          throw err;
        })
        .finally(() => this.inflight.delete(key));
      // Nobody may be waiting any more (every request cancelled): the failure is remembered, not thrown at the loop.
      job.catch(() => undefined);
      this.inflight.set(key, job);
    }
    return { thumbnail: await untilAborted(job, o.signal), made: true };
  }

  /**
   * A place among the files being read and made (at most MAX_ACTIVE across all requests, so concurrent requests do
   * not hold every file's bytes at once); CANCELLED when `signal` aborts while waiting.
   */
  async slot(signal?: AbortSignal): Promise<() => void> {
    if (this.active >= MAX_ACTIVE) {
      await new Promise<void>((resolve, reject) => {
        const waiter = () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        };
        const onAbort = () => {
          const i = this.waiting.indexOf(waiter);
          if (i >= 0) this.waiting.splice(i, 1);
          reject(cancelled());
        };
        if (signal?.aborted) return reject(cancelled());
        signal?.addEventListener('abort', onAbort, { once: true });
        this.waiting.push(waiter);
      });
    } else this.active++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    };
  }

  private remember(key: string, err: ClassifierError): void {
    if (this.failures.size >= MAX_FAILURES) this.failures.delete(this.failures.keys().next().value as string);
    this.failures.set(key, err);
  }

  private async make(
    dir: string,
    hash: string,
    bytes: Uint8Array,
    name: string,
    o: { size: number; maxPixels?: number },
  ): Promise<StoredThumbnail> {
    const t = await this.decoders().thumbnail(bytes, name, o);
    const file = ThumbnailStore.fileOf(dir, hash, o.size);
    const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    try {
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(tmp, t.webp);
      // Windows: a reader of the same thumbnail (another window's server) can hold it open for a moment.
      await renameReplacing(rename, tmp, file);
    } catch (e) {
      rmSync(tmp, { force: true });
      throw new ClassifierError(
        'INTERNAL',
        `Cannot write the thumbnail of ${name} into ${dir} (${(e as Error).message}). Check that imageClassifier.cacheDir is writable.`,
      );
    }
    return { path: file, width: t.width, height: t.height };
  }

  private decoders(): PreprocessPool {
    if (this.closed) throw new ClassifierError('MODEL_NOT_READY', 'The server is shutting down.');
    // Thumbnails are made in decoder processes only (decoder threads make classification tensors).
    this.pool ??= new PreprocessPool(poolSize(), defaultPreprocessWorkerScript(this.opts.workerScript), {
      nice: this.opts.nice,
      threads: 0,
    });
    return this.pool;
  }

  /** Removes every thumbnail under `dir` and forgets the failures. */
  clear(dir: string): void {
    this.failures.clear();
    rmSync(dir, { recursive: true, force: true });
  }

  /** Stops the decoders (a decode in flight gets a short while to finish, see PreprocessPool.close). */
  async close(): Promise<void> {
    this.closed = true;
    await this.pool?.close();
    this.pool = undefined;
  }
}
