/** What activate() returns: used by the in-host tests (and usable by other extensions). */
import type { ImageClassifierExtension } from './imageClassifier';
import type { ActivationTimes } from './timing';

export interface ImageClassifierApi extends ActivationTimes {
  readonly server: {
    readonly pid: number | undefined;
    readonly starts: number;
    readonly phase: string;
    readonly state: string | undefined;
  };
  results(): Array<{ uri: string; label: string; probability: number; model: string }>;
  whenServerReady(): Promise<void>;
}

/** An object whose properties are read through the getters given (live values). */
function live<T extends object>(getters: { [K in keyof T]: () => T[K] }): T {
  const o = {} as T;
  for (const [k, get] of Object.entries(getters)) Object.defineProperty(o, k, { get: get as () => unknown, enumerable: true });
  return o;
}

/** Resolves when the model is ready (starting the server if needed); rejects when it is in error. */
function whenServerReady(ext: ImageClassifierExtension): Promise<void> {
  const server = ext.server;
  return new Promise<void>((resolve, reject) => {
    const check = () => {
      const s = server.status;
      if (s?.state === 'ready') {
        resolve();
        return true;
      }
      if (s?.state === 'error') {
        reject(new Error(s.error?.message ?? s.message ?? 'model error'));
        return true;
      }
      return false;
    };
    void server.client.ensureStarted().then(() => {
      if (check()) return;
      const sub = server.onStatus(() => {
        if (check()) sub.dispose();
      });
    }, reject);
  });
}

export function createApi(ext: ImageClassifierExtension, times: ActivationTimes): ImageClassifierApi {
  const server = ext.server;
  return {
    ...times,
    server: live<ImageClassifierApi['server']>({
      pid: () => server.pid,
      starts: () => server.starts,
      phase: () => server.phase,
      state: () => server.status?.state,
    }),
    results: () =>
      ext.store.all().map((r) => ({
        uri: r.uri.toString(),
        label: r.predictions[0]?.label ?? '',
        probability: r.predictions[0]?.probability ?? 0,
        model: r.model,
      })),
    whenServerReady: () => whenServerReady(ext),
  };
}
