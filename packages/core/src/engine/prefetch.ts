/**
 * Decoding the first images while the model loads. Creating an ONNX Runtime session takes a few hundred
 * milliseconds in which a core would otherwise sit idle: the files the caller names (`ClassifierOptions.prefetch`)
 * are read, decoded and preprocessed meanwhile, with the preprocessing the model is expected to take (the options'
 * overrides of ImageNet's: 224×224, NCHW). Once the model is loaded, the tensors are used only if that expectation
 * holds (same `preprocessKey`); otherwise they are dropped and the images decoded again the ordinary way.
 */
import { readImageFile } from '../fs/read-file.js';
import type { PreprocessPool } from '../image/preprocess-pool.js';
import {
  preprocessImage,
  preprocessKey,
  type PreprocessConfig,
  type PreprocessResult,
  resolvePreprocessConfig,
  tensorElements,
} from '../image/preprocess.js';
import { defaultThreads } from '../model/session.js';
import type { ClassifierOptions } from './classifier-options.js';
import type { PreprocessingMode } from '@image-classifier/protocol/settings';

export interface PrefetchSettings {
  preprocessing: PreprocessingMode;
  config: PreprocessConfig;
  maxPixels?: number;
}

export class Prefetch {
  private readonly ready = new Map<string, Promise<PreprocessResult>>();
  private stopped = false;
  readonly key: string;

  /**
   * Starts on `files` (or on the list once it arrives: the caller may still be walking its folders) and decodes
   * the first `limit` of them, `concurrency` at a time, in `pool`'s decoder processes or, without one, in this thread.
   */
  constructor(
    files: string[] | Promise<string[]>,
    private readonly settings: PrefetchSettings,
    private readonly pool: PreprocessPool | undefined,
    limit: number,
    concurrency: number,
  ) {
    this.key = preprocessKey(settings.preprocessing, settings.config);
    void Promise.resolve(files).then(
      (list) => this.start(list.slice(0, limit), Math.max(1, concurrency)),
      () => undefined,
    );
  }

  private start(files: string[], concurrency: number): void {
    let next = 0;
    // A file named twice is decoded once here; its second request takes the ordinary path.
    const lane = async (): Promise<void> => {
      while (!this.stopped && next < files.length) {
        const file = files[next++]!;
        if (this.ready.has(file)) continue;
        const p = this.decode(file);
        this.ready.set(file, p);
        await p.catch(() => undefined);
      }
    };
    for (let i = 0; i < Math.min(concurrency, files.length); i++) void lane();
  }

  private async decode(file: string): Promise<PreprocessResult> {
    const bytes = await readImageFile(file);
    let out: Float32Array = new Float32Array(tensorElements(this.settings.config));
    const s = { preprocessing: this.settings.preprocessing, config: this.settings.config, ...this.maxPixels() };
    return this.pool ? this.pool.run(bytes, file, s, out, (back) => (out = back)) : preprocessImage(bytes, file, { ...s, out });
  }

  private maxPixels(): { maxPixels?: number } {
    return this.settings.maxPixels !== undefined ? { maxPixels: this.settings.maxPixels } : {};
  }

  /**
   * `opts.prefetch` with the preprocessing the model is expected to take (the options' overrides of ImageNet's,
   * checked against the model's once it is loaded), at most two batches ahead, as many at a time as decoders.
   */
  static forClassifier(opts: ClassifierOptions, pool: PreprocessPool | undefined): Prefetch {
    const settings = {
      preprocessing: opts.preprocessing ?? 'exact',
      config: resolvePreprocessConfig(opts.preprocess),
      ...(opts.maxPixels !== undefined ? { maxPixels: opts.maxPixels } : {}),
    };
    const limit = Math.max(1, opts.maxBatch ?? 8) * 2;
    return new Prefetch(opts.prefetch ?? [], settings, pool, limit, pool ? Math.max(1, opts.decodeConcurrency ?? defaultThreads()) : 1);
  }

  /** The decode of `file` started here (its tensor, or its error), once; undefined when it was not prefetched. */
  take(file: string): Promise<PreprocessResult> | undefined {
    const p = this.ready.get(file);
    if (p) this.ready.delete(file);
    return p;
  }

  /** No further decodes start (the classifier is ready: its own path takes the rest); those started stay to be taken. */
  freeze(): void {
    this.stopped = true;
  }

  /** No further decodes start; those not taken are dropped. */
  stop(): void {
    this.stopped = true;
    for (const p of this.ready.values()) p.catch(() => undefined);
    this.ready.clear();
  }
}
