/**
 * HTTP GET for the model download on Node's global fetch (undici):
 *
 * - Redirects are followed by hand (`redirect: 'manual'`): at most MAX_REDIRECTS hops (fetch's own 'follow' allows
 *   20 and hides the hops), and the caller sees each hop's URL for its messages.
 * - An idle timeout: `IdleAbort` aborts the request when no data arrives for `ms` (waiting for headers, or between
 *   two body chunks); the caller restarts it with `touch()` on every chunk. The caller's AbortSignal aborts it too.
 * - Credentials in a URL (which fetch refuses) become a Basic `authorization` header, as node:http sent them.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { redactUrl } from './model-source.js';

/** A `fetch`-compatible function. Inject one to route through a proxy, add headers, or observe requests in tests. */
export type FetchImpl = (url: URL, init: RequestInit) => Promise<Response>;

export const MAX_REDIRECTS = 5;

/** An HTTP-level failure (bad status, bad redirect): `reason` completes "Could not download …: ". */
export class HttpFailure extends Error {
  constructor(
    readonly reason: string,
    readonly details: Record<string, unknown>,
  ) {
    super(reason);
    this.name = 'HttpFailure';
  }
}

/** Aborts `signal` when `touch()` has not been called for `ms`, or when `outer` aborts; `kind` says which. */
export class IdleAbort {
  kind: 'timeout' | 'abort' | undefined;
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private readonly onAbort = (): void => this.fire('abort');

  constructor(
    private readonly ms: number,
    private readonly outer?: AbortSignal,
  ) {
    this.timer = setTimeout(() => this.fire('timeout'), ms);
    if (outer?.aborted) this.fire('abort');
    else outer?.addEventListener('abort', this.onAbort, { once: true });
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Data arrived: the idle time starts again. */
  touch(): void {
    this.timer.refresh();
  }

  /** Stops the timer and tears down whatever the request left open (a no-op after a fully read body). */
  dispose(): void {
    clearTimeout(this.timer);
    this.outer?.removeEventListener('abort', this.onAbort);
    this.controller.abort(new Error('request finished'));
  }

  private fire(kind: 'timeout' | 'abort'): void {
    if (this.kind || this.controller.signal.aborted) return;
    this.kind = kind;
    this.controller.abort(new Error(kind === 'abort' ? 'aborted by the caller' : `no data for ${this.ms} ms`));
  }
}

export interface GetOptions {
  fetchImpl?: FetchImpl | undefined;
  signal: AbortSignal;
  headers: Record<string, string>;
}

/** The URL being requested; `url` moves along as redirects are followed. */
export interface Hops {
  url: URL;
}

const isRedirect = (status: number): boolean => status === 301 || status === 302 || status === 303 || status === 307 || status === 308;

/**
 * GETs `hops.url`, following redirects, and returns the 2xx response (body unread). Throws HttpFailure for any other
 * status, a redirect loop or a bad Location, and fetch's own errors (network, abort) as they are.
 */
export async function getFollowingRedirects(hops: Hops, o: GetOptions): Promise<Response> {
  const doFetch: FetchImpl = o.fetchImpl ?? ((url, init) => fetch(url, init));
  const start = hops.url.toString();
  for (let hop = 0; ; hop++) {
    const [url, headers] = splitCredentials(hops.url, o.headers);
    const res = await doFetch(url, { method: 'GET', redirect: 'manual', signal: o.signal, headers });
    if (res.status >= 200 && res.status <= 299) return res;
    await discard(res);
    if (!isRedirect(res.status)) throw statusFailure(res, hops.url, hops.url.toString() !== start);
    hops.url = nextHop(res, hops.url, hop);
  }
}

/** Streams a response body through `onChunk`, one Buffer at a time; a throw from `onChunk` cancels the body. */
export async function streamBody(body: ReadableStream<Uint8Array> | null, onChunk: (chunk: Buffer) => Promise<void>): Promise<void> {
  if (!body) return;
  await pipeline(Readable.fromWeb(body as NodeReadableStream<Uint8Array>), async (source: AsyncIterable<Buffer>) => {
    for await (const chunk of source) await onChunk(chunk);
  });
}

/** Reads and drops a body that is not wanted, so the connection can be reused or closed. */
export async function discard(res: Response): Promise<void> {
  await res.body?.cancel().catch(() => undefined);
}

function splitCredentials(url: URL, headers: Record<string, string>): [URL, Record<string, string>] {
  if (!url.username && !url.password) return [url, headers];
  const bare = new URL(url);
  bare.username = '';
  bare.password = '';
  const auth = Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64');
  return [bare, { ...headers, authorization: `Basic ${auth}` }];
}

function nextHop(res: Response, from: URL, hop: number): URL {
  const status = res.status;
  const location = res.headers.get('location');
  if (!location) throw new HttpFailure(`HTTP ${status} redirect without a Location header`, { status });
  if (hop >= MAX_REDIRECTS) throw new HttpFailure(`too many redirects (more than ${MAX_REDIRECTS})`, { status });
  let next: URL;
  try {
    next = new URL(location, from);
  } catch {
    throw new HttpFailure(`HTTP ${status} redirect to an invalid address ${JSON.stringify(location)}`, { status });
  }
  if (next.protocol !== 'http:' && next.protocol !== 'https:') {
    throw new HttpFailure(`HTTP ${status} redirect to an unsupported address ${redactUrl(next.toString())}`, { status });
  }
  return next;
}

function statusFailure(res: Response, at: URL, redirected: boolean): HttpFailure {
  const status = res.status;
  const where = redirected ? ` (at ${redactUrl(at.toString())})` : '';
  const hint =
    status === 404 ? ' (the file is not at that address)' : status === 403 || status === 429 ? ' (access refused or rate-limited)' : '';
  const text = res.statusText ? ` ${res.statusText}` : '';
  return new HttpFailure(`the server answered HTTP ${status}${text}${hint}${where}`, { status });
}

/** The error behind fetch's generic TypeErrors ("fetch failed", "terminated"): the socket's or resolver's own. */
function rootCause(e: unknown): unknown {
  let c = e;
  while (c instanceof TypeError && c.cause instanceof Error) c = c.cause;
  return c;
}

export function errCode(e: unknown): string | undefined {
  const code = (rootCause(e) as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

export function errText(e: unknown): string {
  const c = rootCause(e);
  const code = errCode(c);
  const msg = c instanceof Error ? c.message : String(c);
  if (code && msg && !msg.includes(code)) return `${msg} (${code})`;
  return msg || code || 'unknown error';
}
