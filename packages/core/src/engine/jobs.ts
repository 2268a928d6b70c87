/** The engine's queued images and the cancellation helpers its batching uses. */
export { cancelled } from '../errors.js';
import type { InferResult } from './classifier-options.js';

export interface Job {
  tensor: Float32Array;
  /** The tensor came from the engine's pool and goes back to it once copied into a batch. */
  pooled: boolean;
  enqueuedAt: number;
  signal: AbortSignal | undefined;
  /** The caller wants this image's embedding (a batch fetches embeddings only when one of its jobs does). */
  embedding: boolean;
  resolve: (r: InferResult) => void;
  reject: (e: Error) => void;
}

/** A signal that aborts once every one of `signals` has (a batch is cancelled when all its images are). */
export function allAborted(signals: AbortSignal[]): { signal: AbortSignal; dispose: () => void } {
  const c = new AbortController();
  const unique = [...new Set(signals)];
  const check = () => {
    if (unique.every((s) => s.aborted)) c.abort();
  };
  for (const s of unique) s.addEventListener('abort', check);
  check();
  const dispose = () => {
    for (const s of unique) s.removeEventListener('abort', check);
  };
  return { signal: c.signal, dispose };
}
