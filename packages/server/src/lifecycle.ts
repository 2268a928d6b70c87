/**
 * Orderly shutdown, whatever asks for it (stdin closing, SIGTERM, SIGINT, SIGHUP, the `exit` notification, a
 * malformed frame, a reader error): stop accepting requests, cancel queued work, let native calls in flight
 * return (inference threads are stopped only between calls, see core's WorkerBackend.release; decoder processes
 * are killed after a short wait, see PreprocessPool.close), flush the caches, then exit. `process.exit` while ONNX Runtime or libvips runs on a
 * thread aborts the process ("terminate called after throwing an instance of 'Napi::Error'"), hence the order.
 * A backstop exits anyway after `graceMs`.
 */
import { shutdownSignals } from '@image-classifier/protocol/platform';

export interface LifecycleOptions {
  log: (m: string) => void;
  /** Stops the server (see InferenceServer.close). */
  close: () => Promise<void>;
  exit?: (code: number) => void;
  graceMs?: number;
}

/** How long an orderly shutdown may take before the process exits anyway. */
export const SHUTDOWN_GRACE_MS = 6_000;

export type Shutdown = (reason: string, code: number) => Promise<void>;

export function createShutdown(o: LifecycleOptions): Shutdown {
  const exit = o.exit ?? ((code: number) => process.exit(code));
  let stopping: Promise<void> | undefined;
  return (reason, code) => {
    if (stopping) return stopping;
    o.log(`shutting down: ${reason}`);
    const graceMs = o.graceMs ?? SHUTDOWN_GRACE_MS;
    const backstop = setTimeout(() => {
      o.log(`shutdown did not finish within ${graceMs} ms; exiting anyway`);
      exit(code);
    }, graceMs);
    stopping = o
      .close()
      .catch((e: unknown) => o.log(`shutdown: ${e instanceof Error ? e.message : String(e)}`))
      .then(() => {
        clearTimeout(backstop);
        exit(code);
      });
    return stopping;
  };
}

/**
 * The platform's stop signals shut down in order (exit code 0: the server was asked to stop): SIGTERM, SIGINT and
 * SIGHUP; on Windows, which has no SIGTERM, SIGINT, SIGBREAK and SIGHUP (the `exit` notification and stdin closing
 * work everywhere).
 */
export function shutdownOnSignals(shutdown: Shutdown, platform: NodeJS.Platform = process.platform): void {
  for (const signal of shutdownSignals(platform)) {
    process.on(signal, () => void shutdown(`${signal} received`, 0));
  }
}
