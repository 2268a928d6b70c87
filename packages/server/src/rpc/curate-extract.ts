/**
 * Curation's per-file read, server side: the embedding through the same cached path as `classify`
 * (`classifyFile(..., {embedding: true})`, keyed by model and content hash), the pixel features (hashes, quality)
 * from an in-memory cache keyed by the same content hash, and the bytes, when they must be read, through
 * `Roots.open()` (checked on the opened descriptor). A moved or unchanged file is neither embedded nor decoded again.
 */
import { createHash } from 'node:crypto';
import { closeSync } from 'node:fs';
import {
  ClassifierError,
  type DatasetEntry,
  isInsideFolder,
  type Extracted,
  type ImageFeatures,
  imageFeatures,
  readOpenedFile,
  toClassifierError,
} from '@image-classifier/core';
import { classifyFile } from './cached-classify.js';
import type { Loaded, ServerContext } from './state.js';

/** Pixel features kept in memory (a few hundred bytes each). */
const MAX_FEATURES = 200_000;

const featureCaches = new WeakMap<ServerContext, Map<string, ImageFeatures>>();

function featureCache(ctx: ServerContext): Map<string, ImageFeatures> {
  let m = featureCaches.get(ctx);
  if (!m) featureCaches.set(ctx, (m = new Map()));
  return m;
}

function remember(m: Map<string, ImageFeatures>, key: string, f: ImageFeatures): void {
  if (m.size >= MAX_FEATURES) m.delete(m.keys().next().value as string);
  m.set(key, f);
}

/** Reads `file` through the roots and computes its features; keyed like the result cache (sha256, 40 hex digits). */
async function readFeatures(
  ctx: ServerContext,
  file: string | Buffer,
  name: string,
  maxPixels: number | undefined,
): Promise<ImageFeatures> {
  const opened = ctx.config.roots.open(file);
  let bytes: Buffer;
  try {
    bytes = await readOpenedFile(opened.fd, opened.stat.size);
  } finally {
    closeSync(opened.fd);
  }
  const key = createHash('sha256').update(bytes).digest('hex').slice(0, 40);
  const m = featureCache(ctx);
  const hit = m.get(key);
  if (hit) return hit;
  const f = await imageFeatures(bytes, maxPixels, name);
  remember(m, key, f);
  return f;
}

export interface CurateExtractCounts {
  embedded: number;
  cachedEmbeddings: number;
  cachedFeatures: number;
  failed: number;
}

export interface CurateExtractOptions {
  signal: AbortSignal;
  /** Also the pixel features (false for a similarity index). */
  features: boolean;
  counts: CurateExtractCounts;
  maxPixels?: number;
  /** The dataset's real root: a file that resolves elsewhere (a link swapped in after the scan) is refused unread. */
  within?: string;
}

/** One dataset entry → what curation needs; errors become the entry's error (never thrown), except cancellation. */
export async function extractCached(ctx: ServerContext, l: Loaded, entry: DatasetEntry, o: CurateExtractOptions): Promise<Extracted> {
  try {
    const file = ctx.config.roots.resolve(entry.rawPath ?? entry.path);
    if (o.within !== undefined && !isInsideFolder(file.path, o.within))
      throw new ClassifierError(
        'OUTSIDE_WORKSPACE',
        `${entry.file} leads outside the dataset folder (a symbolic link); files outside it are not read.`,
      );
    // The top 10 classes (what the result cache keeps): the label check's WordNet opinion reads them.
    const r = await classifyFile(ctx, l, file, {
      topK: 10,
      force: false,
      interactive: false,
      signal: o.signal,
      embedding: true,
      rawEmbedding: true,
    });
    if (!r.vector) throw new Error('the model returned no embedding');
    if (r.cached) o.counts.cachedEmbeddings++;
    else o.counts.embedded++;
    let features: ImageFeatures | undefined;
    if (o.features) {
      const hash = ctx.caches.results?.hashFor(file.path, file.size, file.mtimeMs, file);
      features = hash ? featureCache(ctx).get(hash) : undefined;
      if (features) o.counts.cachedFeatures++;
      else features = await readFeatures(ctx, file.rawPath ?? file.path, entry.file, o.maxPixels);
    }
    const top = r.predictions[0];
    return {
      entry,
      ...(features ? { features } : {}),
      embedding: r.vector,
      stamp: { size: file.size, mtimeMs: file.mtimeMs },
      ...(top ? { predicted: { label: top.label, probability: Math.round(top.probability * 1e4) / 1e4 } } : {}),
      ...(o.features && r.predictions.length
        ? {
            top: {
              index: Uint16Array.from(r.predictions, (q) => q.index),
              probability: Float32Array.from(r.predictions, (q) => q.probability),
            },
          }
        : {}),
    };
  } catch (e) {
    const err = toClassifierError(e, 'DECODE_FAILED');
    if (err.code === 'CANCELLED' && o.signal.aborted) throw err;
    o.counts.failed++;
    return { entry, error: { code: err.code, message: err.message } };
  }
}
