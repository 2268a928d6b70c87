/**
 * Worker thread for curation's analysis (label issues, duplicates, outliers, quality): pure CPU work that takes
 * from milliseconds to tens of seconds, kept off the JSON-RPC thread. One message in, one out. The neighbour graph
 * the analysis built (large datasets) is saved to `annFile` for find-similar (rather than rebuilt on the main thread)
 * and for the next run, which updates it for the files that changed.
 */
import { parentPort } from 'node:worker_threads';
import {
  type Analysable,
  type AnalyseOptions,
  type AnnSnapshot,
  analyse,
  type LabelSet,
  persistAnnIndex,
  readAnnSnapshot,
} from '@image-classifier/core';

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
port.on('message', (m: AnalyseRequest) => {
  try {
    const d = m.items[0]?.embedding.length ?? 0;
    const previous = m.annFile && d ? readAnnSnapshot(m.annFile, d) : undefined;
    const analysis = analyse(m.items, m.labels, previous ? { ...m.options, previousIndex: previous } : m.options);
    const saved = save(analysis, m);
    const origin = analysis.ann?.origin;
    delete analysis.ann;
    port.postMessage({ analysis, saved, origin });
  } catch (e) {
    port.postMessage({ error: e instanceof Error ? e.message : String(e) });
  }
});
