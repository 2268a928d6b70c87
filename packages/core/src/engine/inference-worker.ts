/**
 * Worker-thread host for a ModelSession: onnxruntime-node's `run` blocks the thread that calls it, so
 * the JSON-RPC loop and the decoders stay on the main thread and inference runs here.
 */
import { parentPort } from 'node:worker_threads';
import { toClassifierError } from '../errors.js';
import { ModelSession } from '../model/session.js';
import { ownsBuffer, transferList } from '../threads.js';
import type { WorkerRequest, WorkerResponse } from './inference-backend.js';

let session: ModelSession | undefined;
const port = parentPort;
if (!port) throw new Error('inference-worker must run in a worker thread');

function reply(msg: WorkerResponse, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(msg, transfer);
}

port.on('message', async (msg: WorkerRequest) => {
  try {
    switch (msg.type) {
      case 'load': {
        if (session) await session.release();
        session = undefined;
        session = await ModelSession.load(msg.modelPath, msg.options);
        reply({ type: 'loaded', id: msg.id, info: session.info });
        break;
      }
      case 'run': {
        if (!session) throw new Error('no model loaded');
        const t0 = performance.now();
        const out = await session.runOutputs(msg.input, msg.batch, msg.embeddings);
        // ORT's outputs may be views on larger buffers: copy when needed so they can be transferred.
        const own = (a: Float32Array) => (ownsBuffer(a) ? a : a.slice());
        const output = { logits: own(out.logits), ...(out.embeddings ? { embeddings: own(out.embeddings) } : {}) };
        // The input goes back too, for the engine to reuse as its next batch buffer.
        const transfer = [
          ...transferList(output.logits),
          ...(output.embeddings ? transferList(output.embeddings) : []),
          ...transferList(msg.input),
        ];
        reply({ type: 'result', id: msg.id, output, input: msg.input, ms: performance.now() - t0 }, transfer);
        break;
      }
      case 'release': {
        if (session) await session.release();
        session = undefined;
        reply({ type: 'released', id: msg.id });
        break;
      }
    }
  } catch (e) {
    const err = toClassifierError(e, msg.type === 'load' ? 'MODEL_LOAD_FAILED' : 'INFERENCE_FAILED');
    reply({ type: 'error', id: msg.id, error: { code: err.code, message: err.message } });
  }
});
