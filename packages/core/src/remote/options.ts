/**
 * Where the remote model lives and how to talk to it. Credentials never come from settings files: headers are
 * read from the environment (`IMAGE_CLASSIFIER_REMOTE_HEADERS`: a JSON object of header → value, or
 * `IMAGE_CLASSIFIER_REMOTE_TOKEN`: a bearer token), which the VS Code extension fills from its SecretStorage.
 */
import { ClassifierError } from '../errors.js';

export type RemoteProtocol = 'auto' | 'binary' | 'json';

export interface RemoteOptions {
  /** Base URL of the server's HTTP endpoint, e.g. http://triton:8000 (a path prefix is kept). */
  url: string;
  /** The model's name on the server. */
  model: string;
  /** Its version; absent: the newest version the server lists (pinned for the session, so the cache key holds). */
  version?: string;
  /** Extra request headers (authorization). */
  headers: Record<string, string>;
  /** Per request, from connecting to the reply's last byte. */
  timeoutMs: number;
  /** Retries after 503/502/504/429 and refused or reset connections, with exponential backoff. */
  retries: number;
  /** Inference requests in flight at once (the server batches across them). */
  inflight: number;
  /** Tensor encoding: the binary tensor extension when the server lists it (auto), or always one of them. */
  protocol: RemoteProtocol;
}

export const REMOTE_DEFAULTS = { timeoutMs: 30_000, retries: 3, inflight: 4, protocol: 'auto' as RemoteProtocol } as const;

export const REMOTE_HEADERS_ENV = 'IMAGE_CLASSIFIER_REMOTE_HEADERS';
export const REMOTE_TOKEN_ENV = 'IMAGE_CLASSIFIER_REMOTE_TOKEN';

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Headers from the environment: the JSON object in IMAGE_CLASSIFIER_REMOTE_HEADERS, plus a bearer token. */
export function remoteHeadersFromEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const out: Record<string, string> = {};
  const raw = env[REMOTE_HEADERS_ENV];
  if (raw?.trim()) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      throw new ClassifierError(
        'INVALID_ARGUMENT',
        `${REMOTE_HEADERS_ENV} must be a JSON object of header names to values, e.g. {"Authorization":"Bearer …"}; it is not JSON.`,
      );
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new ClassifierError('INVALID_ARGUMENT', `${REMOTE_HEADERS_ENV} must be a JSON object of header names to values.`);
    }
    for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) {
      if (!HEADER_NAME.test(k) || typeof v !== 'string' || /[\r\n\0]/.test(v)) {
        throw new ClassifierError(
          'INVALID_ARGUMENT',
          `${REMOTE_HEADERS_ENV}: '${k}' is not a valid header name with a one-line string value.`,
        );
      }
      out[k] = v;
    }
  }
  const token = env[REMOTE_TOKEN_ENV]?.trim();
  if (token) {
    if (/[\r\n\0]/.test(token)) throw new ClassifierError('INVALID_ARGUMENT', `${REMOTE_TOKEN_ENV} must be one line.`);
    if (!Object.keys(out).some((k) => k.toLowerCase() === 'authorization')) out.Authorization = `Bearer ${token}`;
  }
  return out;
}

/** Options with defaults filled in; the URL and model name checked. */
export function remoteOptions(
  o: Partial<RemoteOptions> & { url: string; model: string },
  env: NodeJS.ProcessEnv = process.env,
): RemoteOptions {
  if (!o.model || !/^[A-Za-z0-9._-]+$/.test(o.model)) {
    throw new ClassifierError(
      'INVALID_ARGUMENT',
      `The remote model name '${o.model}' must be letters, digits, '.', '_' or '-' (as Triton and KServe name models).`,
    );
  }
  if (o.version !== undefined && !/^[0-9A-Za-z._-]+$/.test(o.version)) {
    throw new ClassifierError('INVALID_ARGUMENT', `The remote model version '${o.version}' must be letters, digits, '.', '_' or '-'.`);
  }
  return {
    url: o.url,
    model: o.model,
    ...(o.version ? { version: o.version } : {}),
    headers: { ...remoteHeadersFromEnv(env), ...o.headers },
    timeoutMs: o.timeoutMs ?? REMOTE_DEFAULTS.timeoutMs,
    retries: o.retries ?? REMOTE_DEFAULTS.retries,
    inflight: Math.max(1, o.inflight ?? REMOTE_DEFAULTS.inflight),
    protocol: o.protocol ?? REMOTE_DEFAULTS.protocol,
  };
}
