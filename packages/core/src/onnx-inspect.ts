/**
 * Minimal ONNX ModelProto reader for introspection (opsets, producer, graph inputs/outputs and node types)
 * without loading weights: initializers and other large fields are skipped by length.
 */

export interface OnnxSummary {
  irVersion?: number;
  producerName?: string;
  producerVersion?: string;
  domain?: string;
  modelVersion?: number;
  opsets: Array<{ domain: string; version: number }>;
  graphName?: string;
  nodeCount: number;
  opTypes: Record<string, number>;
  /** op type of the node that produces the first graph output. */
  lastOpType?: string;
  initializerCount: number;
}

class Reader {
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

/** Parses the top of an ONNX file. Throws on bytes that are not a protobuf ModelProto. */
export function inspectOnnx(buf: Uint8Array): OnnxSummary {
  const r = new Reader(buf, 0, buf.length);
  const out: OnnxSummary = { opsets: [], nodeCount: 0, opTypes: {}, initializerCount: 0 };
  let graph: [number, number] | undefined;
  while (r.pos < r.end) {
    const key = r.varint();
    const field = Math.floor(key / 8);
    const wire = key & 7;
    if (field === 1 && wire === 0) out.irVersion = r.varint();
    else if (field === 2 && wire === 2) out.producerName = r.string();
    else if (field === 3 && wire === 2) out.producerVersion = r.string();
    else if (field === 4 && wire === 2) out.domain = r.string();
    else if (field === 5 && wire === 0) out.modelVersion = r.varint();
    else if (field === 7 && wire === 2) graph = r.bytes();
    else if (field === 8 && wire === 2) {
      const [s, e] = r.bytes();
      const o = new Reader(buf, s, e);
      let domain = '';
      let version = 0;
      while (o.pos < o.end) {
        const k = o.varint();
        if (k >> 3 === 1 && (k & 7) === 2) domain = o.string();
        else if (k >> 3 === 2 && (k & 7) === 0) version = o.varint();
        else o.skip(k & 7);
      }
      out.opsets.push({ domain: domain || 'ai.onnx', version });
    } else r.skip(wire);
  }
  if (out.irVersion === undefined || !graph) throw new Error('not an ONNX model (no ir_version or graph)');
  const g = new Reader(buf, graph[0], graph[1]);
  const producers = new Map<string, string>();
  const outputs: string[] = [];
  while (g.pos < g.end) {
    const key = g.varint();
    const field = Math.floor(key / 8);
    const wire = key & 7;
    if (field === 1 && wire === 2) {
      const [s, e] = g.bytes();
      const n = new Reader(buf, s, e);
      let opType = '';
      const nodeOutputs: string[] = [];
      while (n.pos < n.end) {
        const k = n.varint();
        if (k >> 3 === 2 && (k & 7) === 2) nodeOutputs.push(n.string());
        else if (k >> 3 === 4 && (k & 7) === 2) opType = n.string();
        else n.skip(k & 7);
      }
      out.nodeCount++;
      out.opTypes[opType] = (out.opTypes[opType] ?? 0) + 1;
      for (const o of nodeOutputs) producers.set(o, opType);
    } else if (field === 2 && wire === 2) out.graphName = g.string();
    else if (field === 5 && wire === 2) {
      out.initializerCount++;
      g.skip(wire);
    } else if (field === 12 && wire === 2) {
      const [s, e] = g.bytes();
      const v = new Reader(buf, s, e);
      while (v.pos < v.end) {
        const k = v.varint();
        if (k >> 3 === 1 && (k & 7) === 2) outputs.push(v.string());
        else v.skip(k & 7);
      }
    } else g.skip(wire);
  }
  if (outputs[0] !== undefined) {
    const op = producers.get(outputs[0]);
    if (op !== undefined) out.lastOpType = op;
  }
  return out;
}
