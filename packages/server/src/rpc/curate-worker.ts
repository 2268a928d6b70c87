/**
 * Worker thread for curation's analysis (label issues, duplicates, outliers, quality): pure CPU work that takes
 * from milliseconds to tens of seconds, kept off the JSON-RPC thread. One message in, one out.
 */
import { parentPort } from 'node:worker_threads';
import { type Analysable, type AnalyseOptions, analyse, type LabelSet } from '@image-classifier/core';

export interface AnalyseRequest {
  items: Analysable[];
  labels: LabelSet | undefined;
  options: AnalyseOptions;
}

const port = parentPort;
if (!port) throw new Error('curate-worker must run in a worker thread');
port.on('message', (m: AnalyseRequest) => {
  try {
    port.postMessage({ analysis: analyse(m.items, m.labels, m.options) });
  } catch (e) {
    port.postMessage({ error: e instanceof Error ? e.message : String(e) });
  }
});
