/**
 * The Open Inference Protocol (KServe v2) over HTTP as the engine needs it: GET for health and metadata, POST for
 * inference, each with a timeout, retried with exponential backoff (and jitter, and the server's Retry-After) when
 * the server says it is briefly unable (503, 502, 504, 429) or a connection is refused or reset — inference is
 * idempotent, so a batch may be sent again. What is left after the retries becomes a typed error with a sentence:
 * REMOTE_UNAVAILABLE, REMOTE_AUTH_FAILED, REMOTE_TIMEOUT, REMOTE_MODEL_NOT_FOUND, REMOTE_FAILED.
 */
import { REMOTE_ERROR_ADVICE } from '@image-classifier/protocol/errors';
import { ClassifierError, type ErrorCode } from '../errors.js';
import { HttpFailure, type HttpReply, httpExchange, makeAgents } from './http.js';
import type { RemoteOptions } from './options.js';

const RETRY_STATUS = new Set([429, 502, 503, 504]);
const RETRY_ERRNO = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ECONNABORTED', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH']);
/** Backoff before retry n (0-based): BASE · 2ⁿ, ±25% jitter, at most MAX; Retry-After is honoured up to MAX. */
const BACKOFF_BASE_MS = 100;
const BACKOFF_MAX_MS = 5_000;
const MAX_REPLY_BYTES = 512 * 1024 * 1024;
/** After a request found the server gone (retries spent), later requests try once for this long: a folder fails fast. */
const GONE_MS = 5_000;

export function remoteError(code: ErrorCode & keyof typeof REMOTE_ERROR_ADVICE, what: string, cause?: unknown): ClassifierError {
  return new ClassifierError(code, `${what} ${REMOTE_ERROR_ADVICE[code]}`, cause !== undefined ? { cause } : undefined);
}

/** The server's own words from an error reply ({"error": "..."} in the v2 protocol), shortened. */
export function serverMessage(r: HttpReply): string {
  const text = r.body.subarray(0, 4096).toString('utf8');
  let msg = text;
  try {
    const j = JSON.parse(text) as { error?: unknown };
    if (typeof j.error === 'string') msg = j.error;
  } catch {
    // not JSON: the text as it is
  }
  msg = msg.replace(/\s+/g, ' ').trim();
  return msg.length > 300 ? `${msg.slice(0, 300)}…` : msg;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new ClassifierError('CANCELLED', 'The request was cancelled.'));
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(new ClassifierError('CANCELLED', 'The request was cancelled.'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export interface CallOptions {
  body?: Buffer[];
  headers?: Record<string, string>;
  signal?: AbortSignal | undefined;
  /** Default: the client's timeout. */
  timeoutMs?: number;
  /** Default: the client's retries (0: one attempt). */
  retries?: number;
}

export class OipClient {
  readonly base: URL;
  private readonly agents;
  /** Counters: attempts that were retried, and why (for the log and the tests). */
  readonly stats = { requests: 0, retries: 0, lastRetryReason: '' };
  /** When a request last gave up on an unreachable server (0: the last request got an answer). */
  private goneAt = 0;

  constructor(readonly options: RemoteOptions) {
    let base: URL;
    try {
      base = new URL(options.url.endsWith('/') ? options.url : `${options.url}/`);
    } catch {
      throw new ClassifierError(
        'INVALID_ARGUMENT',
        `The remote server URL '${options.url}' is not a URL (expected e.g. http://triton:8000).`,
      );
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:') {
      throw new ClassifierError('INVALID_ARGUMENT', `The remote server URL must be http:// or https:// (got '${options.url}').`);
    }
    this.base = base;
    this.agents = makeAgents(Math.max(2, options.inflight + 1));
  }

  /** The server as people name it: origin plus path prefix, no credentials. */
  get where(): string {
    return `${this.base.origin}${this.base.pathname.replace(/\/$/, '')}`;
  }

  /** `path` relative to the base URL (which may carry a prefix, e.g. KServe's ingress path). */
  url(path: string): URL {
    return new URL(path.replace(/^\//, ''), this.base);
  }

  /**
   * One request with the retry policy. Returns any reply that is not retryable (the caller reads 4xx/5xx itself,
   * except 401/403: REMOTE_AUTH_FAILED); throws REMOTE_UNAVAILABLE / REMOTE_TIMEOUT / CANCELLED.
   */
  async call(method: 'GET' | 'POST', path: string, o: CallOptions = {}): Promise<HttpReply> {
    const gone = this.goneAt > 0 && Date.now() - this.goneAt < GONE_MS;
    const retries = gone ? 0 : (o.retries ?? this.options.retries);
    const timeoutMs = o.timeoutMs ?? this.options.timeoutMs;
    const url = this.url(path);
    for (let attempt = 0; ; attempt++) {
      this.stats.requests++;
      let wait: number | undefined;
      let why: string;
      let last: { code: 'REMOTE_UNAVAILABLE' | 'REMOTE_TIMEOUT'; what: string; cause?: unknown };
      try {
        const r = await httpExchange(
          {
            method,
            url,
            headers: { Accept: 'application/json', ...this.options.headers, ...o.headers },
            ...(o.body ? { body: o.body } : {}),
            timeoutMs,
            signal: o.signal,
            maxReplyBytes: MAX_REPLY_BYTES,
          },
          this.agents,
        );
        if (r.status === 401 || r.status === 403) {
          throw remoteError(
            'REMOTE_AUTH_FAILED',
            `The server at ${this.where} refused the request to ${url.pathname} (HTTP ${r.status}: ${serverMessage(r) || 'no reason given'}).`,
          );
        }
        this.goneAt = 0;
        if (!RETRY_STATUS.has(r.status)) return r;
        why = `HTTP ${r.status}`;
        const ra = Number(r.headers['retry-after']);
        if (Number.isFinite(ra) && ra >= 0) wait = Math.min(BACKOFF_MAX_MS, ra * 1000);
        last = {
          code: 'REMOTE_UNAVAILABLE',
          what: `The server at ${this.where} answered ${url.pathname} with HTTP ${r.status} (${serverMessage(r) || 'unavailable'})`,
        };
      } catch (e) {
        if (!(e instanceof HttpFailure)) throw e;
        if (e.kind === 'aborted') throw new ClassifierError('CANCELLED', 'The request was cancelled.');
        if (e.kind === 'timeout') {
          // A slow server is not retried: the batch would wait the timeout again, and the server may still be working on it.
          throw remoteError(
            'REMOTE_TIMEOUT',
            `The server at ${this.where} did not answer ${method} ${url.pathname} within ${timeoutMs} ms.`,
            e,
          );
        }
        if (e.kind === 'too-large')
          throw remoteError('REMOTE_FAILED', `The server at ${this.where} sent a reply to ${url.pathname} that is too large. ${e.message}`);
        if (!RETRY_ERRNO.has(e.errno ?? '')) {
          throw remoteError('REMOTE_UNAVAILABLE', `The server at ${this.where} could not be reached (${e.errno}: ${e.message}).`, e);
        }
        why = e.errno!;
        last = {
          code: 'REMOTE_UNAVAILABLE',
          what:
            e.errno === 'ECONNREFUSED'
              ? `Nothing answers at ${this.where} (connection refused)`
              : `The connection to ${this.where} failed (${e.errno}: ${e.message})`,
          cause: e,
        };
      }
      if (attempt >= retries) {
        if (last.cause) this.goneAt = Date.now();
        const tries = retries > 0 ? `, also after ${retries} retries` : gone ? ' (it was unreachable moments ago too)' : '';
        throw remoteError(last.code, `${last.what}${tries}.`, last.cause);
      }
      this.stats.retries++;
      this.stats.lastRetryReason = why;
      const backoff = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** attempt) * (0.75 + Math.random() * 0.5);
      await sleep(wait ?? backoff, o.signal);
    }
  }

  /** GET → parsed JSON (2xx), else the reply for the caller to judge. */
  async getJson<T>(path: string, o: CallOptions = {}): Promise<{ ok: true; value: T } | { ok: false; reply: HttpReply }> {
    const r = await this.call('GET', path, o);
    if (r.status < 200 || r.status >= 300) return { ok: false, reply: r };
    try {
      return { ok: true, value: JSON.parse(r.body.toString('utf8')) as T };
    } catch (e) {
      throw remoteError('REMOTE_FAILED', `The server at ${this.where} answered ${path} with something that is not JSON.`, e);
    }
  }

  close(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }
}
