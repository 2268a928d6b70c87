/**
 * Where the default model comes from and where downloaded models are kept: the default model's identity, the
 * URL (option, environment, default), the cache directory per platform, and the file name a URL is stored under.
 */
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

const APP_DIR = 'image-classifier';

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

/** Removes credentials from a URL before it goes into a message. */
export function redactUrl(url: string): string {
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

/** Parses an http(s) URL; INVALID_ARGUMENT naming `what` otherwise. */
export function parseHttpUrl(url: string, what: string): URL {
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
