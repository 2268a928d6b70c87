/**
 * The label check: files that sit in the wrong class folder (label-issues.ts: cross-validated regression and kNN
 * vote, then confident learning), each with a suggested class and the reasons in words. Its kinds: `label`.
 */
import type { LabelIssue } from '@image-classifier/protocol';
import type { LabelSet } from '../../model/labels.js';
import { nearestNeighbours } from '../ann.js';
import type { Analysable, Analysis } from '../analyse.js';
import type { Check, Settings } from '../checks.js';
import { estimateLabelErrors } from '../label-estimate.js';
import { findLabelIssues, LABEL_DEFAULTS, type LabelAnalysis, type LabelIssueOptions } from '../label-issues.js';
import { labelReasons, type VocabularyOutlier, vocabularyOutliers } from '../label-reasons.js';
import { matchModelClasses, modelClassProbabilities } from '../model-classes.js';
import { type FolderConcept, semanticView } from '../semantic.js';
import { DUAL_MAX_ROWS } from '../softmax-regression.js';
import type { Matrix, Neighbours } from '../vectors.js';

export { LABEL_DEFAULTS };

/**
 * Multiply-adds the cross-validated regression may cost (about 20 s on the shared 2-core machine). Over it, the
 * regression runs with momentum 0.9 and a tenth of the steps (the same dev-set ranking); still over, the kNN vote
 * decides alone.
 */
export const REGRESSION_BUDGET = 1e10;

/** The regression options that fit the budget for n rows, c classes, d dims; undefined when none does. */
export function regressionPlan(n: number, c: number, d: number, o: LabelIssueOptions): LabelIssueOptions | undefined {
  const folds = o.folds ?? LABEL_DEFAULTS.folds;
  const train = (n * (folds - 1)) / folds;
  const perStep = n < d && n <= DUAL_MAX_ROWS ? train * train * c : 2 * train * c * (d + 1);
  const steps = o.iterations ?? LABEL_DEFAULTS.iterations;
  if (folds * steps * perStep <= REGRESSION_BUDGET) return o;
  const fast = { ...o, momentum: 0.9, iterations: Math.max(1, Math.round(steps / 10)) };
  return folds * fast.iterations * perStep <= REGRESSION_BUDGET ? fast : undefined;
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
  /** The options that ran, as the report's settings print them (the run's, changed by the time budget: regressionPlan). */
  ran: Settings;
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
  const run = plan ?? { ...o, regressionWeight: 0 };
  const analysis = findLabelIssues(x, y, classes.length, knn, run, extra, view, group);
  const sizes = new Int32Array(classes.length);
  for (const k of y) sizes[k] = sizes[k]! + 1;
  const minSize = o.minClassSize ?? LABEL_DEFAULTS.minClassSize;
  const estimatedErrors = estimateLabelErrors(analysis.probs, y, classes.length, (k) => sizes[k]! >= minSize);
  return {
    classes,
    rows,
    analysis,
    estimatedErrors,
    usedModel: Boolean(extra || view),
    usedRegression: Boolean(plan),
    ...(plan?.momentum ? { fastRegression: true } : {}),
    ran: labelSettings(run),
    ...(view ? { folders: view.folders } : {}),
    reasons: labelReasons(analysis, y, classes, knn, view, labels),
    vocabulary: view ? vocabularyOutliers(view, x, y, knn, classes, labels) : [],
  };
}

/** Per item, the index of its duplicate group, or -1. */
function groupIds(items: Analysable[], groups: { files: string[] }[]): Int32Array {
  const index = new Map(items.map((x, i) => [x.entry.file, i]));
  const out = new Int32Array(items.length).fill(-1);
  groups.forEach((g, q) => {
    for (const f of g.files) out[index.get(f)!] = q;
  });
  return out;
}

const r4 = (v: number) => Math.round(v * 1e4) / 1e4;

/** Ranked label issues and, per analysable index, [quality, suggested label?, reasons?]. */
export function labelFindings(
  items: Analysable[],
  a: Analysis,
): { issues: LabelIssue[]; byItem: Map<number, [number, string?, string[]?]> } {
  const byItem = new Map<number, [number, string?, string[]?]>();
  const issues: LabelIssue[] = [];
  const lr = a.label;
  if (!lr) return { issues, byItem };
  for (const [row, item] of lr.rows.entries()) byItem.set(item, [r4(lr.analysis.quality[row]!)]);
  for (const row of lr.analysis.issues) {
    const item = lr.rows[row]!;
    const suggestedLabel = lr.classes[lr.analysis.suggested.get(row)!]!;
    const reasons = lr.reasons.get(row);
    byItem.set(item, [r4(lr.analysis.quality[row]!), suggestedLabel, reasons]);
    issues.push({
      file: items[item]!.entry.file,
      label: items[item]!.entry.label!,
      suggestedLabel,
      score: r4(lr.analysis.quality[row]!),
      ...(reasons ? { reasons } : {}),
    });
  }
  return { issues, byItem };
}

/** The settings keys the report prints for the label check, in its order. */
const SETTING_KEYS = [
  'folds',
  'seed',
  'l2',
  'iterations',
  'learningRate',
  'regressionWeight',
  'momentum',
  'minClassSize',
  'groupAware',
] as const;

/** The label options of `o` under the report's keys, the defaults where `o` has none. */
function labelSettings(o: LabelIssueOptions): Settings {
  const out: Settings = {};
  for (const key of SETTING_KEYS) out[key] = o[key] ?? LABEL_DEFAULTS[key];
  return out;
}

export const labelCheck: Check = {
  id: 'label',
  runsFor: ['label'],
  section: 'labels',
  defaults: LABEL_DEFAULTS,
  settings(o, a) {
    return a?.label?.ran ?? labelSettings(o.label ?? {});
  },
  run(input, out) {
    const { items, m, nb, labels, options: o } = input;
    const groups = o.groupAware === true ? groupIds(items, input.duplicateGroups()) : undefined;
    const r = items.length ? analyseLabels(items, m, nb, labels, o, groups) : 'no readable images';
    if (typeof r === 'string') out.labelSkipped = r;
    else out.label = r;
  },
  none(out) {
    out.labelSkipped = 'no readable images';
  },
  fileIssues(a, items, add) {
    for (const l of labelFindings(items, a).issues)
      add(l.file, { type: 'label', score: l.score, detail: `suggested label: ${l.suggestedLabel}` });
  },
  report(a, items) {
    const labelIssues = labelFindings(items, a).issues;
    return {
      labelIssues,
      counts: { labelIssues: labelIssues.length, ...(a.label ? { estimatedLabelErrors: a.label.estimatedErrors } : {}) },
    };
  },
  warnings(a, classes, enabled) {
    const w: string[] = [];
    if (a.labelSkipped && enabled.has('label'))
      w.push(`Label check skipped: ${a.labelSkipped}. Use a <class>/<image> layout to check labels.`);
    const lr = a.label;
    if (lr && !lr.usedRegression)
      w.push(`Label check used the kNN vote only: a regression over ${lr.classes.length} classes would take too long.`);
    if (lr?.fastRegression)
      w.push('Large dataset: the label regression ran with momentum and a tenth of the steps to fit the time budget.');
    if (lr?.folders) {
      const f = lr.folders;
      const named = f.flatMap((x, k) => (x.concept ? [`${lr.classes[k]} → ${x.concept.lemmas[0]} (${x.concept.classes.length})`] : []));
      const none = lr.classes.filter((_, k) => !f[k]!.concept);
      w.push(
        `Folder names matched WordNet synsets (ImageNet classes below each): ${named.join(', ')}${none.length ? `; no synset for ${none.join(', ')}` : ''}. The model's probability under them joined the label check with weight ${lr.analysis.semanticWeight ?? 0} (fitted on the folder labels).`,
      );
    } else if (lr?.usedModel) w.push("Folder names are the model's own classes: its probabilities joined the label check.");
    const tiny = classes.filter((c) => c.files < 2).map((c) => c.name);
    if (tiny.length && enabled.has('label'))
      w.push(
        `${tiny.length} class(es) have a single image (${tiny.slice(0, 5).join(', ')}${tiny.length > 5 ? ', …' : ''}): they cannot be checked for label issues.`,
      );
    return w;
  },
};
