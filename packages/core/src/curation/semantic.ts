/**
 * The model's own opinion on folder labels through the WordNet hierarchy (hierarchy.ts): each class folder's name
 * is matched to a synset, and each file's probability mass under that synset (the sum of the model's softmax over
 * the ImageNet classes below it) is an opinion that does not depend on the folder labels at all.
 *
 * Combination (`stackOpinions`): a conditional-logit stacker, fitted on the folder labels with the same folds as the
 * regression, scores class k of file i as  a·log(base_ik + ε) + w_k·mass_ik + b_k  where base is the kNN/regression
 * average. a, w_k ≥ 0, b_k are learned (L2-penalised): a class whose synset's mass does not separate its files from
 * the others gets w_k ≈ 0, and a class with no synset has no mass term, so neither is dragged down. The mass enters
 * linearly: a log would make a 10 % mass under a three-class synset (monument → memorial) count as strong evidence.
 */
import type { LabelSet } from '../model/labels.js';
import { softmax } from '../model/labels.js';
import { type Concept, classNode, HIERARCHY_CLASSES, lookupNoun, massUnder } from './hierarchy.js';
import table from './wordnet-table.json';

export interface FolderConcept {
  /** The synset the folder name was matched to; undefined when the name is no noun with ImageNet classes below. */
  concept?: Concept;
  /** How many synsets the name could mean (the one whose subtree holds most of the folder's predictions wins). */
  senses: number;
  /** Mean mass of the folder's own files under its synset (0 when none). */
  agreement: number;
  /** Mean mass of the other folders' files under it (the background; 0 when no synset). */
  floor: number;
}

export interface SemanticView {
  folders: FolderConcept[];
  /** rows × classes: each row's mass under each folder's synset (0 for a folder without one). */
  mass: Float64Array;
  /** Per class: its synset's mean mass over the other folders' files (at least MASS_EPS; 0 without a synset). */
  floor: Float64Array;
  /** Per row, the model's softmax (kept for the reasons and out-of-vocabulary check; rows × 1000). */
  probs: Float32Array[];
}

/** Whether `labels` are the 1000 ImageNet classes in the hierarchy's order (the mass is only meaningful then). */
export function hierarchyApplies(labels: LabelSet | undefined): boolean {
  const ids = labels?.ids;
  if (!ids || ids.length !== HIERARCHY_CLASSES) return false;
  const nodes = (table as unknown as { nodes: [string][] }).nodes;
  return ids.every((id, i) => nodes[classNode(i)]![0] === id);
}

/** The sense of `name` whose subtree holds most of the mass of the files labelled `k`, with that mean mass. */
function pickSense(name: string, rows: Float32Array[], y: Int32Array, k: number): FolderConcept {
  const candidates = lookupNoun(name);
  let best: FolderConcept = { senses: candidates.length, agreement: 0, floor: 0 };
  for (const c of candidates) {
    let s = 0;
    let n = 0;
    for (let i = 0; i < y.length; i++)
      if (y[i] === k) {
        s += massUnder(rows[i]!, c);
        n++;
      }
    const mean = n ? s / n : 0;
    // Ties keep the earlier (more frequent) sense.
    if (!best.concept || mean > best.agreement + 1e-9) best = { concept: c, senses: candidates.length, agreement: mean, floor: 0 };
  }
  return best;
}

/** The semantic view of labelled rows, or undefined when the labels are not ImageNet's or no folder names a synset. */
export function semanticView(
  classes: string[],
  y: Int32Array,
  logits: (Float32Array | undefined)[],
  labels: LabelSet | undefined,
): SemanticView | undefined {
  if (!hierarchyApplies(labels) || logits.some((l) => !l || l.length !== HIERARCHY_CLASSES)) return undefined;
  const probs = logits.map((l) => Float32Array.from(softmax(l!)));
  const folders = classes.map((name, k) => pickSense(name, probs, y, k));
  if (!folders.some((f) => f.concept)) return undefined;
  const c = classes.length;
  const mass = new Float64Array(y.length * c);
  for (let i = 0; i < y.length; i++)
    for (let k = 0; k < c; k++) {
      const fc = folders[k]!.concept;
      if (fc) mass[i * c + k] = massUnder(probs[i]!, fc);
    }
  const floor = new Float64Array(c);
  const count = new Float64Array(c);
  for (let i = 0; i < y.length; i++)
    for (let k = 0; k < c; k++)
      if (y[i] !== k) {
        floor[k] = floor[k]! + mass[i * c + k]!;
        count[k] = count[k]! + 1;
      }
  folders.forEach((f, k) => {
    floor[k] = f.concept ? Math.max(MASS_EPS, count[k]! ? floor[k]! / count[k]! : 0) : 0;
    f.floor = floor[k]!;
  });
  return { folders, mass, floor, probs };
}

export interface StackModel {
  /** Weight of log(base + ε). */
  a: number;
  /** Per class: weight (≥ 0) of the mass under its synset (0 for a class without one), and bias. */
  weight: Float64Array;
  bias: Float64Array;
}

const BASE_EPS = 0.01;
export const MASS_EPS = 0.001;
const STACK_L2 = 0.01;
const STACK_STEPS = 400;
/** Rows × classes the stacker is fitted on at most (evenly spaced rows beyond it). */
const STACK_MAX_CELLS = 500_000;

/** At most STACK_MAX_CELLS / classes of `rows`, evenly spaced (deterministic). */
function sample(rows: number[], classes: number): number[] {
  const max = Math.max(1, Math.floor(STACK_MAX_CELLS / classes));
  if (rows.length <= max) return rows;
  const step = rows.length / max;
  return Array.from({ length: max }, (_, q) => rows[Math.floor(q * step)]!);
}

/** Class scores → probabilities for row i into `z`: a·log(base + ε) + w_k·mass + b_k, softmax. */
function stackRow(m: StackModel, base: Float32Array, mass: Float64Array, i: number, z: Float64Array): void {
  const c = z.length;
  let max = -Infinity;
  for (let k = 0; k < c; k++) {
    const p = i * c + k;
    z[k] = m.a * Math.log(base[p]! + BASE_EPS) + m.weight[k]! * mass[p]! + m.bias[k]!;
    max = Math.max(max, z[k]!);
  }
  let sum = 0;
  for (let k = 0; k < c; k++) {
    z[k] = Math.exp(z[k]! - max);
    sum += z[k]!;
  }
  for (let k = 0; k < c; k++) z[k] = z[k]! / sum;
}

/**
 * Fits the stacker on `rows` by gradient descent with momentum on the L2-penalised mean log-likelihood of the
 * folder labels. `has[k]`: class k has a synset (else its mass weight stays 0).
 */
export function fitStack(base: Float32Array, mass: Float64Array, has: boolean[], y: Int32Array, rows: number[]): StackModel {
  const c = has.length;
  const m: StackModel = { a: 1, weight: new Float64Array(c), bias: new Float64Array(c) };
  const v = { a: 0, weight: new Float64Array(c), bias: new Float64Array(c) };
  const z = new Float64Array(c);
  const inv = 1 / Math.max(1, rows.length);
  const lr = 0.05;
  for (let it = 0; it < STACK_STEPS; it++) {
    let ga = STACK_L2 * (m.a - 1);
    const gw = m.weight.map((w) => STACK_L2 * w);
    const gb = m.bias.map((b) => STACK_L2 * b);
    for (const i of rows) {
      stackRow(m, base, mass, i, z);
      z[y[i]!] = z[y[i]!]! - 1;
      for (let k = 0; k < c; k++) {
        const p = i * c + k;
        const g = z[k]! * inv;
        ga += g * Math.log(base[p]! + BASE_EPS);
        gw[k] = gw[k]! + g * mass[p]!;
        gb[k] = gb[k]! + g;
      }
    }
    v.a = 0.9 * v.a + ga;
    m.a -= lr * v.a;
    for (let k = 0; k < c; k++) {
      v.weight[k] = 0.9 * v.weight[k]! + gw[k]!;
      v.bias[k] = 0.9 * v.bias[k]! + gb[k]!;
      m.weight[k] = has[k] ? Math.max(0, m.weight[k]! - lr * v.weight[k]!) : 0;
      m.bias[k] = m.bias[k]! - lr * v.bias[k]!;
    }
  }
  return m;
}

/**
 * Out-of-sample stacked probabilities (rows × classes, float32) over the folds `fold`, and the stacker fitted on
 * every row (reported: its weights say how far each class's synset was trusted).
 */
export function stackOpinions(
  base: Float32Array,
  view: SemanticView,
  y: Int32Array,
  fold: Int32Array,
  folds: number,
): { probs: Float32Array; model: StackModel } {
  const c = view.folders.length;
  const has = view.folders.map((f) => Boolean(f.concept));
  const out = new Float32Array(base.length);
  const z = new Float64Array(c);
  for (let f = 0; f < folds; f++) {
    const train: number[] = [];
    const test: number[] = [];
    for (let i = 0; i < y.length; i++) (fold[i] === f ? test : train).push(i);
    if (!test.length) continue;
    const m = fitStack(base, view.mass, has, y, sample(train, c));
    for (const i of test) {
      stackRow(m, base, view.mass, i, z);
      out.set(z, i * c);
    }
  }
  const all = Array.from(y, (_, i) => i);
  return { probs: out, model: fitStack(base, view.mass, has, y, sample(all, c)) };
}

/** The folder concepts' synsets, for the report: "fruit → fruit (n13134947), 20 ImageNet classes". */
export function describeConcept(c: Concept | undefined): string {
  return c ? `${c.lemmas[0]} (${c.id}, ${c.classes.length} ImageNet classes)` : 'no synset with ImageNet classes below';
}
