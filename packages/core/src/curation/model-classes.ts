/**
 * When the class folders are named after the model's own classes (e.g. ImageNet's "goldfish", "tabby cat"), the
 * model's probabilities over those classes are a third, independent opinion on each label.
 */
import type { LabelSet } from '../model/labels.js';
import { softmax } from '../model/labels.js';

const norm = (s: string) => s.toLowerCase().replace(/[_-]+/g, ' ').trim();

/** For each class name, the model output it names (a label or one of its comma-separated synonyms), or undefined if any is missing. */
export function matchModelClasses(classes: string[], labels: LabelSet | undefined): number[] | undefined {
  if (!labels || classes.length < 2) return undefined;
  const index = new Map<string, number>();
  labels.labels.forEach((l, i) => {
    for (const name of [l, ...l.split(',')]) if (!index.has(norm(name))) index.set(norm(name), i);
  });
  if (labels.ids) for (const [i, id] of labels.ids.entries()) index.set(norm(id), i);
  const out = classes.map((c) => index.get(norm(c)));
  return out.every((i) => i !== undefined) ? (out as number[]) : undefined;
}

/** rows × classes probabilities: the softmax of each logits row restricted to `outputs` and renormalised. */
export function modelClassProbabilities(logits: Float32Array[], outputs: number[]): Float64Array {
  const c = outputs.length;
  const out = new Float64Array(logits.length * c);
  logits.forEach((row, i) => {
    const p = softmax(row);
    let s = 0;
    for (let k = 0; k < c; k++) s += p[outputs[k]!]!;
    for (let k = 0; k < c; k++) out[i * c + k] = s > 0 ? p[outputs[k]!]! / s : 1 / c;
  });
  return out;
}
