/**
 * The engine's inference backend for its options: onnxruntime-node here (in a worker thread by default), or a
 * model on an Open Inference Protocol server, optionally with the local model behind it (remote/fallback.ts).
 */
import { isClassifierError } from '../errors.js';
import type { RemoteBackend } from '../remote/remote-backend.js';
import type { ClassifierOptions } from './classifier-options.js';
import { type InferenceBackend, loadBackend } from './inference-backend.js';

/** Remote errors at start that the fallback covers: the server is away; a wrong name, signature or credential is not. */
const TRANSIENT = new Set(['REMOTE_UNAVAILABLE', 'REMOTE_TIMEOUT', 'REMOTE_FAILED']);

export async function openBackend(opts: ClassifierOptions): Promise<InferenceBackend> {
  const local = () =>
    loadBackend(
      opts.modelPath,
      { allowSpinning: false, ...opts.session },
      {
        ...(opts.worker !== undefined ? { worker: opts.worker } : {}),
        ...(opts.workerScript !== undefined ? { workerScript: opts.workerScript } : {}),
      },
    );
  if (!opts.remote) return local();
  // The remote modules load only for a remote model: a local one's start does not wait for them.
  const [{ RemoteBackend: Remote }, { FallbackBackend }] = await Promise.all([
    import('../remote/remote-backend.js'),
    import('../remote/fallback.js'),
  ]);
  let remote: RemoteBackend;
  try {
    remote = await Remote.connect(opts.remote);
  } catch (e) {
    if (!opts.fallbackToLocal || !isClassifierError(e) || !TRANSIENT.has(e.code)) throw e;
    // The server is away at start: the local model answers this session (its own cache key, no remote results).
    opts.onAnswererChange?.('local', e.message);
    return local();
  }
  return opts.fallbackToLocal ? new FallbackBackend(remote, local, opts.onAnswererChange) : remote;
}
