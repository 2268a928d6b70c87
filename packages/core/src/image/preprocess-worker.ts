/**
 * Worker-thread host for decoding and preprocessing: the pixel work (sharp's decode buffers, the exact resize,
 * normalization) and its garbage stay off the main thread, which answers JSON-RPC requests meanwhile.
 */
import { parentPort } from 'node:worker_threads';
import { toClassifierError } from '../errors.js';
import { preloadSharp } from './decode.js';
import { preprocessImage } from './preprocess.js';
import { transferList } from '../threads.js';
import type { PreprocessRequest, PreprocessResponse } from './preprocess-pool.js';

const port = parentPort;
if (!port) throw new Error('preprocess-worker must run in a worker thread');

port.on('message', async (msg: PreprocessRequest | { type: 'preload' }) => {
  if (msg.type === 'preload') {
    try {
      preloadSharp();
    } catch {
      // reported on first use
    }
    return;
  }
  port.postMessage({ type: 'started', id: msg.id } satisfies PreprocessResponse);
  const transfer = transferList(msg.out);
  try {
    const r = await preprocessImage(msg.bytes, msg.name, {
      preprocessing: msg.preprocessing,
      config: msg.config,
      out: msg.out,
      ...(msg.maxPixels !== undefined ? { maxPixels: msg.maxPixels } : {}),
    });
    const reply: PreprocessResponse = { type: 'done', id: msg.id, out: msg.out, width: r.width, height: r.height, format: r.format };
    port.postMessage(reply, transfer);
  } catch (e) {
    const err = toClassifierError(e, 'DECODE_FAILED');
    const reply: PreprocessResponse = {
      type: 'error',
      id: msg.id,
      out: msg.out,
      error: { code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) },
    };
    port.postMessage(reply, transfer);
  }
});
