/**
 * Worker thread for curation's analysis (label issues, duplicates, outliers, quality): pure CPU work that takes
 * from milliseconds to tens of seconds, kept off the JSON-RPC thread. One message in, one out. The neighbour graph
 * the analysis built (large datasets) is saved to `annFile` for find-similar rather than rebuilt on the main thread.
 */
import { renameSync, rmSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { type Analysable, type AnalyseOptions, type AnnSnapshot, analyse, type LabelSet } from '@image-classifier/core';

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

function save(a: ReturnType<typeof analyse>, m: AnalyseRequest): SavedIndex | undefined {
  if (!a.ann || !m.annFile) return undefined;
  const tmp = `${m.annFile}.${process.pid}.tmp`;
  try {
    const snapshot = a.ann.save(tmp);
    if (!snapshot) return undefined;
    renameSync(tmp, m.annFile);
    return { snapshot: { ...snapshot, file: m.annFile }, files: m.items.map((x) => x.entry.file) };
  } catch {
    rmSync(tmp, { force: true });
    return undefined;
  }
}

const port = parentPort;
if (!port) throw new Error('curate-worker must run in a worker thread');
port.on('message', (m: AnalyseRequest) => {
  try {
    const analysis = analyse(m.items, m.labels, m.options);
    const saved = save(analysis, m);
    delete analysis.ann;
    port.postMessage({ analysis, saved });
  } catch (e) {
    port.postMessage({ error: e instanceof Error ? e.message : String(e) });
  }
});
