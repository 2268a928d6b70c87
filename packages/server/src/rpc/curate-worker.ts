/**
 * Worker thread for curation's analysis (label issues, duplicates, outliers, quality): pure CPU work that takes
 * from milliseconds to tens of seconds, kept off the JSON-RPC thread. One message in, one out. The neighbour graph
 * the analysis built (large datasets) is saved to `annFile` for find-similar (rather than rebuilt on the main thread)
 * and for the next run, which updates it for the files that changed. That saved graph comes verified: the main
 * thread had a child process check it against its manifest and load it (ann-guard.ts), into a private copy
 * (`savedGraph`); here its sidecars are checked against the same manifest. A graph refused by either is built anew
 * and the origin says why (`rebuilt`).
 */
import { parentPort } from 'node:worker_threads';
import {
  type Analysable,
  type AnalyseOptions,
  type AnnSnapshot,
  analyse,
  checkAnnSnapshot,
  EXACT_MAX_ROWS,
  type LabelSet,
  persistAnnIndex,
  type VerifiedGraph,
} from '@image-classifier/core';

export interface AnalyseRequest {
  items: Analysable[];
  labels: LabelSet | undefined;
  options: AnalyseOptions;
  /** Where to save the analysis's neighbour graph (written beside, then renamed). */
  annFile?: string;
  /** The graph saved at `annFile`, verified and loaded once by a child process (a private copy: ann-guard.ts). */
  savedGraph?: VerifiedGraph;
  /** Why the graph saved at `annFile` is not used (absent with `savedGraph`, or when nothing was saved). */
  savedGraphRefused?: string;
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
port.on('message', (m: AnalyseRequest) => {
  try {
    const d = m.items[0]?.embedding.length ?? 0;
    // Only a run that searches with a graph uses the saved one.
    const graph = m.items.length > (m.options.exactMaxRows ?? EXACT_MAX_ROWS);
    let previous: AnnSnapshot | undefined;
    let refused = m.savedGraphRefused;
    if (m.annFile && d && graph && m.savedGraph) {
      const read = checkAnnSnapshot(m.annFile, d, { verifiedGraph: m.savedGraph });
      previous = read.snapshot;
      refused = read.reason;
    }
    const analysis = analyse(m.items, m.labels, previous ? { ...m.options, previousIndex: previous } : m.options);
    const saved = save(analysis, m);
    let origin = analysis.ann?.origin;
    if (origin?.kind === 'built' && graph && refused) origin = { ...origin, rebuilt: refused };
    delete analysis.ann;
    port.postMessage({ analysis, saved, origin });
  } catch (e) {
    port.postMessage({ error: e instanceof Error ? e.message : String(e) });
  }
});
