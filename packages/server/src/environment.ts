/**
 * The environment variables the server and the CLI read, each documented once and read here only.
 *
 *   IMAGE_CLASSIFIER_WORKER         path of core's inference-worker.js, for bundled builds (`serve --worker` wins)
 *   IMAGE_CLASSIFIER_ORT_SPINNING   0 = ONNX Runtime's threads do not spin-wait (the server lets them; the CLI does not)
 *   IMAGE_CLASSIFIER_HELPER_NICE    nice value for the helper threads on Linux (default 10; 0 = leave them alone)
 *   IMAGE_CLASSIFIER_DEBUG_LOOP     any value: log GC pauses over 2 ms and the event-loop delay at exit
 *   IMAGE_CLASSIFIER_FRAME_STALL_MS how long a message frame may stay incomplete before the server gives up on the
 *                                   stream and exits (default 10000; see frame-guard.ts)
 *   IMAGE_CLASSIFIER_CURATION_EXACT_ROWS  images up to which curation searches neighbours exactly (default 5000;
 *                                   tests lower it to exercise the saved and updated neighbour graph)
 *   IMAGE_CLASSIFIER_TEST_HOOKS     1 = tests only: enables the request `$/imageClassifier/test/crashInferenceWorker`,
 *                                   which makes the inference worker thread die as if it had crashed
 *   IMAGE_CLASSIFIER_TEST_CRASH_ANN_LOADER  1 (with IMAGE_CLASSIFIER_TEST_HOOKS=1) = tests only: the child process
 *                                   that loads a saved neighbour graph (rpc/ann-probe.ts) aborts (SIGABRT) where
 *                                   usearch would load it, as on a graph usearch cannot read
 *
 * Read elsewhere, documented where they are read:
 *   IMAGE_CLASSIFIER_MODEL_URL, IMAGE_CLASSIFIER_CACHE_DIR   core (packages/core/src/model/download.ts)
 *   IMAGE_CLASSIFIER_MALLOC_TUNING                          protocol (packages/protocol/src/launch.ts), by bin/
 *   IMAGE_CLASSIFIER_ANN_THREADS    core (packages/core/src/curation/ann-graph.ts): usearch's threads; 1 = the same
 *                                   graph on every build (tests that compare a rebuilt graph's findings)
 *   IMAGE_CLASSIFIER_JPEG_DECODER   core (packages/core/src/image/jpeg-wasm.ts): libvips = decode every JPEG with
 *                                   libvips, not the WebAssembly libjpeg-turbo (A/B benchmarks, a fallback)
 *   IMAGE_CLASSIFIER_DECODER_THREADS core (packages/core/src/image/preprocess-pool.ts): 0 = every image decodes in
 *                                   a decoder process, none in decoder threads (A/B benchmarks, a fallback)
 */

export const WORKER_ENV = 'IMAGE_CLASSIFIER_WORKER';
export const ORT_SPINNING_ENV = 'IMAGE_CLASSIFIER_ORT_SPINNING';
export const HELPER_NICE_ENV = 'IMAGE_CLASSIFIER_HELPER_NICE';
export const DEBUG_LOOP_ENV = 'IMAGE_CLASSIFIER_DEBUG_LOOP';
export const FRAME_STALL_ENV = 'IMAGE_CLASSIFIER_FRAME_STALL_MS';
export const TEST_HOOKS_ENV = 'IMAGE_CLASSIFIER_TEST_HOOKS';
export const TEST_CRASH_ANN_LOADER_ENV = 'IMAGE_CLASSIFIER_TEST_CRASH_ANN_LOADER';
export const CURATION_EXACT_ROWS_ENV = 'IMAGE_CLASSIFIER_CURATION_EXACT_ROWS';
/** The test hook's method (only with IMAGE_CLASSIFIER_TEST_HOOKS=1). */
export const CRASH_INFERENCE_WORKER = '$/imageClassifier/test/crashInferenceWorker';

function envNumber(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const v = env[name];
  const n = v === undefined || v === '' ? NaN : Number(v);
  return Number.isFinite(n) ? n : fallback;
}

/** What the environment says, read when called (tests and tuning runs change it between starts). */
export const environment = {
  workerScript: (env = process.env): string | undefined => env[WORKER_ENV] || undefined,
  ortSpinning: (env = process.env): boolean => envNumber(env, ORT_SPINNING_ENV, 1) !== 0,
  helperNice: (env = process.env): number => envNumber(env, HELPER_NICE_ENV, 10),
  debugLoop: (env = process.env): boolean => Boolean(env[DEBUG_LOOP_ENV]),
  frameStallMs: (env = process.env): number | undefined => {
    const ms = envNumber(env, FRAME_STALL_ENV, NaN);
    return ms > 0 ? ms : undefined;
  },
  testHooks: (env = process.env): boolean => env[TEST_HOOKS_ENV] === '1',
  testCrashAnnLoader: (env = process.env): boolean => env[TEST_CRASH_ANN_LOADER_ENV] === '1',
  curationExactRows: (env = process.env): number | undefined => {
    const n = envNumber(env, CURATION_EXACT_ROWS_ENV, NaN);
    return n >= 1 ? Math.floor(n) : undefined;
  },
};
