/**
 * Decoder process for decoding and preprocessing (see PreprocessPool): the pixel work (sharp's decode buffers, the
 * exact resize, normalization) and its garbage stay out of the server process, which answers JSON-RPC requests
 * meanwhile and can kill a decode that runs over its budget.
 *
 * The same script runs as a decoder thread (see DecoderThreads), for JPEGs the WebAssembly decoder takes: one script
 * to bundle and ship for both.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { transferList } from '../threads.js';
import { preloadSharp } from './decode.js';
import { cropInThread, lowerNice, setUpDecoderThread } from './decoder-thread.js';
import { preloadJpegWasm } from './jpeg-wasm.js';
import { preprocessToCrop } from './preprocess.js';
import {
  type DecoderRequest,
  type PreprocessRequest,
  type PreprocessResponse,
  type ThreadRequest,
  type ThreadResponse,
  toDecoderError,
} from './decoder-messages.js';
import { makeThumbnail } from './thumbnail.js';

const asThread = !isMainThread && (workerData as { role?: string } | undefined)?.role === 'decoder-thread';
const send = process.send?.bind(process);
if (!send && !asThread) throw new Error('preprocess-worker must run as a forked process or a decoder thread');

function reply(r: PreprocessResponse): void {
  send!(r, undefined, {}, () => undefined);
}

if (asThread) runAsThread();
else runAsProcess();

function runAsThread(): void {
  const port = parentPort!;
  const tid = setUpDecoderThread(Number((workerData as { nice?: number }).nice ?? 0));
  try {
    preloadJpegWasm();
  } catch {
    // reported on first use (each image then declines to a decoder process)
  }
  const post = (r: ThreadResponse) => port.postMessage(r, 'out' in r ? transferList(r.out) : []);
  port.on('message', (req: ThreadRequest) => post(cropInThread(req)));
  post({ type: 'ready', id: 0, ...(tid !== undefined ? { tid } : {}) });
}

function runAsProcess(): void {
  // Below the server's JSON-RPC loop; libvips' and libuv's threads, started later, inherit it.
  lowerNice(Number(process.env.IMAGE_CLASSIFIER_DECODER_NICE ?? 0));

  // The server went away (closed, crashed): stop at once, even inside a native call (exit would wait for it).
  process.on('disconnect', () => process.kill(process.pid, 'SIGKILL'));

  process.on('message', async (msg: DecoderRequest | { type: 'preload' }) => {
    if (msg.type === 'preload') {
      try {
        preloadSharp();
        preloadJpegWasm();
      } catch {
        // reported on first use
      }
      reply({ type: 'ready', id: 0 });
      return;
    }
    if (msg.ack) reply({ type: 'started', id: msg.id });
    try {
      reply(await answer(msg));
    } catch (e) {
      reply({ type: 'error', id: msg.id, error: toDecoderError(e) });
    }
  });
}

async function answer(msg: DecoderRequest): Promise<PreprocessResponse> {
  if (msg.type === 'thumbnail') {
    const thumbnail = await makeThumbnail(msg.bytes, msg.name, {
      size: msg.size,
      ...(msg.maxPixels !== undefined ? { maxPixels: msg.maxPixels } : {}),
    });
    return { type: 'thumbnail', id: msg.id, thumbnail };
  }
  return preprocess(msg);
}

/** The 8-bit crop goes back (a quarter of the float32 tensor's bytes through the pipe); the caller normalizes it. */
async function preprocess(msg: PreprocessRequest): Promise<PreprocessResponse> {
  const r = await preprocessToCrop(msg.bytes, msg.name, {
    preprocessing: msg.preprocessing,
    config: msg.config,
    ...(msg.maxPixels !== undefined ? { maxPixels: msg.maxPixels } : {}),
  });
  const { data, width: cropWidth, height: cropHeight } = r.image;
  return { type: 'done', id: msg.id, rgb: data, cropWidth, cropHeight, width: r.width, height: r.height, format: r.format };
}
