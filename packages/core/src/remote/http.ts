/**
 * One HTTP exchange with an inference server over node's own http/https (keep-alive agents, no dependencies): the
 * body goes out as a list of buffers (a JSON header and the tensor bytes, never concatenated), the reply comes back
 * whole. A timeout covers the whole exchange, from connecting to the last byte of the reply; an abort signal ends
 * it at once. Failures are `HttpFailure`s that say which of those happened, for the retry policy to read.
 */
import * as http from 'node:http';
import * as https from 'node:https';

export interface HttpReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export type HttpFailureKind = 'network' | 'timeout' | 'aborted' | 'too-large';

export class HttpFailure extends Error {
  constructor(
    readonly kind: HttpFailureKind,
    message: string,
    /** The socket error's code for `network` failures (ECONNREFUSED, ECONNRESET, …). */
    readonly errno?: string,
  ) {
    super(message);
    this.name = 'HttpFailure';
  }
}

export interface HttpRequest {
  method: 'GET' | 'POST';
  url: URL;
  headers: Record<string, string>;
  body?: Buffer[];
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  /** Replies larger than this are refused (a misbehaving server must not fill the client's memory). */
  maxReplyBytes: number;
}

/** Keep-alive agents with at most `sockets` connections each, one pair per client. */
export function makeAgents(sockets: number): { http: http.Agent; https: https.Agent } {
  const o = { keepAlive: true, maxSockets: sockets, maxFreeSockets: sockets, keepAliveMsecs: 1000 };
  return { http: new http.Agent(o), https: new https.Agent(o) };
}

export function httpExchange(req: HttpRequest, agents: { http: http.Agent; https: https.Agent }): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    if (req.signal?.aborted) {
      reject(new HttpFailure('aborted', 'The request was cancelled.'));
      return;
    }
    const secure = req.url.protocol === 'https:';
    const length = (req.body ?? []).reduce((n, b) => n + b.length, 0);
    const headers: Record<string, string> = { ...req.headers };
    if (req.body) headers['Content-Length'] = String(length);
    let settled = false;
    const finish = (e: Error | undefined, r?: HttpReply) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.signal?.removeEventListener('abort', onAbort);
      if (e) reject(e);
      else resolve(r!);
    };
    const cr = (secure ? https : http).request(
      req.url,
      { method: req.method, headers, agent: secure ? agents.https : agents.http },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > req.maxReplyBytes) {
            cr.destroy();
            finish(new HttpFailure('too-large', `The reply is larger than ${req.maxReplyBytes} bytes.`));
            return;
          }
          chunks.push(c);
        });
        res.on('end', () => finish(undefined, { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks, size) }));
        res.on('error', (e: NodeJS.ErrnoException) => finish(new HttpFailure('network', e.message, e.code ?? 'ECONNRESET')));
        res.on('aborted', () => finish(new HttpFailure('network', 'The connection closed before the reply was complete.', 'ECONNRESET')));
      },
    );
    const timer = setTimeout(() => {
      finish(new HttpFailure('timeout', `No complete reply within ${req.timeoutMs} ms.`));
      cr.destroy();
    }, req.timeoutMs);
    const onAbort = () => {
      finish(new HttpFailure('aborted', 'The request was cancelled.'));
      cr.destroy();
    };
    req.signal?.addEventListener('abort', onAbort, { once: true });
    cr.on('error', (e: NodeJS.ErrnoException) => {
      const code = e.code ?? (/socket hang up/i.test(e.message) ? 'ECONNRESET' : 'EIO');
      finish(new HttpFailure('network', e.message, code));
    });
    for (const b of req.body ?? []) cr.write(b);
    cr.end();
  });
}
