/**
 * `curateDataset(root, classifier, opts)`: scan an ImageFolder dataset, read each image once (embedding + pixel
 * features), then find label issues, exact/near duplicates (and leakage across splits), outliers and quality issues.
 * See README "Dataset curation" for the algorithm and its defaults.
 */
import {
  CURATION_CHECKS,
  CURATION_REPORT_VERSION,
  type CurationCheck,
  type CurationReport,
  type IssueSection,
} from '@image-classifier/protocol';
import { caseCollisionWarnings } from '@image-classifier/protocol/platform';
import { ClassifierError } from '../errors.js';
import type { LabelSet } from '../model/labels.js';
import { type Analysable, type AnalyseOptions, type Analysis, analyse } from './analyse.js';
import { CHECKS, enabledChecks } from './checks.js';
import type { NearDuplicateOptions } from './duplicates.js';
import type { CurationEngine } from './engine.js';
import { changedSince, type ExtractOptions, extractAll } from './extract.js';
import type { LabelIssueOptions } from './label-issues.js';
import { mapOfFiles } from './map.js';
import { buildFiles, classConcepts, classSummaries, datasetWarnings } from './report.js';
import { scanDataset } from './scan.js';

export interface CurateOptions {
  /** Default: all of CURATION_CHECKS. */
  checks?: readonly CurationCheck[];
  /** k of the kNN vote and the outlier score (default NEIGHBOURS_DEFAULT). */
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

/** k of the kNN vote and the outlier score when the run names none. */
export const NEIGHBOURS_DEFAULT = 10;

/** What ran: the neighbours and each check's settings (its defaults with the run's overrides). */
function settings(o: CurateOptions, k: number, a: Analysis): CurationReport['settings'] {
  return Object.assign({ neighbours: k }, ...CHECKS.map((c) => c.settings(o, a)));
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

/** The report's per-section lists and counts, each filled by its check (ISSUE_SECTIONS' `field`). */
type SectionField = IssueSection['field'];

export async function curateDataset(root: string, classifier: CurationEngine, o: CurateOptions = {}): Promise<CurationReport> {
  const t0 = performance.now();
  const checks = new Set<string>(o.checks ?? CURATION_CHECKS);
  const dims = classifier.info.embedding?.dims;
  if (!dims)
    throw new ClassifierError(
      'NO_EMBEDDING',
      `${classifier.info.name} has no embedding output; curation needs one (use MobileNetV2 or ResNet50).`,
    );
  const k = o.neighbours ?? NEIGHBOURS_DEFAULT;
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
  if (!items.length) for (const check of enabledChecks(checks)) check.none?.(a);
  const changed = await changedSince(extracted);
  const files = buildFiles(extracted, items, a, changed);
  const found = CHECKS.map((c) => c.report(a, items));
  const labelIssues = found.flatMap((f) => f.labelIssues ?? []);
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
      ...(Object.assign({}, ...found.map((f) => f.counts)) as Pick<CurationReport['counts'], SectionField>),
    },
    files,
    ...(Object.assign({}, ...found.map(({ counts: _, ...lists }) => lists)) as Pick<CurationReport, SectionField>),
    classes,
    skipped: scan.skipped,
    warnings: [
      ...datasetWarnings(a, classes, scan.entries.length, items.length, checks),
      ...caseCollisionWarnings(scan.entries.map((e) => e.file)),
    ],
    settings: settings(o, k, a),
    timingsMs: { scan: Math.round(t1 - t0), extract: Math.round(t2 - t1), analyse: Math.round(t3 - t2), total: Math.round(t3 - t0) },
    ...(map ? { map } : {}),
  };
}
