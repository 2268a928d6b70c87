/**
 * Minimal ONNX ModelProto reader for introspection (opsets, producer, graph inputs/outputs and node types)
 * without loading weights: initializers and other large fields are skipped by length. Also finds the model's
 * embedding (the feature vector its classifier layer reads) and adds it as a graph output, so one `session.run`
 * yields both logits and embeddings.
 */

import { concat, graphField, lengthDelimited, Reader, utf8, varintBytes } from './onnx-proto.js';

export { lengthDelimited, varintBytes } from './onnx-proto.js';

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
  /** Graph output names, in order. */
  outputs?: string[];
  /**
   * The penultimate tensor: the float feature vector the final classifier layer (Gemm / MatMul, quantized or
   * not) reads, e.g. ResNet50's 2048-d pooled features. Absent when the graph's tail is not recognised.
   */
  embedding?: EmbeddingTensor;
}

export interface EmbeddingTensor {
  /** The tensor to fetch (for a quantized model: the DequantizeLinear output added by `withEmbeddingOutput`). */
  name: string;
  /** op type of the node that computes it. */
  producer: string;
  /** Quantized features: dequantize `input` with the classifier's own scale and zero point. */
  dequantize?: { input: string; scale: string; zeroPoint: string };
}

export interface OnnxNode {
  opType: string;
  inputs: string[];
  outputs: string[];
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
    else if (field === 8 && wire === 2) out.opsets.push(readOpset(buf, r.bytes()));
    else r.skip(wire);
  }
  if (out.irVersion === undefined || !graph) throw new Error('not an ONNX model (no ir_version or graph)');
  readGraph(buf, graph, out);
  return out;
}

/** OperatorSetIdProto { domain = 1; version = 2 }. */
function readOpset(buf: Uint8Array, [s, e]: [number, number]): { domain: string; version: number } {
  const o = new Reader(buf, s, e);
  let domain = '';
  let version = 0;
  while (o.pos < o.end) {
    const k = o.varint();
    if (k >> 3 === 1 && (k & 7) === 2) domain = o.string();
    else if (k >> 3 === 2 && (k & 7) === 0) version = o.varint();
    else o.skip(k & 7);
  }
  return { domain: domain || 'ai.onnx', version };
}

/** GraphProto: counts nodes and initializers into `out`, then finds the last op and the embedding. */
function readGraph(buf: Uint8Array, [start, end]: [number, number], out: OnnxSummary): void {
  const g = new Reader(buf, start, end);
  const producers = new Map<string, OnnxNode>();
  const initializers = new Set<string>();
  const outputs: string[] = [];
  while (g.pos < g.end) {
    const key = g.varint();
    const field = Math.floor(key / 8);
    const wire = key & 7;
    if (field === 1 && wire === 2) {
      const node = readNode(buf, g.bytes());
      out.nodeCount++;
      out.opTypes[node.opType] = (out.opTypes[node.opType] ?? 0) + 1;
      for (const o of node.outputs) producers.set(o, node);
    } else if (field === 2 && wire === 2) out.graphName = g.string();
    else if (field === 5 && wire === 2) {
      out.initializerCount++;
      const name = firstString(buf, g.bytes(), 8);
      if (name !== undefined) initializers.add(name);
    } else if (field === 12 && wire === 2) {
      const name = firstString(buf, g.bytes(), 1);
      if (name !== undefined) outputs.push(name);
    } else g.skip(wire);
  }
  out.outputs = outputs;
  if (outputs[0] !== undefined) {
    const node = producers.get(outputs[0]);
    if (node !== undefined) out.lastOpType = node.opType;
    const embedding = findEmbedding(outputs[0], producers, initializers);
    if (embedding) out.embedding = embedding;
  }
}

/** NodeProto { input = 1; output = 2; op_type = 4 }. */
function readNode(buf: Uint8Array, [s, e]: [number, number]): OnnxNode {
  const n = new Reader(buf, s, e);
  const node: OnnxNode = { opType: '', inputs: [], outputs: [] };
  while (n.pos < n.end) {
    const k = n.varint();
    if (k >> 3 === 1 && (k & 7) === 2) node.inputs.push(n.string());
    else if (k >> 3 === 2 && (k & 7) === 2) node.outputs.push(n.string());
    else if (k >> 3 === 4 && (k & 7) === 2) node.opType = n.string();
    else n.skip(k & 7);
  }
  return node;
}

/** The first string field `field` of a message (a TensorProto's name = 8, a ValueInfoProto's name = 1). */
function firstString(buf: Uint8Array, [s, e]: [number, number], field: number): string | undefined {
  const t = new Reader(buf, s, e);
  while (t.pos < t.end) {
    const k = t.varint();
    if (k >> 3 === field && (k & 7) === 2) return t.string();
    t.skip(k & 7);
  }
  return undefined;
}

/** Ops between the classifier layer and the graph output that do not change what the features are. */
const PASS_THROUGH = new Set([
  'Identity',
  'Cast',
  'Softmax',
  'LogSoftmax',
  'DequantizeLinear',
  'QuantizeLinear',
  'Flatten',
  'Reshape',
  'Squeeze',
]);
/** A classifier layer: features × weights (+ bias). */
const CLASSIFIER_OPS = new Set([
  'Gemm',
  'MatMul',
  'QGemm',
  'QLinearMatMul',
  'MatMulInteger',
  'MatMulIntegerToFloat',
  'FusedMatMul',
  'DynamicQuantizeMatMul',
]);
/** Ops that only reshape a feature vector, walked back from the classifier's input. */
const RESHAPES = new Set(['Flatten', 'Reshape', 'Squeeze', 'Identity']);
/** Ops that produce quantized (integer) tensors. */
function isQuantizedOp(op: string): boolean {
  return op.startsWith('QLinear') || op === 'QuantizeLinear' || op === 'DynamicQuantizeLinear' || op.endsWith('Integer') || op === 'QGemm';
}

function findEmbedding(output: string, producers: Map<string, OnnxNode>, initializers: Set<string>): OnnxSummary['embedding'] {
  let node = producers.get(output);
  for (let hops = 0; node && hops < 8 && !CLASSIFIER_OPS.has(node.opType); hops++) {
    // A bias Add after MatMul: follow the input that is not a weight.
    const next =
      node.opType === 'Add'
        ? node.inputs.find((i) => !initializers.has(i))
        : node.opType === 'QLinearAdd'
          ? [node.inputs[0], node.inputs[3]].find((i) => i !== undefined && !initializers.has(i))
          : PASS_THROUGH.has(node.opType)
            ? node.inputs[0]
            : undefined;
    node = next === undefined ? undefined : producers.get(next);
  }
  if (!node || !CLASSIFIER_OPS.has(node.opType)) return undefined;
  const classifier = node;
  let feature = classifier.inputs[0];
  if (feature === undefined || initializers.has(feature)) return undefined;
  // `feature` is the tensor the classifier reads; reshapes keep its element type. Quantized classifiers read a
  // QuantizeLinear of the float features: take those (what the float model has).
  let candidate = feature;
  for (let hops = 0; hops < 16; hops++) {
    const p = producers.get(feature);
    if (!p) return undefined; // a graph input
    if ((p.opType === 'QuantizeLinear' || p.opType === 'DynamicQuantizeLinear') && p.inputs[0] !== undefined) {
      feature = candidate = p.inputs[0];
      continue;
    }
    if (RESHAPES.has(p.opType) && p.inputs[0] !== undefined) {
      feature = p.inputs[0];
      continue;
    }
    if (isQuantizedOp(p.opType)) {
      // Quantized features with no float form in the graph: QLinearMatMul / QGemm read them with their scale and
      // zero point (inputs 1 and 2), which is all a DequantizeLinear needs.
      const [input, scale, zeroPoint] = classifier.inputs;
      if ((classifier.opType === 'QLinearMatMul' || classifier.opType === 'QGemm') && input && scale && zeroPoint) {
        return { name: `${input}__embedding`, producer: 'DequantizeLinear', dequantize: { input, scale, zeroPoint } };
      }
      return undefined;
    }
    return { name: candidate, producer: producers.get(candidate)?.opType ?? p.opType };
  }
  return undefined;
}

/**
 * Returns a copy of the ModelProto `buf` whose graph also outputs the embedding tensor (float32), after the
 * existing outputs. For quantized features a DequantizeLinear node is appended first (its inputs all exist
 * earlier in the graph, so the node order stays topological). Repeated protobuf fields may be split, so the
 * graph's own bytes are kept as they are and the new fields appended.
 */
export function withEmbeddingOutput(buf: Uint8Array, embedding: EmbeddingTensor, outputName?: string): Uint8Array {
  const fields: Uint8Array[] = [];
  if (embedding.dequantize) {
    const { input, scale, zeroPoint } = embedding.dequantize;
    // NodeProto { input = 1 (×3); output = 2; name = 3; op_type = 4 }
    const node = concat([
      lengthDelimited(1, utf8(input)),
      lengthDelimited(1, utf8(scale)),
      lengthDelimited(1, utf8(zeroPoint)),
      lengthDelimited(2, utf8(embedding.name)),
      lengthDelimited(3, utf8(`${embedding.name}__node`)),
      lengthDelimited(4, utf8('DequantizeLinear')),
    ]);
    fields.push(lengthDelimited(1, node));
  }
  // A name of the caller's choosing (a model repository's `embedding`): an Identity node gives the tensor that name.
  const output = outputName ?? embedding.name;
  if (outputName !== undefined && outputName !== embedding.name) {
    const node = concat([
      lengthDelimited(1, utf8(embedding.name)),
      lengthDelimited(2, utf8(outputName)),
      lengthDelimited(3, utf8(`${outputName}__identity`)),
      lengthDelimited(4, utf8('Identity')),
    ]);
    fields.push(lengthDelimited(1, node));
  }
  // ValueInfoProto { name = 1; type = 2 { tensor_type = 1 { elem_type = 1: FLOAT } } }
  const typeProto = lengthDelimited(1, Uint8Array.from([0x08, 0x01]));
  fields.push(lengthDelimited(12, concat([lengthDelimited(1, utf8(output)), lengthDelimited(2, typeProto)])));
  const extra = concat(fields);
  // One allocation and one copy of the (100 MB) model: the graph field's header is rewritten with its new length,
  // the new fields go right after the graph's own bytes.
  const g = graphField(buf);
  if (!g) throw new Error('not an ONNX model (no graph)');
  const { start, s, e } = g;
  const head = Uint8Array.from([...varintBytes(7 * 8 + 2), ...varintBytes(e - s + extra.length)]);
  const out = Buffer.allocUnsafe(start + head.length + (e - s) + extra.length + (buf.length - e));
  let o = 0;
  for (const part of [buf.subarray(0, start), head, buf.subarray(s, e), extra, buf.subarray(e)]) {
    out.set(part, o);
    o += part.length;
  }
  return out;
}

/**
 * Reads a float32 initializer (a weight tensor) by name, e.g. the classifier layer's weights: curation compares
 * embeddings with them. Undefined when absent or not float32.
 */
export function readInitializer(buf: Uint8Array, name: string): { dims: number[]; data: Float32Array } | undefined {
  const graph = graphField(buf);
  if (!graph) return undefined;
  const g = new Reader(buf, graph.s, graph.e);
  while (g.pos < g.end) {
    const key = g.varint();
    if (key >> 3 !== 5 || (key & 7) !== 2) {
      g.skip(key & 7);
      continue;
    }
    const [s, e] = g.bytes();
    const t = new Reader(buf, s, e);
    const dims: number[] = [];
    let type = 0;
    let tname = '';
    let raw: [number, number] | undefined;
    let floats: [number, number] | undefined;
    while (t.pos < t.end) {
      const k = t.varint();
      const f = k >> 3;
      const w = k & 7;
      if (f === 1 && w === 0) dims.push(t.varint());
      else if (f === 1 && w === 2) {
        const [a, b] = t.bytes();
        const d = new Reader(buf, a, b);
        while (d.pos < d.end) dims.push(d.varint());
      } else if (f === 2 && w === 0) type = t.varint();
      else if (f === 8 && w === 2) tname = t.string();
      else if (f === 9 && w === 2) raw = t.bytes();
      else if (f === 4 && w === 2) floats = t.bytes();
      else t.skip(w);
    }
    if (tname !== name) continue;
    if (type !== 1) return undefined;
    const span = raw ?? floats;
    if (!span) return undefined;
    // Copy: the bytes may not be 4-byte aligned. ONNX stores raw data little-endian, as this machine reads it.
    const data = new Float32Array(Uint8Array.from(buf.subarray(span[0], span[1])).buffer);
    return { dims, data };
  }
  return undefined;
}
