/** Protobuf reading and writing for ONNX files: a field reader that skips by length, varints, and the graph field. */

export class Reader {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }
  varint(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (this.pos >= this.end) throw new Error('truncated varint');
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return result;
      shift += 7;
      if (shift > 63) throw new Error('varint too long');
    }
  }
  skip(wire: number): void {
    switch (wire) {
      case 0:
        this.varint();
        return;
      case 1:
        this.pos += 8;
        return;
      case 2: {
        const n = this.varint();
        this.pos += n;
        return;
      }
      case 5:
        this.pos += 4;
        return;
      default:
        throw new Error(`unsupported wire type ${wire}`);
    }
  }
  bytes(): [number, number] {
    const n = this.varint();
    const s = this.pos;
    this.pos += n;
    if (this.pos > this.end) throw new Error('truncated field');
    return [s, this.pos];
  }
  string(): string {
    const [s, e] = this.bytes();
    return Buffer.from(this.buf.buffer, this.buf.byteOffset + s, e - s).toString('utf8');
  }
}

/** Protobuf varint bytes of `n`. */
export function varintBytes(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return out;
}

/** A protobuf length-delimited field (a string, bytes or an embedded message). */
export function lengthDelimited(field: number, body: Uint8Array): Uint8Array {
  const head = [...varintBytes(field * 8 + 2), ...varintBytes(body.length)];
  const out = new Uint8Array(head.length + body.length);
  out.set(head, 0);
  out.set(body, head.length);
  return out;
}

export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Where the ModelProto's graph field is: its key's offset and its body [s, e). */
export function graphField(buf: Uint8Array): { start: number; s: number; e: number } | undefined {
  const r = new Reader(buf, 0, buf.length);
  while (r.pos < r.end) {
    const start = r.pos;
    const key = r.varint();
    if (key >> 3 === 7 && (key & 7) === 2) {
      const [s, e] = r.bytes();
      return { start, s, e };
    }
    r.skip(key & 7);
  }
  return undefined;
}
