/**
 * Child process that loads a saved neighbour graph with usearch before the server does: usearch is native code, and
 * a graph it cannot read may abort the process (SIGABRT from malloc) rather than throw. Run as a child, that abort
 * costs a child; the server sees the exit and builds the graph anew. Nothing here writes to the saved graph.
 *
 * One message in (`AnnProbeRequest`), one out (`AnnProbeAnswer`), then exit. The graph is first checked against
 * its SHA-256 (from the manifest beside it, or the one a snapshot carries) and copied to `copyTo` (a new file),
 * which is what gets loaded, so the server's own load later reads exactly the bytes this child read.
 */
// The two modules it needs, not the package's index (which loads the ONNX and image stacks): a fast start.
import { type AnnOptions, loadUsearch } from '@image-classifier/core/ann';
import { copyManifestGraph, copyVerifiedGraph, type VerifiedGraph } from '@image-classifier/core/ann-store';
import { environment } from '../environment.js';

export type AnnProbeRequest =
  /** The graph saved at `annFile`, checked against its manifest. */
  | { kind: 'saved'; annFile: string; copyTo: string }
  /** The graph file `source`, checked against the hash a snapshot carries. */
  | { kind: 'snapshot'; source: string; sha256: string; bytes: number; dims: number; options: AnnOptions; copyTo: string };

export type AnnProbeAnswer = { ok: true; graph: VerifiedGraph } | { ok: false; reason: string };

/** usearch's Index configuration for a graph of `dims` built with `options` (as ann-graph.ts newGraph). */
export function usearchConfig(dims: number, options: AnnOptions): Record<string, unknown> {
  return {
    dimensions: dims,
    metric: 'cos',
    quantization: options.quantization ?? 'f32',
    connectivity: options.connectivity,
    expansion_add: options.expansionAdd,
    expansion_search: options.expansionSearch,
  };
}

function copy(req: AnnProbeRequest): AnnProbeAnswer {
  if (req.kind === 'saved') {
    const r = copyManifestGraph(req.annFile, req.copyTo);
    return r.graph ? { ok: true, graph: r.graph } : { ok: false, reason: r.reason ?? 'the saved graph is gone' };
  }
  const bad = copyVerifiedGraph(req.source, req.sha256, req.bytes, req.copyTo);
  if (bad) return { ok: false, reason: bad };
  return { ok: true, graph: { file: req.copyTo, sha256: req.sha256, bytes: req.bytes, dims: req.dims, options: req.options } };
}

function probe(req: AnnProbeRequest): AnnProbeAnswer {
  const copied = copy(req);
  if (!copied.ok) return copied;
  const { graph } = copied;
  // Tests only: the native load dies as a graph usearch cannot read would make it.
  if (environment.testHooks() && environment.testCrashAnnLoader()) process.abort();
  const Index = loadUsearch();
  if (!Index) return { ok: false, reason: 'usearch does not load on this platform' };
  const g = new Index(usearchConfig(graph.dims, graph.options));
  g.load(graph.file);
  const size = g.size();
  if (size > 0) {
    // A few searches walk the graph's links as the analysis will.
    const q = new Float32Array(4 * graph.dims);
    for (let i = 0; i < q.length; i++) q[i] = Math.sin(i * 12.9898) * 0.5;
    g.search(q, Math.min(10, size), 1);
  }
  return copied;
}

process.once('message', (req: AnnProbeRequest) => {
  let a: AnnProbeAnswer;
  try {
    a = probe(req);
  } catch (e) {
    a = { ok: false, reason: `usearch could not load the saved graph (${e instanceof Error ? e.message : String(e)})` };
  }
  process.send?.(a, () => process.exit(0));
});
