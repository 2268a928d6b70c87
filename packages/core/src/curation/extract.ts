/**
 * Reading every image once: its bytes feed both the pixel features (hashes, quality) and the classifier (embedding,
 * top ImageNet class, and the logits when folder names are model classes), with a bounded number of images in
 * flight as the classify command does. A file that cannot be read or decoded gets an error, never a crash.
 */
import { promises as fs } from 'node:fs';
import type { CurationEngine } from './engine.js';
import { toClassifierError } from '../errors.js';
import { readImageFileWithStat } from '../fs/read-file.js';
import { type ImageFeatures, imageFeatures } from './image-features.js';
import type { DatasetEntry } from './scan.js';

export interface Extracted {
  entry: DatasetEntry;
  features?: ImageFeatures;
  embedding?: Float32Array;
  logits?: Float32Array;
  /** The model's top classes and their probabilities, where the logits are not at hand (a server's cached result). */
  top?: { index: Uint16Array; probability: Float32Array };
  predicted?: { label: string; probability: number };
  /** Size and mtime when read, to notice a file that changes during the run. */
  stamp?: { size: number; mtimeMs: number };
  error?: { code: string; message: string };
}

export interface ExtractOptions {
  logits?: boolean;
  maxPixels?: number;
  /** Called after each image (done, total, failed so far). */
  onProgress?: (done: number, total: number, failed: number) => void;
  /** Reads one entry instead of the built-in read (e.g. a server taking embeddings from its cache). */
  extractOne?: (entry: DatasetEntry) => Promise<Extracted>;
  /** Stops handing out entries once aborted (the result then has holes: the caller checks the signal). */
  signal?: AbortSignal;
  /** The dataset's real root: a file whose opened descriptor is elsewhere is refused unread (OUTSIDE_WORKSPACE). */
  within?: string;
}

/** The path file operations use: the real bytes of a name that is not valid UTF-8, else the path. */
export function entryFsPath(entry: DatasetEntry): string | Buffer {
  return entry.rawPath ?? entry.path;
}

async function extractOne(classifier: CurationEngine, entry: DatasetEntry, o: ExtractOptions): Promise<Extracted> {
  try {
    // The one read path (classify's): non-blocking open, regular files only, inside the root, typed errors.
    const { bytes, stat: st } = await readImageFileWithStat(entryFsPath(entry), {
      name: entry.file,
      ...(o.within !== undefined ? { within: o.within } : {}),
    });
    const stamp = { size: st.size, mtimeMs: st.mtimeMs };
    // Both settle before an error is chosen, the classifier's first: the same file gets the same code every run.
    const [c, f] = await Promise.allSettled([
      classifier.classifyBytes(bytes, entry.file, { topK: 1, embedding: true, logits: Boolean(o.logits) }),
      imageFeatures(bytes, o.maxPixels, entry.file),
    ]);
    if (c.status === 'rejected') throw c.reason;
    if (f.status === 'rejected') throw f.reason;
    const r = c.value;
    const features = f.value;
    const top = r.predictions[0];
    return {
      entry,
      features,
      stamp,
      ...(r.embedding ? { embedding: r.embedding } : {}),
      ...(r.logits ? { logits: r.logits } : {}),
      ...(top ? { predicted: { label: top.label, probability: Math.round(top.probability * 1e4) / 1e4 } } : {}),
    };
  } catch (e) {
    const err = toClassifierError(e, 'DECODE_FAILED');
    return { entry, error: { code: err.code, message: err.message } };
  }
}

/** Extracts every entry, `window` images in flight (default 3 batches' worth), results in input order. */
export async function extractAll(classifier: CurationEngine, entries: DatasetEntry[], o: ExtractOptions = {}): Promise<Extracted[]> {
  // A remote model keeps more batches in flight (`pipelineImages`); feed them all.
  const window = Math.max(4, classifier.maxBatch * 3, (classifier as { pipelineImages?: number }).pipelineImages ?? 0);
  const out: Extracted[] = new Array(entries.length);
  let next = 0;
  let done = 0;
  let failed = 0;
  const worker = async () => {
    while (next < entries.length && !o.signal?.aborted) {
      const i = next++;
      const e = entries[i]!;
      // Refused by the scan (a FIFO, a device): never opened, by this read or by a caller's.
      const r = e.refused ? { entry: e, error: { ...e.refused } } : await (o.extractOne ? o.extractOne(e) : extractOne(classifier, e, o));
      out[i] = r;
      done++;
      if (r.error) failed++;
      o.onProgress?.(done, entries.length, failed);
    }
  };
  await Promise.all(Array.from({ length: Math.min(window, entries.length) }, worker));
  return out;
}

/** Entries whose size or modification time differs from when they were read. */
export async function changedSince(items: Extracted[]): Promise<Set<string>> {
  const changed = new Set<string>();
  await Promise.all(
    items.map(async (x) => {
      if (!x.stamp) return;
      const st = await fs.stat(entryFsPath(x.entry)).catch(() => undefined);
      if (!st || st.size !== x.stamp.size || st.mtimeMs !== x.stamp.mtimeMs) changed.add(x.entry.file);
    }),
  );
  return changed;
}
