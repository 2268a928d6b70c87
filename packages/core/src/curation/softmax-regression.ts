/**
 * Multinomial logistic (softmax) regression with L2 regularisation on unit-norm embeddings, fitted by full-batch
 * gradient descent, and its stratified K-fold out-of-sample probabilities: cleanlab's recommended recipe for
 * label issues from pretrained features. Weights are stored class-major (C × (d+1), the last column the bias).
 */
import { dotRows, type Matrix } from './vectors.js';

/** The regression's defaults (the label check's defaults include them: LABEL_DEFAULTS). */
export const REGRESSION_DEFAULTS = { l2: 1e-3, iterations: 500, learningRate: 0.5, momentum: 0 } as const;

export interface RegressionOptions {
  /** L2 penalty on the weights (default 1e-3). */
  l2?: number;
  /** Gradient steps (default 500). */
  iterations?: number;
  /** Step size (default 0.5). */
  learningRate?: number;
  /** Heavy-ball momentum (default 0: plain gradient descent). 0.9 reaches about where 10× the steps would. */
  momentum?: number;
}

/** Stable softmax of `z` in place. */
function softmaxInPlace(z: Float64Array): void {
  let max = -Infinity;
  for (const v of z) max = Math.max(max, v);
  let sum = 0;
  for (let c = 0; c < z.length; c++) {
    z[c] = Math.exp(z[c]! - max);
    sum += z[c]!;
  }
  for (let c = 0; c < z.length; c++) z[c] = z[c]! / sum;
}

/** Class scores of row `i` of `x` into `z`. */
function scores(w: Float64Array, x: Matrix, i: number, z: Float64Array): void {
  const d = x.d;
  const off = i * d;
  for (let c = 0; c < z.length; c++) {
    const wo = c * (d + 1);
    let s = w[wo + d]!;
    for (let j = 0; j < d; j++) s += w[wo + j]! * x.data[off + j]!;
    z[c] = s;
  }
}

/** Fits on the rows `rows` of `x` with class indices `y` (0..classes-1); returns the weights. */
export function fitSoftmaxRegression(x: Matrix, y: Int32Array, rows: number[], classes: number, o: RegressionOptions = {}): Float64Array {
  const l2 = o.l2 ?? REGRESSION_DEFAULTS.l2;
  const iterations = o.iterations ?? REGRESSION_DEFAULTS.iterations;
  const lr = o.learningRate ?? REGRESSION_DEFAULTS.learningRate;
  const d = x.d;
  const w = new Float64Array(classes * (d + 1));
  const grad = new Float64Array(w.length);
  const vel = new Float64Array(w.length);
  const beta = o.momentum ?? REGRESSION_DEFAULTS.momentum;
  const z = new Float64Array(classes);
  const inv = 1 / Math.max(1, rows.length);
  for (let it = 0; it < iterations; it++) {
    grad.fill(0);
    for (const i of rows) {
      scores(w, x, i, z);
      softmaxInPlace(z);
      z[y[i]!] = z[y[i]!]! - 1;
      const off = i * d;
      for (let c = 0; c < classes; c++) {
        const g = z[c]! * inv;
        if (g === 0) continue;
        const wo = c * (d + 1);
        for (let j = 0; j < d; j++) grad[wo + j] = grad[wo + j]! + g * x.data[off + j]!;
        grad[wo + d] = grad[wo + d]! + g;
      }
    }
    for (let p = 0; p < w.length; p++) {
      vel[p] = beta * vel[p]! + grad[p]! + l2 * w[p]!;
      w[p] = w[p]! - lr * vel[p]!;
    }
  }
  return w;
}

/** Probabilities of row `i` under weights `w`. */
export function predictRow(w: Float64Array, x: Matrix, i: number, classes: number): Float64Array {
  const z = new Float64Array(classes);
  scores(w, x, i, z);
  softmaxInPlace(z);
  return z;
}

/** A small deterministic PRNG (mulberry32). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Stratified fold numbers: each class's rows shuffled (seeded) and dealt round-robin over `k` folds. */
export function stratifiedFolds(y: Int32Array, classes: number, k: number, seed: number): Int32Array {
  const rand = seededRandom(seed);
  const fold = new Int32Array(y.length);
  let start = 0;
  for (let c = 0; c < classes; c++) {
    const idx: number[] = [];
    for (let i = 0; i < y.length; i++) if (y[i] === c) idx.push(i);
    for (let i = idx.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [idx[i], idx[j]] = [idx[j]!, idx[i]!];
    }
    // Continue dealing where the previous class stopped so that small classes do not all land in fold 0.
    idx.forEach((row, p) => {
      fold[row] = (start + p) % k;
    });
    start = (start + idx.length) % k;
  }
  return fold;
}

/**
 * Stratified folds that keep each group whole (`group[i]`: a group id shared by a row's exact and near duplicates,
 * or -1): a copy in the training folds would make its twin look right (or wrong) for free. Each group is dealt as
 * one unit with the class of its first row; rows without a group are units of their own.
 */
export function groupedFolds(y: Int32Array, classes: number, k: number, seed: number, group: Int32Array): Int32Array {
  const units = new Map<number, number[]>();
  for (let i = 0; i < y.length; i++) {
    const key = group[i]! >= 0 ? group[i]! : -1 - i;
    units.set(key, [...(units.get(key) ?? []), i]);
  }
  const heads = Int32Array.from(units.values(), (u) => y[u[0]!]!);
  const unitFold = stratifiedFolds(heads, classes, k, seed);
  const fold = new Int32Array(y.length);
  [...units.values()].forEach((u, q) => {
    for (const i of u) fold[i] = unitFold[q]!;
  });
  return fold;
}

/**
 * The same gradient descent in its dual form, for fewer rows than dimensions: the weights stay X_trainᵀ·A (they start
 * at zero and every step adds rows of X), so scores are G·A with G = X·Xᵀ + 1 (the bias) and each step costs
 * n_train² × C instead of n_train × d × C. Returns the test rows' probabilities.
 */
function dualFold(
  g: Float64Array,
  n: number,
  y: Int32Array,
  train: number[],
  test: number[],
  classes: number,
  o: RegressionOptions,
): Float64Array[] {
  const l2 = o.l2 ?? REGRESSION_DEFAULTS.l2;
  const lr = o.learningRate ?? REGRESSION_DEFAULTS.learningRate;
  const t = train.length;
  const a = new Float64Array(t * classes);
  const z = new Float64Array(classes);
  const delta = new Float64Array(t * classes);
  const vel = new Float64Array(t * classes);
  const beta = o.momentum ?? REGRESSION_DEFAULTS.momentum;
  const rowScores = (i: number) => {
    z.fill(0);
    for (let q = 0; q < t; q++) {
      const gv = g[i * n + train[q]!]!;
      if (gv === 0) continue;
      for (let c = 0; c < classes; c++) z[c] = z[c]! + gv * a[q * classes + c]!;
    }
    softmaxInPlace(z);
    return z;
  };
  for (let it = 0; it < (o.iterations ?? REGRESSION_DEFAULTS.iterations); it++) {
    train.forEach((i, p) => {
      const q = rowScores(i);
      q[y[i]!] = q[y[i]!]! - 1;
      delta.set(q, p * classes);
    });
    for (let v = 0; v < a.length; v++) {
      vel[v] = beta * vel[v]! + delta[v]! / t + l2 * a[v]!;
      a[v] = a[v]! - lr * vel[v]!;
    }
  }
  return test.map((i) => Float64Array.from(rowScores(i)));
}

/** X·Xᵀ + 1 (n × n). */
function gram(x: Matrix): Float64Array {
  const g = new Float64Array(x.n * x.n);
  for (let i = 0; i < x.n; i++) {
    for (let j = i; j < x.n; j++) {
      const v = dotRows(x.data, i, x.data, j, x.d) + 1;
      g[i * x.n + j] = v;
      g[j * x.n + i] = v;
    }
  }
  return g;
}

/** Rows up to which the dual form (an n × n Gram matrix) is used when n < d. */
export const DUAL_MAX_ROWS = 4000;

/**
 * Out-of-sample probabilities (n × classes): for each of `k` stratified folds, a model fitted on the other folds
 * predicts the fold's rows.
 */
export function crossValidatedProbabilities(
  x: Matrix,
  y: Int32Array,
  classes: number,
  k = 5,
  seed = 0,
  o: RegressionOptions = {},
  fold = stratifiedFolds(y, classes, Math.max(2, Math.min(k, x.n)), seed),
): Float64Array {
  const probs = new Float64Array(x.n * classes);
  const folds = Math.max(2, Math.min(k, x.n));
  const g = x.n < x.d && x.n <= DUAL_MAX_ROWS ? gram(x) : undefined;
  for (let f = 0; f < folds; f++) {
    const train: number[] = [];
    const test: number[] = [];
    for (let i = 0; i < x.n; i++) (fold[i] === f ? test : train).push(i);
    if (test.length === 0) continue;
    if (g) {
      const p = dualFold(g, x.n, y, train, test, classes, o);
      for (const [q, i] of test.entries()) probs.set(p[q]!, i * classes);
      continue;
    }
    const w = fitSoftmaxRegression(x, y, train, classes, o);
    for (const i of test) probs.set(predictRow(w, x, i, classes), i * classes);
  }
  return probs;
}
