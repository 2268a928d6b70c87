/**
 * Find similar: the k images of a dataset nearest to a query image (in the dataset or not) by cosine over the
 * unit-norm embeddings: exact search up to EXACT_MAX_ROWS images, above that an approximate index (ann.ts) built on
 * the first query and kept with the EmbeddingIndex, its candidates re-ranked exactly.
 */
import * as path from 'node:path';
import type { CurationEngine } from './engine.js';
import { extractAll } from './extract.js';
import { readImageFile } from '../fs/read-file.js';
import { type AnnIndex, type AnnSnapshot, buildAnnIndex, loadAnnIndex } from './ann.js';
import { scanDataset } from './scan.js';
import { type Matrix, normalizedMatrix } from './vectors.js';

export interface EmbeddingIndex {
  root: string;
  files: string[];
  matrix: Matrix;
  /** Files that could not be embedded. */
  failed: Array<{ file: string; message: string }>;
  /** The search structure over `matrix`, built (or loaded from `snapshot`) on first use. */
  ann?: AnnIndex;
  /**
   * A graph the analysis saved over the same rows: loading it is much cheaper than building one. usearch loads it
   * as it is: set it only to a copy verified and loaded once out of process (the server's rpc/ann-guard.ts).
   */
  snapshot?: AnnSnapshot;
}

export interface SimilarHit {
  file: string;
  similarity: number;
}

/** Embeds every image under `root` (no pixel features beyond what extraction computes). */
export async function buildEmbeddingIndex(
  root: string,
  engine: CurationEngine,
  onProgress?: (done: number, total: number, failed: number) => void,
): Promise<EmbeddingIndex> {
  const scan = await scanDataset(root);
  const ex = await extractAll(engine, scan.entries, { within: scan.realRoot, ...(onProgress ? { onProgress } : {}) });
  const ok = ex.filter((x) => x.embedding);
  const d = ok[0]?.embedding?.length ?? 0;
  return {
    root: scan.root,
    files: ok.map((x) => x.entry.file),
    matrix: normalizedMatrix(
      ok.map((x) => x.embedding!),
      d,
    ),
    failed: ex.filter((x) => x.error).map((x) => ({ file: x.entry.file, message: x.error!.message })),
  };
}

/** Unit-norm copy of a vector. */
export function unit(v: ArrayLike<number>): Float32Array {
  return normalizedMatrix([v], v.length).data;
}

/** The k nearest images to `query` (a unit vector); `exclude`: a file of the index to leave out (the query itself). */
export function searchSimilar(index: EmbeddingIndex, query: Float32Array, k: number, exclude?: string): SimilarHit[] {
  const skip = exclude === undefined ? -1 : index.files.indexOf(exclude);
  index.ann ??= (index.snapshot && loadAnnIndex(index.matrix, index.snapshot)) || buildAnnIndex(index.matrix);
  return index.ann.query(query, k, skip).map((h) => ({
    file: index.files[h.index]!,
    similarity: Math.round(h.sim * 1e4) / 1e4,
  }));
}

/** Embeds one image file and searches the index; a query inside the root is left out of its own results. */
export async function findSimilar(index: EmbeddingIndex, engine: CurationEngine, image: string, k = 10): Promise<SimilarHit[]> {
  const bytes = await readImageFile(image);
  const r = await engine.classifyBytes(bytes, image, { topK: 1, embedding: true, priority: 'interactive' });
  if (!r.embedding) throw new Error('the model returned no embedding');
  const rel = path.relative(index.root, path.resolve(image)).split(path.sep).join('/');
  return searchSimilar(index, unit(r.embedding), k, rel.startsWith('..') ? undefined : rel);
}
