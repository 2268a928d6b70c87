/**
 * How to start a process that hosts the engine (the inference server, the CLI). No native imports: the extension
 * uses this to build its server's environment.
 *
 * glibc's malloc gives ONNX Runtime's large allocations (model weights, pre-packed kernels: several hundred MB for
 * ResNet50) fresh 4 KiB pages, and the page faults dominate a cold session start: ≈ 850 ms, half of it in the
 * kernel, more in a worker thread, whose malloc arena is trimmed and refaulted. Transparent huge pages for malloc's
 * heap (`hugetlb=1`), allocations up to 32 MiB kept in the heap (`mmap_threshold`) and one arena for all threads
 * (`arena_max=1`) cut it to ≈ 90 ms; decoding and inference speeds are unchanged or better (BENCHMARKS.md). The
 * tunables only take effect when a process starts, so launchers put them in the child's environment. C libraries
 * other than glibc ignore the variable.
 */
import { runsOnGlibc } from './platform.js';

export const MALLOC_TUNABLES = 'glibc.malloc.hugetlb=1:glibc.malloc.mmap_threshold=33554432:glibc.malloc.arena_max=1';

/** `GLIBC_TUNABLES` with ours added (a user's own settings for the same tunables win). */
export function withMallocTunables(current: string | undefined): string {
  if (!current) return MALLOC_TUNABLES;
  const have = new Set(current.split(':').map((kv) => kv.split('=')[0]));
  const add = MALLOC_TUNABLES.split(':').filter((kv) => !have.has(kv.split('=')[0]));
  return [current, ...add].join(':');
}

/** Whether `platform`'s C library is glibc: this process's own answer for its platform, else Linux = glibc. */
function glibcOn(platform: string): boolean {
  return platform === process.platform ? runsOnGlibc() : platform === 'linux';
}

/** The environment for a child process that runs the engine: telemetry off, malloc tuned on glibc Linux. */
export function engineProcessEnv(
  base: NodeJS.ProcessEnv,
  platform: string = process.platform,
  glibc = glibcOn(platform),
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base, ORT_DISABLE_TELEMETRY: '1' };
  if (platform === 'linux' && glibc && base.IMAGE_CLASSIFIER_MALLOC_TUNING !== '0')
    env.GLIBC_TUNABLES = withMallocTunables(base.GLIBC_TUNABLES);
  return env;
}

/** True when this glibc Linux process started without the tunables (and the user did not opt out). */
export function mallocTuningMissing(
  env: NodeJS.ProcessEnv = process.env,
  platform: string = process.platform,
  glibc = glibcOn(platform),
): boolean {
  return (
    platform === 'linux' &&
    glibc &&
    env.IMAGE_CLASSIFIER_MALLOC_TUNING !== '0' &&
    !(env.GLIBC_TUNABLES ?? '').includes('glibc.malloc.hugetlb')
  );
}
