/**
 * `imageClassifier/similar`: the k images of a dataset nearest to one image, by cosine similarity of embeddings.
 * The index is the one the last `curate` of that root built (kept per root, for the model that built it); a root
 * not curated yet is embedded through the cache first (no analysis). The query image goes through the same
 * cached classify path (inside the workspace roots), so a dataset image finds itself first.
 */
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  ClassifierError,
  type EmbeddingIndex,
  loadAnnIndex,
  normalizedMatrix,
  requireEmbedding,
  scanDataset,
  searchSimilar,
  unit,
} from '@image-classifier/core';
import { type SimilarParams, type SimilarResult, SimilarRequest, usageLine } from '@image-classifier/protocol';
import type { CancellationToken } from 'vscode-languageserver/node';
import { classifyFile } from './cached-classify.js';
import { signalFor } from './classify.js';
import { datasetRoot } from './curate.js';
import { extractCached } from './curate-extract.js';
import type { SavedIndex } from './curate-worker.js';
import { guardSavedSnapshot } from './ann-guard.js';
import { optionalInt } from './limits.js';
import { pace } from './pace.js';
import { acquireModel } from './model-host.js';
import type { Loaded, ServerContext } from './state.js';

/** Roots whose index is kept (most recent first). */
const MAX_INDEXES = 4;
const MAX_K = 1000;

interface Indexes {
  last: string | undefined;
  byRoot: Map<string, { modelKey: string; index: EmbeddingIndex }>;
}

const stores = new WeakMap<ServerContext, Indexes>();

function store(ctx: ServerContext): Indexes {
  let s = stores.get(ctx);
  if (!s) stores.set(ctx, (s = { last: undefined, byRoot: new Map() }));
  return s;
}

/**
 * Where the curate worker saves the neighbour graph of `root` for this model: in the cache directory (clearCache
 * removes it), one file per root and model, replaced by each run.
 */
export function annFileFor(ctx: ServerContext, modelKey: string, root: string): string | undefined {
  if (!ctx.caches.dir) return undefined;
  const id = createHash('sha256').update(`${modelKey}\0${root}`).digest('hex').slice(0, 20);
  const dir = path.join(ctx.caches.dir, 'curation');
  try {
    mkdirSync(dir, { recursive: true });
  } catch {
    return undefined;
  }
  return path.join(dir, `ann-${id}.usearch`);
}

/**
 * Keeps the index of `root` (file → embedding) for `similar`; it becomes the default root. With the graph the
 * analysis saved (`saved`, rows in its own file order), the first query loads that graph instead of building one.
 */
export function rememberIndex(
  ctx: ServerContext,
  modelKey: string,
  root: string,
  vectors: Map<string, Float32Array>,
  saved?: SavedIndex,
): void {
  const usable = saved && saved.files.length === vectors.size && saved.files.every((f) => vectors.has(f));
  const files = usable ? saved.files : [...vectors.keys()];
  const d = vectors.values().next().value?.length ?? 0;
  const index: EmbeddingIndex = {
    root,
    files,
    matrix: normalizedMatrix(
      files.map((f) => vectors.get(f)!),
      d,
    ),
    failed: [],
    ...(usable ? { snapshot: saved.snapshot } : {}),
  };
  const s = store(ctx);
  s.byRoot.delete(root);
  s.byRoot.set(root, { modelKey, index });
  while (s.byRoot.size > MAX_INDEXES) s.byRoot.delete(s.byRoot.keys().next().value as string);
  s.last = root;
}

/** Embeds every image under `root` through the cache (embeddings only). */
async function buildIndex(ctx: ServerContext, l: Loaded, root: string, signal: AbortSignal): Promise<EmbeddingIndex> {
  const scan = await scanDataset(root);
  const counts = { embedded: 0, cachedEmbeddings: 0, cachedFeatures: 0, failed: 0 };
  const vectors = new Map<string, Float32Array>();
  let next = 0;
  const lane = async () => {
    while (next < scan.entries.length && !signal.aborted) {
      await pace();
      if (signal.aborted || next >= scan.entries.length) break;
      const e = scan.entries[next++]!;
      const x = e.refused ? undefined : await extractCached(ctx, l, e, { signal, features: false, counts, within: scan.realRoot });
      if (x?.embedding) vectors.set(e.file, x.embedding);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, l.classifier.maxBatch * 2 + 2) }, lane));
  if (signal.aborted) throw new ClassifierError('CANCELLED', 'The request was cancelled.');
  const ordered = new Map(scan.entries.flatMap((e) => (vectors.has(e.file) ? [[e.file, vectors.get(e.file)!] as const] : [])));
  rememberIndex(ctx, l.key, scan.root, ordered);
  return store(ctx).byRoot.get(scan.root)!.index;
}

const guarding = new WeakMap<EmbeddingIndex, Promise<void>>();

/**
 * Loads the graph the curate run saved for `index` without trusting the file: checked against its hash and loaded
 * once by a child process (ann-guard.ts) before this process loads the same bytes. Otherwise the snapshot is
 * dropped and the first query builds the graph in memory.
 */
function loadSavedGraph(ctx: ServerContext, index: EmbeddingIndex): Promise<void> {
  const snapshot = index.snapshot;
  if (!snapshot || index.ann) return Promise.resolve();
  let p = guarding.get(index);
  if (!p) {
    p = guardSavedSnapshot(snapshot).then((g) => {
      delete index.snapshot;
      if (!g.snapshot) {
        ctx.log(`find similar: the saved graph is not used, building one (${g.reason ?? 'no saved graph'})`);
        return;
      }
      try {
        const ann = loadAnnIndex(index.matrix, g.snapshot);
        if (ann) index.ann = ann;
      } finally {
        g.dispose();
      }
    });
    guarding.set(index, p);
  }
  return p;
}

async function indexFor(ctx: ServerContext, l: Loaded, rootUri: string | undefined, signal: AbortSignal): Promise<EmbeddingIndex> {
  const s = store(ctx);
  const root = rootUri !== undefined ? datasetRoot(ctx, rootUri) : s.last;
  if (root === undefined)
    throw new ClassifierError('INVALID_ARGUMENT', 'similar needs a root: no dataset has been curated yet (send root, or curate first).');
  const kept = s.byRoot.get(root);
  if (kept && kept.modelKey === l.key) return kept.index;
  // The last curated root, with the model since replaced, is re-embedded too (through the cache).
  return buildIndex(ctx, l, root, signal);
}

export async function similar(p: SimilarParams, ctx: ServerContext, token: CancellationToken): Promise<SimilarResult> {
  const t0 = performance.now();
  if (!p || typeof p !== 'object' || typeof p.uri !== 'string')
    throw new ClassifierError('INVALID_ARGUMENT', `${usageLine(SimilarRequest.method, SimilarRequest.usage)}.`);
  const k = optionalInt('k', p.k, 10, MAX_K);
  const file = ctx.config.roots.resolve(p.uri);
  const model = await acquireModel(ctx);
  const { signal, dispose } = signalFor(token);
  try {
    const l = model.loaded;
    requireEmbedding(l.classifier.info);
    const index = await indexFor(ctx, l, p.root, signal);
    await loadSavedGraph(ctx, index);
    const q = await classifyFile(ctx, l, file, { topK: 1, force: false, interactive: true, signal, embedding: true, rawEmbedding: true });
    if (!q.vector) throw new ClassifierError('NO_EMBEDDING', 'The model returned no embedding.');
    const hits = index.files.length ? searchSimilar(index, unit(q.vector), Math.min(k, index.files.length)) : [];
    return {
      root: index.root,
      items: hits.map((h) => ({
        uri: pathToFileURL(path.join(index.root, ...h.file.split('/'))).href,
        file: h.file,
        similarity: h.similarity,
      })),
      indexed: index.files.length,
      durationMs: Math.round(performance.now() - t0),
    };
  } finally {
    dispose();
    model.release();
  }
}
