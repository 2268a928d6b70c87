/**
 * The server's settings: their type, their defaults, and the one function that turns whatever arrived
 * (`initializationOptions`, `settings.imageClassifier` in `workspace/didChangeConfiguration`, a wrong type, an old
 * spelling) into valid settings, saying what it refused. The server never casts what the client sent.
 */

export type PreprocessingMode = 'exact' | 'fast';
export const PREPROCESSING_MODES: readonly PreprocessingMode[] = ['exact', 'fast'];

export type InferenceBackendKind = 'local' | 'remote';
export const INFERENCE_BACKENDS: readonly InferenceBackendKind[] = ['local', 'remote'];
export type RemoteTensorProtocol = 'auto' | 'binary' | 'json';
export const REMOTE_PROTOCOLS: readonly RemoteTensorProtocol[] = ['auto', 'binary', 'json'];

export type GraphOptimization = 'disabled' | 'basic' | 'extended' | 'all';
export const GRAPH_OPTIMIZATIONS: readonly GraphOptimization[] = ['disabled', 'basic', 'extended', 'all'];

/** Sent as `initializationOptions` and as `settings.imageClassifier` in `workspace/didChangeConfiguration`. */
export interface ServerSettings {
  /** Path or http(s) URL of an .onnx model; empty = the default ResNet50 (downloaded on first use). */
  model?: string;
  /** Expected sha256 of a URL model. */
  modelSha256?: string;
  /** Mirror of the default model's URL. */
  defaultModelUrl?: string;
  /** Labels file, one per line; empty = ImageNet-1k. */
  labels?: string;
  topK?: number;
  preprocessing?: PreprocessingMode;
  /** Intra-op threads; 0 or absent = all cores. */
  threads?: number;
  executionProviders?: string[];
  graphOptimizationLevel?: GraphOptimization;
  /** Models, optimized models and the result cache live here. */
  cacheDir?: string;
  /** Absolute filesystem paths the server may read images from. Files elsewhere are refused. */
  roots?: string[];
  maxImagePixels?: number;
  /** Dynamic batching: largest batch and how long a partial batch waits (ms). */
  maxBatch?: number;
  maxDelayMs?: number;
  /** Images accepted but not yet finished, beyond which requests are refused with QUEUE_FULL. */
  maxQueue?: number;
  /**
   * Where inference runs: `local` (ONNX Runtime in the server process, the default) or `remote` (an Open
   * Inference Protocol server: Triton, KServe). Credentials for the server are never settings: the server process
   * reads them from IMAGE_CLASSIFIER_REMOTE_HEADERS / IMAGE_CLASSIFIER_REMOTE_TOKEN (the extension fills them
   * from its secret storage).
   */
  backend?: InferenceBackendKind;
  /** The server's HTTP base URL, e.g. http://triton.internal:8000 (no user:password in it). */
  remoteUrl?: string;
  /** The model's name on the server. */
  remoteModel?: string;
  /** Its version; empty: the newest the server has. */
  remoteVersion?: string;
  /** Per request (ms). */
  remoteTimeoutMs?: number;
  /** Inference requests in flight at once. */
  remoteInflight?: number;
  /** Tensor encoding: the binary tensor extension when the server has it (auto), or always binary / JSON. */
  remoteProtocol?: RemoteTensorProtocol;
  /** Batches the server cannot answer are classified by the local model (`model`). */
  fallbackToLocal?: boolean;
}

/** Defaults of the settings that have one (the others are absent unless set). */
export const SETTING_DEFAULTS = {
  topK: 5,
  preprocessing: 'exact' as PreprocessingMode,
  threads: 0,
  graphOptimizationLevel: 'all' as GraphOptimization,
  maxImagePixels: 100_000_000,
  maxBatch: 8,
  maxDelayMs: 2,
  maxQueue: 4096,
  backend: 'local' as InferenceBackendKind,
  remoteTimeoutMs: 30_000,
  remoteInflight: 4,
  remoteProtocol: 'auto' as RemoteTensorProtocol,
  fallbackToLocal: false,
} as const;

/** Bounds of the numeric settings (inclusive). `threads` is further bounded by twice the cores. */
export const SETTING_LIMITS = {
  topK: [1, 1000],
  threads: [0, 1024],
  maxImagePixels: [1, 2_000_000_000],
  maxBatch: [1, 256],
  maxDelayMs: [0, 1000],
  maxQueue: [1, 1_000_000],
  remoteTimeoutMs: [100, 3_600_000],
  remoteInflight: [1, 64],
} as const;

export interface NormalizedSettings {
  /** Valid settings: each refused value replaced by its default (or left out where there is none). */
  settings: ServerSettings;
  /** One sentence per refused value, for the log. */
  problems: string[];
  /** The keys whose value was refused (wholly: `roots` is listed when none of its entries could be used). */
  refused: Array<keyof ServerSettings>;
}

const STRING_KEYS = ['model', 'modelSha256', 'defaultModelUrl', 'labels', 'cacheDir', 'remoteUrl', 'remoteModel', 'remoteVersion'] as const;

function isAbsolutePath(p: string): boolean {
  return p.startsWith('/') || /^[A-Za-z]:[\\/]/.test(p) || p.startsWith('\\\\') || /^file:\/\//i.test(p);
}

/**
 * `value` (anything) → valid settings. Unknown keys are ignored; wrong types and out-of-range values are refused
 * with a problem line each and replaced by the default. `cores` bounds `threads` to twice the cores.
 */
export function normalizeSettings(value: unknown, opts: { cores?: number } = {}): NormalizedSettings {
  const problems: string[] = [];
  const refused: Array<keyof ServerSettings> = [];
  const out: ServerSettings = {};
  if (value === undefined || value === null) return { settings: out, problems, refused };
  if (typeof value !== 'object' || Array.isArray(value)) {
    return { settings: out, problems: [`settings must be an object (got ${describe(value)}); using the defaults.`], refused };
  }
  const v = value as Record<string, unknown>;
  const refuse = (key: keyof ServerSettings, why: string, fallback?: unknown) => {
    refused.push(key);
    problems.push(`${key}: ${why} (got ${describe(v[key])}); ${fallback === undefined ? 'ignored' : `using ${JSON.stringify(fallback)}`}.`);
  };

  for (const key of STRING_KEYS) {
    const x = v[key];
    if (x === undefined || x === null) continue;
    if (typeof x !== 'string' || x.includes('\0')) refuse(key, 'must be a string');
    else out[key] = x;
  }
  const integer = (key: keyof typeof SETTING_LIMITS, max?: number) => {
    const x = v[key];
    if (x === undefined || x === null) return;
    const [lo, hi0] = SETTING_LIMITS[key];
    const hi = max !== undefined ? Math.min(hi0, max) : hi0;
    const fallback = (SETTING_DEFAULTS as Record<string, unknown>)[key];
    if (typeof x !== 'number' || !Number.isInteger(x)) refuse(key, 'must be an integer', fallback);
    else if (x < lo || x > hi) refuse(key, `must be between ${lo} and ${hi}`, fallback);
    else out[key] = x;
  };
  integer('topK');
  integer('threads', opts.cores ? Math.max(1, opts.cores * 2) : undefined);
  integer('maxImagePixels');
  integer('maxBatch');
  integer('maxDelayMs');
  integer('maxQueue');
  integer('remoteTimeoutMs');
  integer('remoteInflight');
  normalizeRemote(v, out, refuse, refused, problems);

  if (v.preprocessing !== undefined && v.preprocessing !== null) {
    if (PREPROCESSING_MODES.includes(v.preprocessing as PreprocessingMode)) out.preprocessing = v.preprocessing as PreprocessingMode;
    else refuse('preprocessing', `must be one of ${PREPROCESSING_MODES.join(', ')}`, SETTING_DEFAULTS.preprocessing);
  }
  if (v.graphOptimizationLevel !== undefined && v.graphOptimizationLevel !== null) {
    if (GRAPH_OPTIMIZATIONS.includes(v.graphOptimizationLevel as GraphOptimization)) {
      out.graphOptimizationLevel = v.graphOptimizationLevel as GraphOptimization;
    } else refuse('graphOptimizationLevel', `must be one of ${GRAPH_OPTIMIZATIONS.join(', ')}`, SETTING_DEFAULTS.graphOptimizationLevel);
  }
  if (v.executionProviders !== undefined && v.executionProviders !== null) {
    const x = v.executionProviders;
    if (Array.isArray(x) && x.length <= 16 && x.every((p) => typeof p === 'string' && p.length > 0 && p.length < 64)) {
      out.executionProviders = x as string[];
    } else refuse('executionProviders', 'must be a list of provider names', ['cpu']);
  }
  if (v.roots !== undefined && v.roots !== null) {
    const x = v.roots;
    // A string is refused, never walked as a list (its characters would become roots, `/` among them).
    if (!Array.isArray(x)) refuse('roots', 'must be a list of absolute paths');
    else {
      const ok = x.filter((r): r is string => typeof r === 'string' && r.length > 0 && !r.includes('\0') && isAbsolutePath(r));
      if (ok.length !== x.length) problems.push(`roots: ${x.length - ok.length} entries are not absolute paths and were ignored.`);
      // All refused: the server falls back to the workspace folders from initialize, or refuses every file.
      if (ok.length > 0 || x.length === 0) out.roots = ok;
      else refused.push('roots');
    }
  }
  return { settings: out, problems, refused };
}

/** The backend choice, the tensor protocol, the fallback switch; a URL with credentials in it is refused. */
function normalizeRemote(
  v: Record<string, unknown>,
  out: ServerSettings,
  refuse: (key: keyof ServerSettings, why: string, fallback?: unknown) => void,
  refused: Array<keyof ServerSettings>,
  problems: string[],
): void {
  const oneOf = <T extends string>(key: 'backend' | 'remoteProtocol', allowed: readonly T[], fallback: T) => {
    const x = v[key];
    if (x === undefined || x === null) return;
    if (allowed.includes(x as T)) (out as Record<string, unknown>)[key] = x;
    else refuse(key, `must be one of ${allowed.join(', ')}`, fallback);
  };
  oneOf('backend', INFERENCE_BACKENDS, SETTING_DEFAULTS.backend);
  oneOf('remoteProtocol', REMOTE_PROTOCOLS, SETTING_DEFAULTS.remoteProtocol);
  if (v.fallbackToLocal !== undefined && v.fallbackToLocal !== null) {
    if (typeof v.fallbackToLocal === 'boolean') out.fallbackToLocal = v.fallbackToLocal;
    else refuse('fallbackToLocal', 'must be true or false', SETTING_DEFAULTS.fallbackToLocal);
  }
  if (out.remoteUrl && /^[a-z][a-z0-9+.-]*:\/\/[^/]*@/i.test(out.remoteUrl)) {
    // Said without the value: it holds a secret.
    delete out.remoteUrl;
    refused.push('remoteUrl');
    problems.push(
      'remoteUrl: must not carry a user name or password (settings are plain text: put credentials in IMAGE_CLASSIFIER_REMOTE_HEADERS, or in VS Code use "Image Classifier: Set Remote Server Credentials"); ignored.',
    );
  }
}

function describe(x: unknown): string {
  if (typeof x === 'string') return JSON.stringify(x.length > 40 ? `${x.slice(0, 40)}…` : x);
  if (Array.isArray(x)) return 'a list';
  if (x === null) return 'null';
  if (typeof x === 'object') return 'an object';
  return String(x);
}
