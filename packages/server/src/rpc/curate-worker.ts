/**
 * Worker thread for curation's analysis (label issues, duplicates, outliers, quality): pure CPU work that takes
 * from milliseconds to tens of seconds, kept off the JSON-RPC thread. One message in, one out. The neighbour graph
 * the analysis built (large datasets) is saved to `annFile` for find-similar (rather than rebuilt on the main thread)
 * and for the next run, which updates it for the files that changed. That saved graph is read through ann-guard.ts:
 * checksums first, then a child process loads it before this thread does; a graph that fails either is built anew
 * and the origin says why (`rebuilt`).
 */
import { parentPort } from 'node:worker_threads';
import {
  type Analysable,
  type AnalyseOptions,
  type AnnSnapshot,
  analyse,
  EXACT_MAX_ROWS,
  type LabelSet,
  persistAnnIndex,
} from '@image-classifier/core';
import { type GuardedGraph, readGuardedSnapshot } from './ann-guard.js';

export interface AnalyseRequest {
  items: Analysable[];
  labels: LabelSet | undefined;
  options: AnalyseOptions;
  /** Where to save the analysis's neighbour graph (written beside, then renamed). */
  annFile?: string;
}

/** The saved graph and the files of its rows, in row order. */
export interface SavedIndex {
  snapshot: AnnSnapshot;
  files: string[];
}

/** Saves the analysis's graph (large datasets) to `annFile` for find-similar and the next run. */
function save(a: ReturnType<typeof analyse>, m: AnalyseRequest): SavedIndex | undefined {
  if (!a.ann || !m.annFile) return undefined;
  const snapshot = persistAnnIndex(a.ann, m.annFile, a.m.d);
  return snapshot && { snapshot, files: m.items.map((x) => x.entry.file) };
}

const port = parentPort;
if (!port) throw new Error('curate-worker must run in a worker thread');
port.on('message', async (m: AnalyseRequest) => {
  let previous: GuardedGraph = {};
  try {
    const d = m.items[0]?.embedding.length ?? 0;
    // Only a run that searches with a graph reads the saved one.
    const graph = m.items.length > (m.options.exactMaxRows ?? EXACT_MAX_ROWS);
    if (m.annFile && d && graph) previous = await readGuardedSnapshot(m.annFile, d);
    const options = previous.snapshot ? { ...m.options, previousIndex: previous.snapshot } : m.options;
    let analysis: ReturnType<typeof analyse>;
    try {
      analysis = analyse(m.items, m.labels, options);
    } finally {
      // usearch read the copy into memory; removed before the answer (the thread is terminated once it is sent).
      if (previous.snapshot) previous.dispose();
    }
    const saved = save(analysis, m);
    let origin = analysis.ann?.origin;
    if (origin?.kind === 'built' && previous.reason) origin = { ...origin, rebuilt: previous.reason };
    delete analysis.ann;
    port.postMessage({ analysis, saved, origin });
  } catch (e) {
    port.postMessage({ error: e instanceof Error ? e.message : String(e) });
  }
});
