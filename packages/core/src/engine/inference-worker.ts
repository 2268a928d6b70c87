/**
 * Worker-thread host for a ModelSession: onnxruntime-node's `run` blocks the thread that calls it, so
 * the JSON-RPC loop and the decoders stay on the main thread and inference runs here.
 */
import { parentPort } from 'node:worker_threads';
import { toClassifierError } from '../errors.js';
import { ModelSession } from '../model/session.js';
import { ort } from '../model/ort.js';
import { ownsBuffer, transferList } from '../threads.js';
import type { WorkerRequest, WorkerResponse } from './inference-backend.js';

let session: ModelSession | undefined;
/** Test hook state: a crash was asked for; the thread exits when a run ends and no other native run is in flight. */
let crashRequested = false;
let running = 0;
/** The exit code of a requested crash (what the backend then reports). */
const CRASH_EXIT_CODE = 70;
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
        running++;
        const out = await session.runOutputs(msg.input, msg.batch, msg.embeddings).finally(() => running--);
        if (crashRequested) {
          // Die without answering, like a crash, but never inside a native call (that aborts the process).
          if (running === 0) process.exit(CRASH_EXIT_CODE);
          return;
        }
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
      case 'crash': {
        // At the end of the run in progress, or of the next one: that run's images are then lost.
        crashRequested = true;
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

// onnxruntime-node's binding loads now, while the program that started this thread may still be loading its own
// modules (see worker-prestart.ts); a binding that fails to load fails the model's load as before.
try {
  ort();
} catch {
  // reported by the load
}
// No request has id 0: the backend ignores this; worker-prestart.ts waits for it before an early exit.
reply({ type: 'ready', id: 0 });
