/**
 * Starting the inference worker thread before the rest of the program has loaded. A worker thread takes tens of
 * milliseconds to start and load ONNX Runtime, and a command that classifies loads this package's whole module
 * graph (and sharp) before it creates its session: started first, the thread does its part meanwhile, on the other
 * core. Kept small (no imports of the engine) so that loading it costs nothing.
 *
 * The worker waits unreferenced (it keeps no process alive) until `WorkerBackend` takes it; one never taken ends
 * with the process.
 */
import { Worker } from 'node:worker_threads';
import { findWorkerScript } from '../threads.js';

let spare: { worker: Worker; script: string; exited: boolean; ready: boolean; onMessage: (m: unknown) => void } | undefined;

/** Starts the inference worker now (once), for the next `WorkerBackend` with the default script to take. */
export function prestartInferenceWorker(): void {
  if (spare) return;
  try {
    const script = findWorkerScript('engine/inference-worker.js');
    const worker = new Worker(script, { env: { ...process.env, ORT_DISABLE_TELEMETRY: '1' } });
    const entry = {
      worker,
      script,
      exited: false,
      ready: false,
      onMessage: (m: unknown) => {
        if ((m as { type?: string } | null)?.type === 'ready') entry.ready = true;
      },
    };
    // Until taken: an error or exit only makes it unusable (the backend then starts its own).
    worker.on('error', () => (entry.exited = true));
    worker.on('exit', () => (entry.exited = true));
    worker.on('message', entry.onMessage);
    worker.unref();
    spare = entry;
  } catch {
    spare = undefined;
  }
}

/** The prestarted worker, if it runs `script` and is still alive (taken once; referenced again). */
export function takePrestartedWorker(script: string): Worker | undefined {
  const s = spare;
  if (!s || s.script !== script) return undefined;
  spare = undefined;
  if (s.exited) return undefined;
  s.worker.removeAllListeners('error');
  s.worker.removeAllListeners('exit');
  s.worker.off('message', s.onMessage);
  s.worker.ref();
  return s.worker;
}

/**
 * Stops a prestarted worker that nothing took (a usage error, a model that failed before the engine started), once
 * it has finished loading ONNX Runtime's binding: a process that exits while that thread is still inside the
 * library's load can abort (SIGABRT) instead of exiting with its status. Waits at most `timeoutMs`.
 */
export async function settlePrestartedWorker(timeoutMs = 5_000): Promise<void> {
  const s = spare;
  if (!s) return;
  spare = undefined;
  if (!s.exited && !s.ready) {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      function done() {
        clearTimeout(timer);
        s!.worker.off('message', onMessage);
        s!.worker.off('exit', done);
        resolve();
      }
      const onMessage = (m: unknown) => {
        if ((m as { type?: string } | null)?.type === 'ready') done();
      };
      s.worker.on('message', onMessage);
      s.worker.on('exit', done);
    });
  }
  s.worker.off('message', s.onMessage);
  if (!s.exited) await s.worker.terminate().catch(() => undefined);
}
