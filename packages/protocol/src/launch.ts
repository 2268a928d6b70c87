/**
 * How to start a process that hosts the engine (the inference server, the CLI). No native imports: the extension
 * uses this to build its server's environment.
 *
 * glibc's malloc gives ONNX Runtime's large allocations (model weights, pre-packed kernels: several hundred MB for
 * ResNet50) fresh 4 KiB pages, and the page faults dominate a cold session start: ≈ 850 ms, half of it in the
 * kernel, more in a worker thread, whose malloc arena is trimmed and refaulted. Allocations up to 32 MiB kept in the
 * heap (`mmap_threshold`) and one arena for all threads (`arena_max=1`) cut it to ≈ 90 ms; decoding and inference
 * speeds are unchanged or better (BENCHMARKS.md). The tunables only take effect when a process starts, so launchers
 * put them in the child's environment. C libraries other than glibc ignore the variable.
 *
 * Transparent huge pages for malloc's heap (`hugetlb=1`) are part of the long-lived server's set only
 * (`MALLOC_TUNABLES`). The CLI leaves them out (`CLI_MALLOC_TUNABLES`): a huge page must come from a free 2 MiB
 * block, and on a virtual machine that hands freed memory back to its host (virtio-balloon free page reporting,
 * which reports exactly such blocks) each one is faulted in again by the host. After another program has freed
 * memory (the PyTorch run the benchmark alternates with) that cost a one-image run 200–400 ms of CPU at start
 * (BENCHMARKS.md, issue 21).
 */
import { runsOnGlibc } from './platform.js';

/** The heap settings: big allocations stay in the heap, one arena for every thread. */
const HEAP_TUNABLES = 'glibc.malloc.mmap_threshold=33554432:glibc.malloc.arena_max=1';

/** The server's tunables: the heap settings and transparent huge pages for the heap. */
export const MALLOC_TUNABLES = `glibc.malloc.hugetlb=1:${HEAP_TUNABLES}`;

/** The CLI's tunables: the heap settings without huge pages (see above). */
export const CLI_MALLOC_TUNABLES = HEAP_TUNABLES;

const names = (tunables: string) => tunables.split(':').map((kv) => kv.split('=')[0]!);

/** `GLIBC_TUNABLES` with ours added (a user's own settings for the same tunables win). */
export function withMallocTunables(current: string | undefined, tunables: string = MALLOC_TUNABLES): string {
  if (!current) return tunables;
  const have = new Set(names(current));
  const add = tunables.split(':').filter((kv) => !have.has(kv.split('=')[0]!));
  return add.length ? [current, ...add].join(':') : current;
}

/**
 * V8 flags for the process that hosts the server (command-line flags: V8 reads them when its heap is set up).
 * The server's JavaScript heap is small (≈ 10 MiB live) and V8 sizes its first old-generation limit to match:
 * during a folder run the young generation (up to 16 MiB) alone reaches that limit's margin, and V8 runs a full
 * mark-compact about every second (≈ 0.3 ms of main-thread time per image, and the marking threads' time besides)
 * that frees 1–2 MiB each time. Starting the old generation at 64 MiB leaves those to scavenges; V8 still grows
 * and collects the old generation as it needs beyond that, and the resident size stays the same (BENCHMARKS.md).
 */
export const SERVER_EXEC_ARGV: readonly string[] = ['--initial-old-space-size=64'];

/** Whether `platform`'s C library is glibc: this process's own answer for its platform, else Linux = glibc. */
function glibcOn(platform: string): boolean {
  return platform === process.platform ? runsOnGlibc() : platform === 'linux';
}

/** The environment for a child process that runs the engine: telemetry off, malloc tuned on glibc Linux. */
export function engineProcessEnv(
  base: NodeJS.ProcessEnv,
  platform: string = process.platform,
  glibc?: boolean,
  tunables: string = MALLOC_TUNABLES,
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base, ORT_DISABLE_TELEMETRY: '1' };
  if (platform === 'linux' && base.IMAGE_CLASSIFIER_MALLOC_TUNING !== '0' && (glibc ?? glibcOn(platform)))
    env.GLIBC_TUNABLES = withMallocTunables(base.GLIBC_TUNABLES, tunables);
  return env;
}

/**
 * True when this glibc Linux process started without one of `tunables` (and the user did not opt out). The
 * environment is looked at first: a process that has them (the CLI's re-run) never asks which C library it runs on.
 */
export function mallocTuningMissing(
  env: NodeJS.ProcessEnv = process.env,
  platform: string = process.platform,
  glibc?: boolean,
  tunables: string = MALLOC_TUNABLES,
): boolean {
  if (platform !== 'linux' || env.IMAGE_CLASSIFIER_MALLOC_TUNING === '0') return false;
  const have = new Set(names(env.GLIBC_TUNABLES ?? ''));
  if (names(tunables).every((n) => have.has(n))) return false;
  return glibc ?? glibcOn(platform);
}

/**
 * Whether a `classify` or `model info` command line may open a network connection: a model given by URL
 * (`--model https://…`, `--model-url`), an inference server (`--remote`), or no `--model` at all (the default model
 * is downloaded when it is not cached yet). Unknown options are read loosely: when in doubt, yes.
 */
export function cliMayConnect(args: readonly string[]): boolean {
  let model: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') break;
    const eq = a.indexOf('=');
    const name = a.startsWith('--') ? (eq > 0 ? a.slice(2, eq) : a.slice(2)) : undefined;
    if (name === 'remote' || name === 'model-url') return true;
    if (name === 'model') model = eq > 0 ? a.slice(eq + 1) : args[++i];
  }
  // An empty --model means the default model, as no --model does.
  return !model?.trim() || /^https?:/i.test(model.trim());
}

/**
 * The environment for the CLI's re-run: the engine's, with the CLI's tunables; and without `NODE_EXTRA_CA_CERTS`
 * when the command cannot connect anywhere (`cliMayConnect`): Node reads and parses that file as it starts, before
 * any code runs (≈ 30 ms for a system bundle of ~140 certificates), whether or not anything connects later.
 */
export function cliRerunEnv(base: NodeJS.ProcessEnv, args: readonly string[], platform: string = process.platform): NodeJS.ProcessEnv {
  const env = engineProcessEnv(base, platform, undefined, CLI_MALLOC_TUNABLES);
  if (env.NODE_EXTRA_CA_CERTS !== undefined && !cliMayConnect(args)) delete env.NODE_EXTRA_CA_CERTS;
  return env;
}
