/**
 * Turning what the user said (`--model`, a setting) into a local .onnx path: a file path as is, an http(s)
 * URL downloaded into the cache (verified, atomic), nothing at all → the default ResNet50 from the Model Zoo.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { ClassifierError } from '../errors.js';
import { defaultCacheDir, DEFAULT_MODEL, downloadModel, modelFileNameForUrl, resolveModelUrl, type DownloadProgress } from './download.js';

export interface ResolveModelOptions {
  /** A path, an http(s) URL, or undefined for the default model. */
  model?: string;
  /** Expected sha256 for a URL model. */
  sha256?: string;
  /** Mirror of the default model (else env IMAGE_CLASSIFIER_MODEL_URL, else the Model Zoo). */
  defaultModelUrl?: string;
  cacheDir?: string;
  onProgress?: (p: DownloadProgress) => void;
  onDownloadStart?: (url: string) => void;
  signal?: AbortSignal;
}

export function isUrl(spec: string): boolean {
  return /^https?:\/\//i.test(spec);
}

/**
 * Where a model lives on disk, without touching it: a path as given (resolved), an http(s) URL's file in
 * `<cacheDir>/models`, nothing → the default model's file there. The one place the CLI and the server compute it.
 */
export function modelFilePath(model: string | undefined, cacheDir: string = defaultCacheDir()): string {
  if (model && !isUrl(model)) return path.resolve(model);
  return path.join(cacheDir, 'models', model ? modelFileNameForUrl(model) : DEFAULT_MODEL.fileName);
}

export async function resolveModel(o: ResolveModelOptions = {}): Promise<{ path: string; downloaded: boolean; source: string }> {
  const cacheDir = o.cacheDir ?? defaultCacheDir();
  const file = modelFilePath(o.model, cacheDir);
  if (o.model && !isUrl(o.model)) {
    const p = file;
    if (!existsSync(p)) {
      throw new ClassifierError(
        'MODEL_NOT_FOUND',
        `Model file not found: ${p}. Pass an existing .onnx file or an http(s) URL, or leave the model unset to use the default ResNet50.`,
      );
    }
    return { path: p, downloaded: false, source: p };
  }
  const isDefault = !o.model;
  const url = o.model ?? resolveModelUrl(o.defaultModelUrl ? { url: o.defaultModelUrl } : {});
  // A verified default model already in the cache needs no network at all.
  o.onDownloadStart?.(url);
  const r = await downloadModel({
    url,
    destDir: path.dirname(file),
    fileName: path.basename(file),
    ...(isDefault ? { sha256: DEFAULT_MODEL.sha256, size: DEFAULT_MODEL.size } : {}),
    ...(o.sha256 ? { sha256: o.sha256 } : {}),
    ...(o.onProgress ? { onProgress: o.onProgress } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
  });
  return { path: r.path, downloaded: r.downloaded, source: url };
}
