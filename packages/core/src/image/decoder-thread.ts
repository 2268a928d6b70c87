/**
 * The work of a decoder thread (see DecoderThreads): a JPEG the WebAssembly decoder takes, decoded, resized and
 * cropped as `exact` does it and normalized straight into the caller's tensor, which travels to the thread and back
 * without a copy. Nothing here loads libvips: a file the WebAssembly decoder declines goes back to the caller, which
 * hands it to a decoder process.
 */
import { readlinkSync, writeFileSync } from 'node:fs';
import { setPriority, getPriority } from 'node:os';
import { DEFAULT_MAX_PIXELS, withJpegPixelsNow } from './decode.js';
import { type ThreadRequest, type ThreadResponse, toDecoderError } from './decoder-messages.js';
import { normalizeInto, resizeAndCropExact, type PreprocessConfig } from './preprocess.js';

/** The name of decoder threads in `top -H`, /proc and the benchmarks' CPU breakdown. */
export const DECODER_THREAD_NAME = 'jpeg decoder';

/**
 * Names this thread and sets its nice value (Linux: both are per thread; elsewhere nothing happens); returns its
 * thread id (Linux), by which the pool reads the CPU time its decodes take.
 *
 * Not SCHED_IDLE, though it left fewer idle moments in a folder run (ONNX Runtime's threads no longer wait at an
 * operator's end for one a decode displaced): a thread of this process under SCHED_IDLE, displaced while it holds a
 * lock the others need (the one malloc arena the engine's processes use, a message port's queue), stalls them until
 * a core falls idle. Cached hovers' p99 went from 8 to 25–40 ms (BENCHMARKS.md).
 */
export function setUpDecoderThread(nice: number): number | undefined {
  if (process.platform !== 'linux') return undefined;
  let tid: string | undefined;
  try {
    // /proc/thread-self is the calling thread's own entry (`<pid>/task/<tid>`): this worker's, not the main thread's.
    const self = readlinkSync('/proc/thread-self');
    tid = self.split('/').pop();
    writeFileSync(`/proc/${self}/comm`, DECODER_THREAD_NAME);
  } catch {
    // an unusual /proc: the thread keeps its name
  }
  lowerNice(nice);
  return tid ? Number(tid) : undefined;
}

/**
 * Raises the calling thread's nice value to `nice` (never lowers it): setpriority(PRIO_PROCESS, 0) is per thread on
 * Linux, and threads started later inherit it; a decoder process calls it first, a decoder thread for itself.
 */
export function lowerNice(nice: number): void {
  if (nice <= 0) return;
  try {
    if (getPriority() < nice) setPriority(nice);
  } catch {
    // not permitted: keep the default
  }
}

/** Configs arrive as copies, one per image: the same settings share one object, so normalizeInto's tables are reused. */
const configs = new Map<string, PreprocessConfig>();

function sameConfig(c: PreprocessConfig): PreprocessConfig {
  const key = JSON.stringify(c);
  let kept = configs.get(key);
  if (!kept) {
    if (configs.size > 8) configs.clear();
    kept = c;
    configs.set(key, c);
  }
  return kept;
}

/** Decodes, crops and normalizes one image into its tensor; an error is the one a decoder process would give. */
export function cropInThread(req: ThreadRequest): ThreadResponse {
  const { id, out } = req;
  const c = sameConfig(req.config);
  try {
    const r = withJpegPixelsNow(req.bytes, req.name, req.maxPixels ?? DEFAULT_MAX_PIXELS, (img) => {
      normalizeInto(resizeAndCropExact(img, c), c, out, 0);
      return { width: img.width, height: img.height, format: img.format };
    });
    return r ? { type: 'done', id, out, ...r } : { type: 'declined', id, out };
  } catch (e) {
    return { type: 'error', id, out, error: toDecoderError(e) };
  }
}
