/**
 * Runs curation's analysis in a worker thread (`curate-worker.js`, beside this module), one worker per run,
 * terminated when it answers or when the run is cancelled. Without the script (a bundle that did not ship it) the
 * analysis runs on the main thread, and the report's `run.analysisThread` says so.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { type Analysable, type AnalyseOptions, type Analysis, analyse, ClassifierError, type LabelSet } from '@image-classifier/core';
import type { CurateRunStats } from '@image-classifier/protocol';
import { type PreparedGraph, prepareSavedGraph } from './ann-guard.js';
import type { SavedIndex } from './curate-worker.js';

export function curateWorkerScript(): string | undefined {
  const p = path.join(__dirname, 'curate-worker.js');
  return existsSync(p) ? p : undefined;
}

type Analyser = (items: Analysable[], labels: LabelSet | undefined, o: AnalyseOptions) => Promise<Analysis>;

export interface OffThreadAnalyser {
  run: Analyser;
  thread: 'worker' | 'main';
  /** The neighbour graph the last run saved to `annFile` (large datasets), for find-similar. */
  saved?: SavedIndex;
  /** How the last run's neighbour index was made. */
  origin?: CurateRunStats['neighbourIndex'];
  /** Removes what the analyser keeps on disk for its run (the private copy of the saved graph). */
  dispose: () => void;
}

/**
 * An analyser for curateDataset's `analyse` hook: in a worker when the script is there, else in this thread. The
 * worker saves the neighbour graph it built to `annFile` (when given) and says so in `saved`. The graph saved there
 * by an earlier run is verified and loaded once by a child process (ann-guard.ts) from the start, while the images
 * are read, so that a graph that would crash usearch never reaches this process and the check costs no wait.
 */
export function offThreadAnalyser(signal: AbortSignal, log: (m: string) => void, annFile?: string): OffThreadAnalyser {
  const script = curateWorkerScript();
  if (!script) {
    const main: OffThreadAnalyser = { thread: 'main', run: undefined as unknown as Analyser, dispose: () => undefined };
    main.run = async (items, labels, o) => {
      const a = analyse(items, labels, o);
      if (a.ann) main.origin = a.ann.origin;
      return a;
    };
    return main;
  }
  const prepared: Promise<PreparedGraph> | undefined = annFile ? prepareSavedGraph(annFile) : undefined;
  const dispose = () => void prepared?.then((p) => p.dispose());
  const out: OffThreadAnalyser = { run: undefined as unknown as Analyser, thread: 'worker', dispose };
  const run: Analyser = async (items, labels, options) => {
    const saved = await prepared;
    return new Promise<Analysis>((resolve, reject) => {
      const w = new Worker(script);
      const stop = () => {
        void w.terminate().then(dispose);
        reject(new ClassifierError('CANCELLED', 'Curation was cancelled.'));
      };
      if (signal.aborted) return stop();
      signal.addEventListener('abort', stop, { once: true });
      const done = () => {
        signal.removeEventListener('abort', stop);
        void w.terminate().then(dispose);
      };
      w.once('message', (m: { analysis?: Analysis; saved?: SavedIndex; origin?: OffThreadAnalyser['origin']; error?: string }) => {
        done();
        if (m.saved) out.saved = m.saved;
        if (m.origin) out.origin = m.origin;
        if (m.analysis) resolve(m.analysis);
        else reject(new ClassifierError('INTERNAL', `Curation analysis failed: ${m.error}`));
      });
      w.once('error', (e) => {
        done();
        log(`curation worker failed: ${e.message}`);
        reject(new ClassifierError('INTERNAL', `Curation analysis failed: ${e.message}`));
      });
      w.postMessage({
        items,
        labels,
        options,
        ...(annFile ? { annFile } : {}),
        ...(saved?.graph ? { savedGraph: saved.graph } : {}),
        ...(saved?.reason ? { savedGraphRefused: saved.reason } : {}),
      });
    });
  };
  out.run = run;
  return out;
}
