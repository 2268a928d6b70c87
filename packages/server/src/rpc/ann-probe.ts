/**
 * Child process that loads a saved neighbour graph with usearch before the server does: usearch is native code, and
 * a graph it cannot read may abort the process (SIGABRT from malloc) rather than throw. Run as a child, that abort
 * costs a child; the server sees the exit and builds the graph anew. Nothing here writes to the saved graph.
 *
 * One message in (`AnnProbeRequest`), one out (`AnnProbeAnswer`), then exit. With `verify`, the graph at
 * `verify.source` is first checked against its saved SHA-256 and copied to `file` (a new file), which is what gets
 * loaded, so the server's own load later reads exactly the bytes this child read.
 */
import { copyVerifiedGraph, loadUsearch } from '@image-classifier/core';
import { environment } from '../environment.js';

export interface AnnProbeRequest {
  /** The graph file to load. */
  file: string;
  /** Check `source` against the saved hash and copy it to `file` first. */
  verify?: { source: string; sha256: string; bytes: number };
  /** usearch's Index configuration, as the graph was built (ann-graph.ts newGraph). */
  config: Record<string, unknown>;
  dims: number;
}

export type AnnProbeAnswer = { ok: true; size: number } | { ok: false; reason: string };

function answer(a: AnnProbeAnswer): void {
  process.send?.(a, () => process.exit(0));
}

function probe(req: AnnProbeRequest): AnnProbeAnswer {
  if (req.verify) {
    const bad = copyVerifiedGraph(req.verify.source, req.verify.sha256, req.verify.bytes, req.file);
    if (bad) return { ok: false, reason: bad };
  }
  // Tests only: the native load dies as a graph usearch cannot read would make it.
  if (environment.testHooks() && environment.testCrashAnnLoader()) process.abort();
  const Index = loadUsearch();
  if (!Index) return { ok: false, reason: 'usearch does not load on this platform' };
  const g = new Index(req.config);
  g.load(req.file);
  const size = g.size();
  if (size > 0) {
    // A few searches walk the graph's links as the analysis will.
    const q = new Float32Array(4 * req.dims);
    for (let i = 0; i < q.length; i++) q[i] = Math.sin(i * 12.9898) * 0.5;
    g.search(q, Math.min(10, size), 1);
  }
  return { ok: true, size };
}

process.once('message', (req: AnnProbeRequest) => {
  try {
    answer(probe(req));
  } catch (e) {
    answer({ ok: false, reason: `usearch could not load the saved graph (${e instanceof Error ? e.message : String(e)})` });
  }
});
