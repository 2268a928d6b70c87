/**
 * `curateDataset(root, classifier, opts)`: scan an ImageFolder dataset, read each image once (embedding + pixel
 * features), then find label issues, exact/near duplicates (and leakage across splits), outliers and quality issues.
 * See README "Dataset curation" for the algorithm and its defaults.
 */
import { CURATION_CHECKS, CURATION_REPORT_VERSION, type CurationCheck, type CurationReport } from '@image-classifier/protocol';
import { caseCollisionWarnings } from '@image-classifier/protocol/platform';
import { ClassifierError } from '../errors.js';
import type { LabelSet } from '../model/labels.js';
import { type Analysable, type AnalyseOptions, type Analysis, analyse } from './analyse.js';
import { NEAR_DUPLICATE_DEFAULTS, type NearDuplicateOptions } from './duplicates.js';
import type { CurationEngine } from './engine.js';
import { changedSince, type ExtractOptions, extractAll } from './extract.js';
import type { LabelIssueOptions } from './label-issues.js';
import { mapOfFiles } from './map.js';
import { OUTLIER_IQR_FACTOR } from './outliers.js';
import { QUALITY_THRESHOLDS } from './quality.js';
import { buildFiles, classConcepts, classSummaries, datasetWarnings } from './report.js';
import { scanDataset } from './scan.js';

export interface CurateOptions {
  /** Default: all of CURATION_CHECKS. */
  checks?: readonly CurationCheck[];
  /** k of the kNN vote and the outlier score (default 10). */
  neighbours?: number;
  label?: LabelIssueOptions;
  nearDuplicates?: Partial<NearDuplicateOptions>;
  maxPixels?: number;
  /** Called after each image is read: (done, total, failed). */
  onProgress?: (done: number, total: number, failed: number) => void;
  /** Called when the analysis of the extracted images starts (after the last onProgress). */
  onAnalyse?: (images: number) => void;
  /** Reads one entry instead of the built-in read (a server supplies cached embeddings; no logits then). */
  extractOne?: ExtractOptions['extractOne'];
  /** Runs `analyse` elsewhere (a server uses a worker thread); default: synchronously in this thread. */
  analyse?: (items: Analysable[], labels: LabelSet | undefined, o: AnalyseOptions) => Promise<Analysis>;
  /** Aborting stops the extraction (and an `analyse` that honours it): curateDataset then throws CANCELLED. */
  signal?: AbortSignal;
  /** Rows up to which neighbours are searched exactly (default 5,000; lower only to test the graph). */
  exactMaxRows?: number;
}

function settings(o: CurateOptions, k: number): CurationReport['settings'] {
  const l = o.label ?? {};
  return {
    neighbours: k,
    folds: l.folds ?? 5,
    seed: l.seed ?? 0,
    l2: l.l2 ?? 1e-3,
    iterations: l.iterations ?? 500,
    learningRate: l.learningRate ?? 0.5,
    regressionWeight: l.regressionWeight ?? 0.5,
    ...Object.fromEntries(Object.entries({ ...NEAR_DUPLICATE_DEFAULTS, ...o.nearDuplicates }).map(([key, v]) => [`near.${key}`, v])),
    outlierIqrFactor: OUTLIER_IQR_FACTOR,
    ...Object.fromEntries(Object.entries(QUALITY_THRESHOLDS).map(([key, v]) => [`quality.${key}`, v])),
  };
}

function emptyAnalysis(): Analysis {
  return {
    m: { data: new Float32Array(0), n: 0, d: 0 },
    nb: { k: 1, index: new Int32Array(0), sim: new Float32Array(0) },
    duplicates: [],
    outliers: [],
    quality: [],
  };
}

export async function curateDataset(root: string, classifier: CurationEngine, o: CurateOptions = {}): Promise<CurationReport> {
  const t0 = performance.now();
  const checks = new Set<string>(o.checks ?? CURATION_CHECKS);
  const dims = classifier.info.embedding?.dims;
  if (!dims)
    throw new ClassifierError(
      'NO_EMBEDDING',
      `${classifier.info.name} has no embedding output; curation needs one (use MobileNetV2 or ResNet50).`,
    );
  const k = o.neighbours ?? 10;
  const scan = await scanDataset(root);
  const t1 = performance.now();
  const extracted = await extractAll(classifier, scan.entries, {
    logits: true,
    ...(o.maxPixels ? { maxPixels: o.maxPixels } : {}),
    ...(o.onProgress ? { onProgress: o.onProgress } : {}),
    ...(o.extractOne ? { extractOne: o.extractOne } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
    within: scan.realRoot,
  });
  if (o.signal?.aborted) throw new ClassifierError('CANCELLED', 'Curation was cancelled.');
  const t2 = performance.now();
  const items = extracted.filter((x): x is Analysable => Boolean(x.features && x.embedding));
  o.onAnalyse?.(items.length);
  const ao: AnalyseOptions = {
    ...o.label,
    neighbours: k,
    checks,
    ...(o.nearDuplicates ? { nearDuplicates: o.nearDuplicates } : {}),
    ...(o.exactMaxRows ? { exactMaxRows: o.exactMaxRows } : {}),
  };
  const run = o.analyse ?? (async (x: Analysable[], l: LabelSet | undefined, ao2: AnalyseOptions) => analyse(x, l, ao2));
  const a = items.length ? await run(items, classifier.labels, ao) : emptyAnalysis();
  if (!items.length && checks.has('label')) a.labelSkipped = 'no readable images';
  const changed = await changedSince(extracted);
  const { files, labelIssues } = buildFiles(extracted, items, a, changed);
  const classes = classSummaries(scan.entries, labelIssues, classConcepts(a));
  const map = mapOfFiles(
    extracted,
    items.map((x) => x.entry.file),
    a.map,
  );
  const t3 = performance.now();
  const labelled = scan.entries.some((e) => e.label !== undefined);
  return {
    version: CURATION_REPORT_VERSION,
    root: scan.root,
    createdAt: new Date().toISOString(),
    model: { name: classifier.info.name, embeddingDims: dims },
    checks: CURATION_CHECKS.filter((c) => checks.has(c)),
    layout: { splits: scan.splits, classes: classes.length, flat: !labelled },
    counts: {
      files: scan.entries.length,
      analysed: items.length,
      unreadable: extracted.length - items.length,
      skipped: scan.skipped.length,
      labelIssues: labelIssues.length,
      ...(a.label ? { estimatedLabelErrors: a.label.estimatedErrors } : {}),
      duplicateGroups: a.duplicates.length,
      outliers: a.outliers.length,
      quality: a.quality.length,
    },
    files,
    labelIssues,
    duplicateGroups: a.duplicates,
    outliers: a.outliers,
    quality: a.quality,
    classes,
    skipped: scan.skipped,
    warnings: [
      ...datasetWarnings(a, classes, scan.entries.length, items.length, checks),
      ...caseCollisionWarnings(scan.entries.map((e) => e.file)),
    ],
    settings: settings(o, k),
    timingsMs: { scan: Math.round(t1 - t0), extract: Math.round(t2 - t1), analyse: Math.round(t3 - t2), total: Math.round(t3 - t0) },
    ...(map ? { map } : {}),
  };
}
