/**
 * Label issues from embeddings: out-of-sample class probabilities (cross-validated softmax regression averaged with
 * a k-nearest-neighbour vote), then confident learning as cleanlab's `find_label_issues` does it: per-class
 * thresholds, the calibrated confident joint, `prune_by_noise_rate`, issues ranked by self-confidence.
 */
import { mixOpinions, type SemanticView } from './semantic.js';
import {
  crossValidatedProbabilities,
  groupedFolds,
  REGRESSION_DEFAULTS,
  type RegressionOptions,
  stratifiedFolds,
} from './softmax-regression.js';
import type { Matrix, Neighbours } from './vectors.js';

export interface LabelIssueOptions extends RegressionOptions {
  folds?: number;
  seed?: number;
  /** Weight of the regression in the average with the kNN vote (default 0.5). */
  regressionWeight?: number;
  /** Classes with fewer files than this are never flagged (nothing to learn them from). Default 2. */
  minClassSize?: number;
  /**
   * Keep duplicate groups (the duplicate check's exact and near groups) whole: in one fold, and out of each other's
   * kNN vote. Default false: measured on both dev sets it loses (curation-dev AP 0.991 → 0.971, the harder set
   * 0.995 → 0.991), because a copy filed in another folder is found through its twin's vote (BENCHMARKS.md).
   */
  groupAware?: boolean;
}

/** The label check's defaults (checks/label.ts prints them, with the run's overrides, in the report's settings). */
export const LABEL_DEFAULTS = {
  ...REGRESSION_DEFAULTS,
  folds: 5,
  seed: 0,
  regressionWeight: 0.5,
  minClassSize: 2,
  groupAware: false,
} as const;

export interface LabelAnalysis {
  /** n × classes averaged out-of-sample probabilities (float32: 100,000 files × 1,000 classes is 400 MB). */
  probs: Float32Array;
  /** Self-confidence relative to the class's mean: min(1, probs[i][y[i]] / mean of probs[j][y[i]] over its class). */
  quality: Float64Array;
  /** Flagged rows, most suspect (lowest quality) first. */
  issues: number[];
  /** A suggested class per flagged row (index → class). */
  suggested: Map<number, number>;
  /** λ, the weight of the model's mass under the folders' synsets in the mixture (semantic.ts), when it joined. */
  semanticWeight?: number;
}

/**
 * kNN vote: the share of each class among a row's neighbours (self excluded, and the members of its own duplicate
 * group when `group` is given: a copy votes for its twin's label for free). A row with no neighbour left gets 1/C.
 */
export function knnVote(nb: Neighbours, y: Int32Array, classes: number, group?: Int32Array): Float32Array {
  const n = y.length;
  const p = new Float32Array(n * classes);
  const counts = (i: number, j: number) => j >= 0 && !(group && group[i]! >= 0 && group[j] === group[i]);
  for (let i = 0; i < n; i++) {
    let count = 0;
    for (let r = 0; r < nb.k; r++) if (counts(i, nb.index[i * nb.k + r]!)) count++;
    if (!count) p.fill(1 / classes, i * classes, (i + 1) * classes);
    for (let r = 0; r < nb.k; r++) {
      const j = nb.index[i * nb.k + r]!;
      if (counts(i, j)) p[i * classes + y[j]!] = p[i * classes + y[j]!]! + 1 / count;
    }
  }
  return p;
}

/** Per-class threshold t_k: mean p_k over the rows labelled k (cleanlab's `get_confident_thresholds`). */
function confidentThresholds(probs: Float32Array, y: Int32Array, classes: number): Float64Array {
  const sum = new Float64Array(classes);
  const cnt = new Float64Array(classes);
  for (let i = 0; i < y.length; i++) {
    sum[y[i]!] = sum[y[i]!]! + probs[i * classes + y[i]!]!;
    cnt[y[i]!] = cnt[y[i]!]! + 1;
  }
  return sum.map((s, k) => (cnt[k]! > 0 ? s / cnt[k]! : 1));
}

/** The calibrated confident joint C[given][true] (rows sum to the given-label counts). */
export function confidentJoint(probs: Float32Array, y: Int32Array, classes: number): Float64Array {
  const t = confidentThresholds(probs, y, classes);
  const joint = new Float64Array(classes * classes);
  const counts = new Float64Array(classes);
  for (let i = 0; i < y.length; i++) {
    counts[y[i]!] = counts[y[i]!]! + 1;
    let best = -1;
    for (let j = 0; j < classes; j++) {
      const p = probs[i * classes + j]!;
      if (p >= t[j]! && (best < 0 || p > probs[i * classes + best]!)) best = j;
    }
    if (best >= 0) joint[y[i]! * classes + best] = joint[y[i]! * classes + best]! + 1;
  }
  for (let k = 0; k < classes; k++) {
    let row = 0;
    for (let j = 0; j < classes; j++) row += joint[k * classes + j]!;
    for (let j = 0; j < classes; j++) joint[k * classes + j] = row > 0 ? (joint[k * classes + j]! * counts[k]!) / row : 0;
  }
  return joint;
}

/** prune_by_noise_rate: for each (given k, true j≠k), the round(C[k][j]) rows labelled k with the largest p_j − p_k. */
function pruneByNoiseRate(probs: Float32Array, y: Int32Array, classes: number, eligible: (k: number) => boolean): Set<number> {
  const joint = confidentJoint(probs, y, classes);
  const flagged = new Set<number>();
  for (let k = 0; k < classes; k++) {
    if (!eligible(k)) continue;
    const rows: number[] = [];
    for (let i = 0; i < y.length; i++) if (y[i] === k) rows.push(i);
    for (let j = 0; j < classes; j++) {
      const num = j === k ? 0 : Math.min(Math.round(joint[k * classes + j]!), rows.length - 1);
      if (num <= 0) continue;
      const margin = (i: number) => probs[i * classes + j]! - probs[i * classes + k]!;
      const sorted = [...rows].sort((a, b) => margin(b) - margin(a) || a - b);
      for (const i of sorted.slice(0, num)) flagged.add(i);
    }
  }
  return flagged;
}

/** The most likely class other than `own` when `own` is the argmax. */
function suggestion(probs: Float32Array, i: number, own: number, classes: number): number {
  let best = -1;
  for (let j = 0; j < classes; j++) if (j !== own && (best < 0 || probs[i * classes + j]! > probs[i * classes + best]!)) best = j;
  return best;
}

/**
 * Averages the cross-validated regression, the kNN vote and optional extra probabilities (e.g. the model's own,
 * when folder names are ImageNet classes), then runs confident learning.
 */
export function findLabelIssues(
  x: Matrix,
  y: Int32Array,
  classes: number,
  nb: Neighbours,
  o: LabelIssueOptions = {},
  extra?: Float64Array,
  semantic?: SemanticView,
  group?: Int32Array,
): LabelAnalysis {
  const w = o.regressionWeight ?? LABEL_DEFAULTS.regressionWeight;
  const folds = Math.max(2, Math.min(o.folds ?? LABEL_DEFAULTS.folds, x.n));
  const grouped = group && o.groupAware === true ? group : undefined;
  const fold = grouped
    ? groupedFolds(y, classes, folds, o.seed ?? LABEL_DEFAULTS.seed, grouped)
    : stratifiedFolds(y, classes, folds, o.seed ?? LABEL_DEFAULTS.seed);
  const reg = w > 0 ? crossValidatedProbabilities(x, y, classes, folds, o.seed ?? LABEL_DEFAULTS.seed, o, fold) : undefined;
  // The vote's array becomes the average in place (one n × classes array less at dataset scale).
  let probs = knnVote(nb, y, classes, grouped);
  for (let p = 0; p < probs.length; p++) {
    const base = w * (reg ? reg[p]! : 0) + (1 - w) * probs[p]!;
    probs[p] = extra ? (2 * base + extra[p]!) / 3 : base;
  }
  let semanticWeight: number | undefined;
  if (semantic) {
    const s = mixOpinions(probs, semantic, y, fold, folds);
    probs = s.probs;
    semanticWeight = s.lambda;
  }
  const quality = new Float64Array(y.length);
  const sizes = new Int32Array(classes);
  for (let i = 0; i < y.length; i++) {
    quality[i] = probs[i * classes + y[i]!]!;
    sizes[y[i]!] = sizes[y[i]!]! + 1;
  }
  // Relative to the class's own threshold (its mean self-confidence): a class that is harder to recognise (diverse,
  // or without a synset) is not ranked below the others as a whole.
  const t = confidentThresholds(probs, y, classes);
  for (let i = 0; i < y.length; i++) quality[i] = Math.min(1, quality[i]! / Math.max(1e-9, t[y[i]!]!));
  const minSize = o.minClassSize ?? LABEL_DEFAULTS.minClassSize;
  const flagged = pruneByNoiseRate(probs, y, classes, (k) => sizes[k]! >= minSize);
  const issues = [...flagged].sort((a, b) => quality[a]! - quality[b]! || a - b);
  const suggested = new Map<number, number>();
  for (const i of issues) {
    let best = 0;
    for (let j = 1; j < classes; j++) if (probs[i * classes + j]! > probs[i * classes + best]!) best = j;
    suggested.set(i, best === y[i] ? suggestion(probs, i, y[i]!, classes) : best);
  }
  return { probs, quality, issues, suggested, ...(semanticWeight !== undefined ? { semanticWeight } : {}) };
}
