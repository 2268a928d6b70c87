/**
 * A remote model's signature, read from the server (`GET /v2/models/<name>[/versions/<v>]`, Triton's `/config` for
 * the largest batch) and checked against what this client sends and reads: one FP32 image input
 * `[batch, 3, H, W]` (or `[batch, H, W, 3]`), FP32 logits `[batch, classes]` and, when the model has one, an FP32
 * embedding `[batch, dims]`. The result is the engine's `ModelInfo`, so preprocessing follows the remote model.
 */
import type { ModelInfo } from '../model/session.js';
import type { OipClient } from './client.js';
import { remoteError, serverMessage } from './client.js';
import type { RemoteModelInfo } from '@image-classifier/protocol';

interface TensorMeta {
  name: string;
  datatype: string;
  shape: number[];
}

export interface ModelMetadata {
  name: string;
  versions?: string[];
  platform?: string;
  inputs?: TensorMeta[];
  outputs?: TensorMeta[];
}

export interface ServerMetadata {
  name?: string;
  version?: string;
  extensions?: string[];
}

/** What `model info` shows about a remote model: the protocol's type, the one the server sends. */
export type { RemoteModelInfo };

const EMBEDDING_NAME = /embed|feature|pool/i;

function shapeText(t: TensorMeta): string {
  return `${t.name} ${t.datatype} [${(t.shape ?? []).join(', ')}]`;
}

/** The path of a model (and version) under /v2. */
export function modelPath(model: string, version?: string): string {
  return `v2/models/${encodeURIComponent(model)}${version ? `/versions/${encodeURIComponent(version)}` : ''}`;
}

/** Reads the model's metadata; REMOTE_MODEL_NOT_FOUND when the server has no such model (or version). */
export async function fetchModelMetadata(client: OipClient, model: string, version: string | undefined): Promise<ModelMetadata> {
  const r = await client.getJson<ModelMetadata>(modelPath(model, version));
  if (r.ok) return r.value;
  const msg = serverMessage(r.reply);
  if (r.reply.status === 404 || (r.reply.status === 400 && /unknown model|not found|no model|version/i.test(msg))) {
    throw remoteError(
      'REMOTE_MODEL_NOT_FOUND',
      `The server at ${client.where} has no model '${model}'${version ? ` version ${version}` : ''} (HTTP ${r.reply.status}: ${msg || 'not found'}).`,
    );
  }
  throw remoteError(
    'REMOTE_FAILED',
    `The server at ${client.where} answered the metadata request for '${model}' with HTTP ${r.reply.status} (${msg}).`,
  );
}

/** Triton's max_batch_size (`GET …/config`); undefined when the server has no such endpoint (KServe). */
export async function fetchMaxBatchSize(client: OipClient, model: string, version: string): Promise<number | undefined> {
  try {
    const r = await client.getJson<{ max_batch_size?: unknown }>(`${modelPath(model, version)}/config`, { retries: 0 });
    const n = r.ok ? r.value.max_batch_size : undefined;
    return typeof n === 'number' && Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

/** The metadata → the engine's ModelInfo; REMOTE_MODEL_MISMATCH (saying what is wrong) when it cannot be fed. */
export function remoteModelInfo(meta: ModelMetadata, remote: RemoteModelInfo, loadMs: number): ModelInfo {
  const where = `The model '${remote.model}' (version ${remote.version}) on ${remote.url}`;
  const mismatch = (why: string) => remoteError('REMOTE_MODEL_MISMATCH', `${where} ${why}.`);
  const inputs = Array.isArray(meta.inputs) ? meta.inputs : [];
  const outputs = (Array.isArray(meta.outputs) ? meta.outputs : []).filter((o) => o && typeof o.name === 'string');
  if (inputs.length !== 1) {
    throw mismatch(`has ${inputs.length} inputs (${inputs.map(shapeText).join('; ') || 'none'}); this client sends one image tensor`);
  }
  const input = inputs[0]!;
  const shape = Array.isArray(input.shape) ? input.shape : [];
  if (input.datatype !== 'FP32') throw mismatch(`takes ${shapeText(input)}; this client sends FP32 image tensors`);
  if (shape.length !== 4)
    throw mismatch(`takes ${shapeText(input)}; this client sends [batch, 3, height, width] or [batch, height, width, 3]`);
  const [b, c1, d2, d3] = shape as [number, number, number, number];
  const layout = c1 === 3 ? 'NCHW' : d3 === 3 ? 'NHWC' : undefined;
  const [h, w] = layout === 'NCHW' ? [d2, d3] : [c1, d2];
  if (!layout || !(h > 0 && w > 0)) {
    throw mismatch(
      `takes ${shapeText(input)}; this client sends 3-channel images of a fixed size, [batch, 3, height, width] or [batch, height, width, 3]`,
    );
  }
  const rows = outputs.filter((o) => o.datatype === 'FP32' && Array.isArray(o.shape) && o.shape.length === 2 && o.shape[1]! > 0);
  const logits = rows.find((o) => /logit/i.test(o.name)) ?? rows.find((o) => !EMBEDDING_NAME.test(o.name)) ?? rows[0];
  if (!logits) {
    throw mismatch(`has no FP32 output [batch, classes] (outputs: ${outputs.map(shapeText).join('; ') || 'none'})`);
  }
  const embedding = rows.find((o) => o !== logits && EMBEDDING_NAME.test(o.name)) ?? rows.find((o) => o !== logits);
  const dynamicBatch = !(b > 0);
  return {
    path: `${remote.url}/${modelPath(remote.model, remote.version)}`,
    sha256: '',
    bytes: 0,
    name: remote.model,
    inputName: input.name,
    inputShape: shape,
    inputType: 'float32',
    layout,
    inputSize: [h, w],
    outputName: logits.name,
    outputShape: logits.shape,
    classes: logits.shape[1]!,
    ...(embedding ? { embedding: { outputName: embedding.name, dims: embedding.shape[1]!, producer: 'remote output' } } : {}),
    dynamicBatch,
    maxBatch: dynamicBatch ? (remote.maxBatchSize ?? 1024) : b,
    outputIsProbabilities: /prob|softmax/i.test(logits.name),
    opsets: [],
    nodeCount: 0,
    activeProvider: 'remote',
    requestedProviders: [],
    providerFallbacks: [],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: 0,
    ortVersion: '',
    optimizedModelCache: 'off',
    loadMs,
    remote,
  };
}
