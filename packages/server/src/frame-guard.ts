/**
 * LSP framing, checked before vscode-jsonrpc's reader sees it. That reader, given a header it cannot use (no
 * Content-Length, a non-numeric one), reports an error and then ignores everything that follows, so the server
 * stays alive but deaf; a huge Content-Length makes it buffer without limit; a wrong one misaligns every later
 * message. This Transform passes well-formed frames through unchanged and, at the first malformed one, stops
 * passing anything and calls `onViolation` with the reason. The server then logs it and exits (code 1): after a
 * framing error nothing later on the stream can be trusted, and an exit is what every client notices and
 * answers with a restart (the extension restarts a server that stops unexpectedly), whereas an error answer
 * would need a message boundary that no longer exists.
 *
 * A frame is valid when its header lines are `Name: value` with token names, Content-Length appears (once, or
 * repeated with the same value) as a decimal 0 < n ≤ maxFrameBytes, and the header ends within 8 KiB. A frame
 * left incomplete for `stallMs` (a Content-Length larger than the body that came) counts as malformed too.
 */
import { Transform, type TransformCallback } from 'node:stream';

/** The largest message body accepted (the largest real one, a 100,000-file batch, is ~15 MB). */
export const MAX_FRAME_BYTES = 64 * 1024 * 1024;
/** The longest header block accepted. */
export const MAX_HEADER_BYTES = 8 * 1024;
/** Default for how long a frame may stay incomplete. */
export const FRAME_STALL_MS = 10_000;

const HEADER_END = Buffer.from('\r\n\r\n');
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** A header name being read: token characters only, so garbage is refused before its line ends. */
const PARTIAL_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]*$/;

export interface FrameGuardOptions {
  maxFrameBytes?: number;
  stallMs?: number;
  onViolation: (reason: string) => void;
}

/** The Content-Length of a complete header block, or why the block is malformed. */
export function parseHeader(text: string, maxFrameBytes = MAX_FRAME_BYTES): { length: number } | { error: string } {
  let length: number | undefined;
  for (const line of text.split('\r\n')) {
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon) : '';
    if (!TOKEN.test(name)) return { error: `malformed header line ${JSON.stringify(line.slice(0, 80))}` };
    if (name.toLowerCase() !== 'content-length') continue;
    const value = line.slice(colon + 1).trim();
    if (!/^\d{1,16}$/.test(value)) return { error: `Content-Length ${JSON.stringify(value.slice(0, 40))} is not a decimal byte count` };
    const n = Number(value);
    if (length !== undefined && n !== length) return { error: `two different Content-Length headers (${length} and ${n})` };
    length = n;
  }
  if (length === undefined) return { error: `the header has no Content-Length (${JSON.stringify(text.slice(0, 80))})` };
  if (length === 0) return { error: 'Content-Length 0: an empty message' };
  if (length > maxFrameBytes) return { error: `Content-Length ${length} exceeds the limit of ${maxFrameBytes} bytes` };
  return { length };
}

export class FrameGuard extends Transform {
  private header = Buffer.alloc(0);
  /** Body bytes still to pass through; -1 while a header is being read. */
  private remaining = -1;
  private broken = false;
  private stallTimer: NodeJS.Timeout | undefined;
  private readonly maxFrameBytes: number;
  private readonly stallMs: number;

  constructor(private readonly opts: FrameGuardOptions) {
    super();
    this.maxFrameBytes = opts.maxFrameBytes ?? MAX_FRAME_BYTES;
    this.stallMs = opts.stallMs ?? FRAME_STALL_MS;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    if (!this.broken) {
      const why = this.consume(chunk);
      if (why) this.violation(why);
      else this.armStallTimer();
    }
    done();
  }

  override _flush(done: TransformCallback): void {
    this.clearStallTimer();
    done();
  }

  private violation(reason: string): void {
    this.broken = true;
    this.header = Buffer.alloc(0);
    this.clearStallTimer();
    this.opts.onViolation(reason);
  }

  /** Passes on what is well-formed; returns the reason at the first violation. */
  private consume(chunk: Buffer): string | undefined {
    let data = chunk;
    while (data.length > 0) {
      if (this.remaining > 0) {
        const n = Math.min(this.remaining, data.length);
        this.push(data.subarray(0, n));
        this.remaining -= n;
        data = data.subarray(n);
        if (this.remaining === 0) this.remaining = -1;
        continue;
      }
      const buf = this.header.length ? Buffer.concat([this.header, data]) : data;
      const end = buf.indexOf(HEADER_END);
      if (end < 0) {
        this.header = Buffer.from(buf);
        return this.checkPartialHeader();
      }
      const parsed = parseHeader(buf.subarray(0, end).toString('latin1'), this.maxFrameBytes);
      if ('error' in parsed) return parsed.error;
      this.push(buf.subarray(0, end + HEADER_END.length));
      this.header = Buffer.alloc(0);
      this.remaining = parsed.length;
      data = buf.subarray(end + HEADER_END.length);
    }
    return undefined;
  }

  private checkPartialHeader(): string | undefined {
    if (this.header.length > MAX_HEADER_BYTES) return `no end of header within ${MAX_HEADER_BYTES} bytes`;
    const text = this.header.toString('latin1');
    const eol = text.lastIndexOf('\r\n');
    const lastLine = eol < 0 ? text : text.slice(eol + 2);
    const colon = lastLine.indexOf(':');
    const name = colon >= 0 ? lastLine.slice(0, colon) : lastLine.replace(/\r$/, '');
    if (!PARTIAL_NAME.test(name)) return `malformed header line ${JSON.stringify(lastLine.slice(0, 80))}`;
    return undefined;
  }

  private armStallTimer(): void {
    this.clearStallTimer();
    if (this.remaining === -1 && this.header.length === 0) return;
    this.stallTimer = setTimeout(() => {
      const what = this.remaining > 0 ? `${this.remaining} bytes of a message body` : 'the end of a header';
      this.violation(`waited ${this.stallMs} ms for ${what} that never came (a Content-Length larger than the message?)`);
    }, this.stallMs);
    this.stallTimer.unref();
  }

  private clearStallTimer(): void {
    if (this.stallTimer) clearTimeout(this.stallTimer);
    this.stallTimer = undefined;
  }
}
