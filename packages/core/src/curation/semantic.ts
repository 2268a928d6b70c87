/**
 * The model's own opinion on folder labels through the WordNet hierarchy (hierarchy.ts): each class folder's name
 * is matched to a synset, and each file's probability mass under that synset (the sum of the model's softmax over
 * the ImageNet classes below it) is an opinion that does not depend on the folder labels at all.
 *
 * Combination (`mixOpinions`): the semantic opinion (`semanticOpinion`) gives each class the file's mass under its
 * synset, and shares the mass under no folder's synset among the classes whose own files often lie outside their
 * synset — a per-class reliability learned from the folder labels (1 − agreement; 1 for a class with no synset) — in
 * proportion to the kNN/regression opinion. So a class without a synset (windmill, painting) or with little coverage
 * (monument → memorial, 3 ImageNet classes) keeps what the embeddings say of it. The two opinions are mixed with a
 * weight λ fitted by likelihood of the folder labels on the other folds (out of sample, as the regression).
 */
import type { LabelSet } from '../model/labels.js';
import type { Extracted } from './extract.js';
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

/**
 * A row's probabilities over the 1000 classes: the softmax of its logits, or (a server's cached result) its top
 * classes' probabilities with 0 elsewhere.
 */
export function modelProbabilities(r: Pick<Extracted, 'logits' | 'top'>): Float32Array {
  if (r.logits) return Float32Array.from(softmax(r.logits));
  const p = new Float32Array(HIERARCHY_CLASSES);
  r.top!.index.forEach((k, q) => {
    p[k] = r.top!.probability[q]!;
  });
  return p;
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
  rows: Array<Pick<Extracted, 'logits' | 'top'>>,
  labels: LabelSet | undefined,
): SemanticView | undefined {
  if (!hierarchyApplies(labels) || rows.some((r) => !(r.logits?.length === HIERARCHY_CLASSES || r.top))) return undefined;
  const probs = rows.map(modelProbabilities);
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

export const MASS_EPS = 0.001;

/** The folder concepts' synsets, for the report: "fruit → fruit (n13134947), 20 ImageNet classes". */
export function describeConcept(c: Concept | undefined): string {
  return c ? `${c.lemmas[0]} (${c.id}, ${c.classes.length} ImageNet classes)` : 'no synset with ImageNet classes below';
}

/**
 * The semantic opinion as probabilities over the folders (rows × classes): each class gets the file's mass under
 * its synset, and the mass under no folder's synset is shared among the classes whose own files often lie outside
 * their synset (a share 1 − agreement; 1 for a class without a synset), in proportion to the base opinion.
 */
export function semanticOpinion(base: Float32Array, view: SemanticView): Float32Array {
  const c = view.folders.length;
  const n = base.length / c;
  const out = new Float32Array(base.length);
  const outside = view.folders.map((f) => (f.concept ? Math.max(0, 1 - f.agreement) : 1));
  for (let i = 0; i < n; i++) {
    let covered = 0;
    let spread = 0;
    for (let k = 0; k < c; k++) {
      covered += view.mass[i * c + k]!;
      spread += base[i * c + k]! * outside[k]!;
    }
    const rest = Math.max(0, 1 - covered);
    let sum = 0;
    for (let k = 0; k < c; k++) {
      const v = view.mass[i * c + k]! + (spread > 0 ? (rest * base[i * c + k]! * outside[k]!) / spread : rest / c);
      out[i * c + k] = v;
      sum += v;
    }
    for (let k = 0; k < c; k++) out[i * c + k] = sum > 0 ? out[i * c + k]! / sum : 1 / c;
  }
  return out;
}

/** The mixture weight λ ∈ {0, 0.05, …, 0.95} of the semantic opinion under which the labels of `rows` are likeliest. */
export function fitMixture(base: Float32Array, sem: Float32Array, y: Int32Array, rows: number[], c: number): number {
  let best = 0;
  let bestLl = -Infinity;
  for (let step = 0; step < 20; step++) {
    const lambda = step / 20;
    let ll = 0;
    for (const i of rows) ll += Math.log((1 - lambda) * base[i * c + y[i]!]! + lambda * sem[i * c + y[i]!]! + 1e-6);
    if (ll > bestLl + 1e-9) {
      bestLl = ll;
      best = lambda;
    }
  }
  return best;
}

/** Out-of-sample mixture of the base and semantic opinions (λ fitted on the other folds), and λ over all rows. */
export function mixOpinions(
  base: Float32Array,
  view: SemanticView,
  y: Int32Array,
  fold: Int32Array,
  folds: number,
): { probs: Float32Array; lambda: number } {
  const c = view.folders.length;
  const sem = semanticOpinion(base, view);
  const out = new Float32Array(base.length);
  for (let f = 0; f < folds; f++) {
    const train: number[] = [];
    for (let i = 0; i < y.length; i++) if (fold[i] !== f) train.push(i);
    const lambda = fitMixture(base, sem, y, train, c);
    for (let i = 0; i < y.length; i++)
      if (fold[i] === f) for (let k = 0; k < c; k++) out[i * c + k] = (1 - lambda) * base[i * c + k]! + lambda * sem[i * c + k]!;
  }
  return {
    probs: out,
    lambda: fitMixture(
      base,
      sem,
      y,
      Array.from(y, (_, i) => i),
      c,
    ),
  };
}
