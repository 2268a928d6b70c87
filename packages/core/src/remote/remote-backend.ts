/**
 * Inference on an Open Inference Protocol server (Triton, KServe, MLServer) behind the engine's `InferenceBackend`:
 * the engine decodes and preprocesses here, exactly as for a local model, and sends each batch of normalised FP32
 * tensors in one `POST /v2/models/<name>/versions/<v>/infer` — with the binary tensor extension when the server
 * lists it (the tensor's bytes follow a small JSON header, no text encoding), JSON otherwise — and reads the logits
 * and the embedding. Before the first batch it checks the server's and the model's readiness and reads the model's
 * signature (metadata.ts). Several batches are in flight at once (`inflight`, the engine keeps that many queued);
 * `release` aborts those still running.
 */
import * as os from 'node:os';
import { ClassifierError } from '../errors.js';
import type { InferenceBackend } from '../engine/inference-backend.js';
import type { BatchOutput, ModelInfo } from '../model/session.js';
import { OipClient, remoteError, serverMessage } from './client.js';
import type { HttpReply } from './http.js';
import {
  fetchMaxBatchSize,
  fetchModelMetadata,
  modelPath,
  type RemoteModelInfo,
  remoteModelInfo,
  type ServerMetadata,
} from './metadata.js';
import type { RemoteOptions } from './options.js';

interface OutputTensor {
  name: string;
  datatype?: string;
  shape?: number[];
  data?: number[];
  parameters?: { binary_data_size?: number };
}

/** The newest of the versions a server lists (numeric versions by value, others by name). */
function newest(versions: string[]): string | undefined {
  return [...versions].sort((a, b) => {
    const na = Number(a);
    const nb = Number(b);
    return Number.isFinite(na) && Number.isFinite(nb) ? na - nb : a.localeCompare(b);
  })[versions.length - 1];
}

/** Copies `n` float32 values from `buf` at `offset` (little-endian, as the binary extension sends them). */
function floatsAt(buf: Buffer, offset: number, n: number): Float32Array {
  const out = new Float32Array(n);
  new Uint8Array(out.buffer).set(buf.subarray(offset, offset + n * 4));
  return out;
}

export class RemoteBackend implements InferenceBackend {
  /** Aborts every request in flight on release. */
  private readonly closing = new AbortController();
  private released = false;

  private constructor(
    private readonly client: OipClient,
    readonly info: ModelInfo,
  ) {}

  /** The batches the engine should keep in flight. */
  get maxInflight(): number {
    return this.client.options.inflight;
  }

  get stats(): OipClient['stats'] {
    return this.client.stats;
  }

  /**
   * Checks the server (`/v2/health/ready`), reads its metadata (`/v2`: the binary extension), the model's
   * signature and readiness. REMOTE_UNAVAILABLE, REMOTE_AUTH_FAILED, REMOTE_MODEL_NOT_FOUND, REMOTE_MODEL_MISMATCH.
   */
  static async connect(options: RemoteOptions): Promise<RemoteBackend> {
    const t0 = performance.now();
    const client = new OipClient(options);
    try {
      const ready = await client.call('GET', 'v2/health/ready');
      if (ready.status !== 200) {
        throw remoteError('REMOTE_UNAVAILABLE', `The server at ${client.where} is not ready (GET /v2/health/ready: HTTP ${ready.status}).`);
      }
      const server = await client.getJson<ServerMetadata>('v2').then(
        (r) => (r.ok ? r.value : {}),
        () => ({}) as ServerMetadata,
      );
      const meta = await fetchModelMetadata(client, options.model, options.version);
      const versions = Array.isArray(meta.versions) ? meta.versions.map(String) : [];
      const version = options.version ?? newest(versions) ?? '1';
      const modelReady = await client.call('GET', `${modelPath(options.model, version)}/ready`);
      if (modelReady.status !== 200) {
        throw remoteError(
          'REMOTE_UNAVAILABLE',
          `The model '${options.model}' (version ${version}) on ${client.where} is not ready (HTTP ${modelReady.status}).`,
        );
      }
      const binary =
        options.protocol === 'binary' || (options.protocol === 'auto' && (server.extensions ?? []).includes('binary_tensor_data'));
      const maxBatchSize = await fetchMaxBatchSize(client, options.model, version);
      const remote: RemoteModelInfo = {
        url: client.where,
        model: options.model,
        version,
        versions,
        ...(typeof meta.platform === 'string' ? { platform: meta.platform } : {}),
        server: {
          ...(typeof server.name === 'string' ? { name: server.name } : {}),
          ...(typeof server.version === 'string' ? { version: server.version } : {}),
        },
        protocol: binary ? 'binary' : 'json',
        ...(maxBatchSize ? { maxBatchSize } : {}),
        inflight: options.inflight,
        timeoutMs: options.timeoutMs,
      };
      return new RemoteBackend(client, remoteModelInfo(meta, remote, Math.round(performance.now() - t0)));
    } catch (e) {
      client.close();
      throw e;
    }
  }

  async run(
    input: Float32Array,
    batch: number,
    giveBack?: (input: Float32Array) => void,
    embeddings = false,
    signal?: AbortSignal,
  ): Promise<BatchOutput> {
    try {
      if (this.released) throw new ClassifierError('MODEL_NOT_READY', 'The model was unloaded.');
      return await this.infer(input, batch, embeddings && Boolean(this.info.embedding), signal);
    } finally {
      giveBack?.(input);
    }
  }

  private async infer(input: Float32Array, batch: number, embeddings: boolean, signal: AbortSignal | undefined): Promise<BatchOutput> {
    const { inputName, inputSize, layout, outputName } = this.info;
    const [h, w] = inputSize;
    const shape = layout === 'NCHW' ? [batch, 3, h, w] : [batch, h, w, 3];
    const n = batch * 3 * h * w;
    if (input.length < n)
      throw new ClassifierError('INVALID_ARGUMENT', `Input tensor has ${input.length} values; a batch of ${batch} needs ${n}.`);
    const names = embeddings ? [outputName, this.info.embedding!.outputName] : [outputName];
    const binary = this.info.remote!.protocol === 'binary';
    let body: Buffer[];
    const headers: Record<string, string> = {};
    if (binary) {
      const header = Buffer.from(
        JSON.stringify({
          inputs: [{ name: inputName, shape, datatype: 'FP32', parameters: { binary_data_size: n * 4 } }],
          outputs: names.map((name) => ({ name, parameters: { binary_data: true } })),
        }),
      );
      // The tensor's own bytes, not a copy (float32 is little-endian on every platform the engine ships for).
      const data =
        os.endianness() === 'LE'
          ? Buffer.from(input.buffer, input.byteOffset, n * 4)
          : Buffer.from(new Float32Array(input.subarray(0, n)).buffer);
      body = [header, data];
      headers['Content-Type'] = 'application/octet-stream';
      headers['Inference-Header-Content-Length'] = String(header.length);
    } else {
      const data = Array.from(input.subarray(0, n));
      body = [
        Buffer.from(
          JSON.stringify({ inputs: [{ name: inputName, shape, datatype: 'FP32', data }], outputs: names.map((name) => ({ name })) }),
        ),
      ];
      headers['Content-Type'] = 'application/json';
    }
    const signals = [this.closing.signal, ...(signal ? [signal] : [])];
    const r = await this.client.call('POST', `${modelPath(this.info.name, this.info.remote!.version)}/infer`, {
      body,
      headers,
      signal: signals.length > 1 ? AbortSignal.any(signals) : signals[0],
    });
    if (r.status !== 200) throw this.inferError(r);
    return this.readOutputs(r, batch, names);
  }

  private inferError(r: HttpReply): ClassifierError {
    const where = `'${this.info.name}' (version ${this.info.remote!.version}) on ${this.client.where}`;
    const msg = serverMessage(r) || 'no reason given';
    if (r.status === 404 || (r.status === 400 && /unknown model|not found/i.test(msg))) {
      return remoteError('REMOTE_MODEL_NOT_FOUND', `The model ${where} is gone (HTTP ${r.status}: ${msg}).`);
    }
    if (r.status === 400) return remoteError('REMOTE_MODEL_MISMATCH', `The model ${where} refused the batch (HTTP 400: ${msg}).`);
    return remoteError('REMOTE_FAILED', `The model ${where} failed on a batch (HTTP ${r.status}: ${msg}).`);
  }

  /** The reply's JSON (with binary outputs after it when `Inference-Header-Content-Length` says so) → logits and embeddings. */
  private readOutputs(r: HttpReply, batch: number, names: string[]): BatchOutput {
    const bad = (why: string) =>
      remoteError('REMOTE_FAILED', `The server at ${this.client.where} sent an inference reply this client cannot read: ${why}.`);
    const headerLen = r.headers['inference-header-content-length'];
    const jsonLen = headerLen !== undefined ? Number(headerLen) : r.body.length;
    if (!Number.isInteger(jsonLen) || jsonLen < 0 || jsonLen > r.body.length) throw bad(`Inference-Header-Content-Length is ${headerLen}`);
    let reply: { outputs?: OutputTensor[] };
    try {
      reply = JSON.parse(r.body.subarray(0, jsonLen).toString('utf8')) as { outputs?: OutputTensor[] };
    } catch {
      throw bad('its header is not JSON');
    }
    const found = new Map<string, Float32Array>();
    let offset = jsonLen;
    for (const o of Array.isArray(reply.outputs) ? reply.outputs : []) {
      const size = o.parameters?.binary_data_size;
      let values: Float32Array;
      if (typeof size === 'number') {
        if (o.datatype !== 'FP32' || size % 4 !== 0 || offset + size > r.body.length)
          throw bad(`output ${o.name} has ${size} bytes of ${o.datatype}`);
        values = floatsAt(r.body, offset, size / 4);
        offset += size;
      } else if (Array.isArray(o.data)) {
        values = Float32Array.from(o.data.flat(Infinity as 1) as number[]);
      } else throw bad(`output ${o.name} has no data`);
      found.set(o.name, values);
    }
    const rows = (name: string, width: number): Float32Array => {
      const v = found.get(name);
      if (!v) throw bad(`output ${name} is missing`);
      if (v.length !== batch * width) {
        throw remoteError(
          'REMOTE_MODEL_MISMATCH',
          `The model '${this.info.name}' on ${this.client.where} returned ${v.length} values of ${name} for a batch of ${batch}; its metadata promised ${batch * width}.`,
        );
      }
      return v;
    };
    const logits = rows(names[0]!, this.info.classes);
    return names[1] ? { logits, embeddings: rows(names[1], this.info.embedding!.dims) } : { logits };
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    this.closing.abort();
    this.client.close();
  }
}
