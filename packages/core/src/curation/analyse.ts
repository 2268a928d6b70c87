/**
 * The analyses over extracted images: label issues, duplicates, outliers, quality. Pure functions of the extracted
 * data (no I/O), each returning report fragments.
 */
import { type AnnIndex, type AnnSnapshot, buildAnnIndex, nearestNeighbours } from './ann.js';
import type { DuplicateGroup, OutlierEntry, QualityEntry } from '@image-classifier/protocol';
import { findDuplicates, NEAR_DUPLICATE_DEFAULTS, type NearDuplicateOptions } from './duplicates.js';
import type { Extracted } from './extract.js';
import { estimateLabelErrors } from './label-estimate.js';
import { findLabelIssues, type LabelAnalysis, type LabelIssueOptions } from './label-issues.js';
import { DUAL_MAX_ROWS } from './softmax-regression.js';
import { labelReasons, type VocabularyOutlier, vocabularyOutliers } from './label-reasons.js';
import { matchModelClasses, modelClassProbabilities } from './model-classes.js';
import { type FolderConcept, semanticView } from './semantic.js';
import { embeddingMap } from './map.js';
import { findOutliers } from './outliers.js';
import { qualityIssues } from './quality.js';
import { type Matrix, type Neighbours, normalizedMatrix } from './vectors.js';
import type { LabelSet } from '../model/labels.js';

/**
 * Multiply-adds the cross-validated regression may cost (about 20 s on the shared 2-core machine). Over it, the
 * regression runs with momentum 0.9 and a tenth of the steps (the same dev-set ranking); still over, the kNN vote
 * decides alone.
 */
export const REGRESSION_BUDGET = 1e10;

/** The regression options that fit the budget for n rows, c classes, d dims; undefined when none does. */
export function regressionPlan(n: number, c: number, d: number, o: LabelIssueOptions): LabelIssueOptions | undefined {
  const folds = o.folds ?? 5;
  const train = (n * (folds - 1)) / folds;
  const perStep = n < d && n <= DUAL_MAX_ROWS ? train * train * c : 2 * train * c * (d + 1);
  const steps = o.iterations ?? 500;
  if (folds * steps * perStep <= REGRESSION_BUDGET) return o;
  const fast = { ...o, momentum: 0.9, iterations: Math.max(1, Math.round(steps / 10)) };
  return folds * fast.iterations * perStep <= REGRESSION_BUDGET ? fast : undefined;
}

export interface Analysable extends Extracted {
  features: NonNullable<Extracted['features']>;
  embedding: Float32Array;
}

export interface LabelResult {
  classes: string[];
  /** Indices into the analysable items. */
  rows: number[];
  analysis: LabelAnalysis;
  /** Confident learning's estimate of the wrong labels among them (label-estimate.ts). */
  estimatedErrors: number;
  usedModel: boolean;
  usedRegression: boolean;
  /** The regression ran with momentum and fewer steps to fit the time budget. */
  fastRegression?: boolean;
  /** Per class, the WordNet synset its folder name was matched to (when the model's classes are ImageNet's). */
  folders?: FolderConcept[];
  /** Per flagged row, why (semantic.ts, label-reasons.ts). */
  reasons: Map<number, string[]>;
  /** Rows whose mass lies mostly under a synset that no folder covers. */
  vocabulary: VocabularyOutlier[];
}

function subMatrix(m: Matrix, rows: number[]): Matrix {
  const data = new Float32Array(rows.length * m.d);
  for (const [i, r] of rows.entries()) data.set(m.data.subarray(r * m.d, (r + 1) * m.d), i * m.d);
  return { data, n: rows.length, d: m.d };
}

/** Label issues among the labelled items (needs two classes or more), or undefined with the reason. */
export function analyseLabels(
  items: Analysable[],
  m: Matrix,
  nb: Neighbours,
  labels: LabelSet | undefined,
  o: LabelIssueOptions & { neighbours: number },
  itemGroup?: Int32Array,
): LabelResult | string {
  const rows = items.flatMap((x, i) => (x.entry.label !== undefined ? [i] : []));
  const classes = [...new Set(rows.map((i) => items[i]!.entry.label!))].sort();
  if (classes.length < 2) return classes.length ? `only one class folder ('${classes[0]}')` : 'no class folders';
  const all = rows.length === items.length;
  const x = all ? m : subMatrix(m, rows);
  const knn = all ? nb : nearestNeighbours(x, o.neighbours);
  const y = Int32Array.from(rows, (i) => classes.indexOf(items[i]!.entry.label!));
  const logits = rows.map((i) => items[i]!.logits);
  const view = semanticView(
    classes,
    y,
    rows.map((i) => items[i]!),
    labels,
  );
  const outputs = view ? undefined : matchModelClasses(classes, labels);
  const extra = outputs && logits.every(Boolean) ? modelClassProbabilities(logits as Float32Array[], outputs) : undefined;
  const plan = regressionPlan(rows.length, classes.length, m.d, o);
  const group = itemGroup ? Int32Array.from(rows, (i) => itemGroup[i]!) : undefined;
  const analysis = findLabelIssues(x, y, classes.length, knn, plan ?? { ...o, regressionWeight: 0 }, extra, view, group);
  const sizes = new Int32Array(classes.length);
  for (const k of y) sizes[k] = sizes[k]! + 1;
  const estimatedErrors = estimateLabelErrors(analysis.probs, y, classes.length, (k) => sizes[k]! >= (o.minClassSize ?? 2));
  return {
    classes,
    rows,
    analysis,
    estimatedErrors,
    usedModel: Boolean(extra || view),
    usedRegression: Boolean(plan),
    ...(plan?.momentum ? { fastRegression: true } : {}),
    ...(view ? { folders: view.folders } : {}),
    reasons: labelReasons(analysis, y, classes, knn, view, labels),
    vocabulary: view ? vocabularyOutliers(view, x, y, knn, classes, labels) : [],
  };
}

/** Per item, the index of its duplicate group, or -1. */
function groupIds(items: Analysable[], groups: DuplicateGroup[]): Int32Array {
  const index = new Map(items.map((x, i) => [x.entry.file, i]));
  const out = new Int32Array(items.length).fill(-1);
  groups.forEach((g, q) => {
    for (const f of g.files) out[index.get(f)!] = q;
  });
  return out;
}

export interface Analysis {
  m: Matrix;
  nb: Neighbours;
  /**
   * The neighbour index the analysis built (find-similar can reuse it: AnnIndex.save). Not cloneable: a worker
   * thread saves it and leaves it out of the message.
   */
  ann?: AnnIndex;
  label?: LabelResult;
  labelSkipped?: string;
  duplicates: DuplicateGroup[];
  outliers: OutlierEntry[];
  quality: QualityEntry[];
  /** Each item's point on the 2-D map (n × 2, in [0, 1]), see map.ts. */
  map?: Float32Array;
}

export interface AnalyseOptions extends LabelIssueOptions {
  neighbours: number;
  checks: Set<string>;
  nearDuplicates?: Partial<NearDuplicateOptions>;
  /** The neighbour graph a previous run saved (ann-store.ts): updated for the files that changed, not rebuilt. */
  previousIndex?: AnnSnapshot;
  /** Rows up to which neighbours are searched exactly (default EXACT_MAX_ROWS; lower only to test the graph). */
  exactMaxRows?: number;
}

export function analyse(items: Analysable[], labels: LabelSet | undefined, o: AnalyseOptions): Analysis {
  const d = items[0]?.embedding.length ?? 0;
  const m = normalizedMatrix(
    items.map((x) => x.embedding),
    d,
  );
  const ids = items.map((x) => x.features.bytesSha256);
  const ann = buildAnnIndex(m, o.exactMaxRows ? { exactMaxRows: o.exactMaxRows } : {}, ids, o.previousIndex);
  const nb = ann.all(o.neighbours);
  const out: Analysis = { m, nb, ann, duplicates: [], outliers: [], quality: [], map: embeddingMap(m) };
  // Duplicate groups first: a group-aware label check keeps each group in one fold and out of its members' votes.
  const dupChecks = o.checks.has('duplicates') || o.checks.has('leakage');
  let groups: DuplicateGroup[] = [];
  if (dupChecks || (o.checks.has('label') && o.groupAware === true)) {
    const dup = items.map((x) => ({ file: x.entry.file, label: x.entry.label, split: x.entry.split, ...x.features }));
    groups = findDuplicates(dup, items.length > 1 ? m : undefined, items.length > 1 ? nb : undefined, {
      ...NEAR_DUPLICATE_DEFAULTS,
      ...o.nearDuplicates,
    });
  }
  if (o.checks.has('label')) {
    const r = items.length ? analyseLabels(items, m, nb, labels, o, groupIds(items, groups)) : 'no readable images';
    if (typeof r === 'string') out.labelSkipped = r;
    else out.label = r;
  }
  if (dupChecks) out.duplicates = o.checks.has('duplicates') ? groups : groups.filter((g) => g.crossSplit);
  if (o.checks.has('outliers') && items.length > 1) {
    out.outliers = findOutliers(
      nb,
      items.map((x) => x.entry.file),
    ).outliers;
    const lr = out.label;
    for (const v of lr?.vocabulary ?? [])
      out.outliers.push({ file: items[lr!.rows[v.row]!]!.entry.file, score: v.score, kind: 'out_of_vocabulary', reason: v.reason });
  }
  if (o.checks.has('quality')) {
    out.quality = qualityIssues(
      items.map((x) => ({ file: x.entry.file, width: x.features.width, height: x.features.height, properties: x.features.properties })),
    );
  }
  return out;
}
