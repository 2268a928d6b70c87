/**
 * Class labels, softmax and top-k.
 */
import { ClassifierError } from '../errors.js';
import { readRegularFile } from '../fs/regular-file.js';
import imagenet from './imagenet-classes.json';

import type { Prediction } from '@image-classifier/protocol/methods';

export type { Prediction };

export interface LabelSet {
  /** Where the labels came from ('imagenet-1k' or a file path). */
  source: string;
  labels: string[];
  /** WordNet ids where known (ImageNet). */
  ids?: string[];
}

/** The 1000 ImageNet-1k classes in index order, worded as the Model Zoo's synset.txt ("tabby, tabby cat"). */
export const IMAGENET_LABELS: LabelSet = Object.freeze({
  source: 'imagenet-1k',
  labels: (imagenet.classes as [string, string][]).map((c) => c[1]),
  ids: (imagenet.classes as [string, string][]).map((c) => c[0]),
}) as LabelSet;

/**
 * Reads a labels file: one label per line (blank trailing lines ignored). Lines of the synset form
 * `n01440764 tench, Tinca tinca` are split into id and label. A JSON array of strings is accepted too.
 */
export async function loadLabelsFile(file: string): Promise<LabelSet> {
  let text: string;
  try {
    // Through a checked descriptor: a FIFO or device named as the labels file is refused instead of hanging.
    text = (await readRegularFile(file)).toString('utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // A labels problem, not an image one: LABELS_INVALID (reported with the model's code, 1006), whatever the cause.
    throw new ClassifierError(
      'LABELS_INVALID',
      `Cannot read the labels file ${file}: ${code === 'ENOENT' ? 'it does not exist' : (e as Error).message}.`,
    );
  }
  return parseLabels(text, file);
}

export function parseLabels(text: string, source: string): LabelSet {
  const trimmed = text.replace(/^\uFEFF/, '').trim();
  if (trimmed.startsWith('[')) {
    let arr: unknown;
    try {
      arr = JSON.parse(trimmed);
    } catch (e) {
      throw new ClassifierError('LABELS_INVALID', `The labels file ${source} looks like JSON but does not parse: ${(e as Error).message}.`);
    }
    if (!Array.isArray(arr) || arr.some((x) => typeof x !== 'string')) {
      throw new ClassifierError('LABELS_INVALID', `The labels file ${source} must be a JSON array of strings or one label per line.`);
    }
    return { source, labels: arr as string[] };
  }
  const lines = trimmed.split(/\r?\n/);
  if (lines.length === 0 || (lines.length === 1 && lines[0] === '')) {
    throw new ClassifierError('LABELS_INVALID', `The labels file ${source} is empty; put one label per line, in the model's output order.`);
  }
  const synset = /^n\d{8}\s+/;
  const allSynset = lines.every((l) => synset.test(l));
  if (allSynset) {
    return {
      source,
      ids: lines.map((l) => l.split(/\s+/, 1)[0]!),
      labels: lines.map((l) => l.replace(synset, '').trim()),
    };
  }
  return { source, labels: lines.map((l) => l.trim()) };
}

/** Checks that a label set fits a model's output width. */
export function checkLabelsFit(labels: LabelSet, classes: number): void {
  if (labels.labels.length !== classes) {
    throw new ClassifierError(
      'LABELS_MISMATCH',
      `The labels (${labels.source}) have ${labels.labels.length} entries but the model outputs ${classes} classes. Use a labels file with exactly one line per model output.`,
      { details: { labels: labels.labels.length, classes } },
    );
  }
}

/** Numerically stable softmax over `logits[offset .. offset+n)` in float64, written to a new Float64Array. */
export function softmax(logits: ArrayLike<number>, offset = 0, n = logits.length - offset): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = logits[offset + i]!;
    if (v > max) max = v;
  }
  const out = new Float64Array(n);
  if (!Number.isFinite(max)) {
    // All -Infinity (or NaN somewhere): uniform if all equal, otherwise NaNs propagate honestly.
    if (max === -Infinity) out.fill(1 / n);
    else out.fill(NaN);
    return out;
  }
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const e = Math.exp(logits[offset + i]! - max);
    out[i] = e;
    sum += e;
  }
  for (let i = 0; i < n; i++) out[i] = out[i]! / sum;
  return out;
}

/** Indices of the k largest values, largest first; ties keep the lower index first (as torch.topk on CPU). */
export function topK(values: ArrayLike<number>, k: number): number[] {
  const n = values.length;
  k = Math.max(0, Math.min(k, n));
  if (k === 0) return [];
  // Keep a small array of the best k, sorted (k is small, n is ~1000): one pass, no full sort.
  const best: number[] = [];
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    if (best.length === k && !(v > values[best[k - 1]!]!)) continue;
    let j = best.length;
    while (j > 0 && v > values[best[j - 1]!]!) j--;
    best.splice(j, 0, i);
    if (best.length > k) best.pop();
  }
  return best;
}

/** Softmax + top-k + labels for one row of a logits tensor. */
export function predict(
  logits: ArrayLike<number>,
  labels: LabelSet | undefined,
  k: number,
  offset = 0,
  n = logits.length - offset,
  alreadyProbabilities = false,
): Prediction[] {
  let probs: ArrayLike<number>;
  if (alreadyProbabilities) {
    const p = new Float64Array(n);
    for (let i = 0; i < n; i++) p[i] = logits[offset + i]!;
    probs = p;
  } else {
    probs = softmax(logits, offset, n);
  }
  return topK(probs, k).map((index) => ({
    index,
    label: labels?.labels[index] ?? `class ${index}`,
    probability: probs[index]!,
  }));
}
