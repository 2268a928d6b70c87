/**
 * The analyses over extracted images: the neighbour graph, then each check of CHECKS the run asks for (checks.ts).
 * Pure functions of the extracted data (no I/O), each returning report fragments.
 */
import type { DuplicateGroup, OutlierEntry, QualityEntry } from '@image-classifier/protocol';
import type { LabelSet } from '../model/labels.js';
import { type AnnIndex, type AnnSnapshot, buildAnnIndex } from './ann.js';
import { type CheckInput, enabledChecks } from './checks.js';
import { duplicateGroupsOf } from './checks/duplicates.js';
import type { LabelResult } from './checks/label.js';
import type { NearDuplicateOptions } from './duplicates.js';
import type { Extracted } from './extract.js';
import type { LabelIssueOptions } from './label-issues.js';
import { embeddingMap } from './map.js';
import { type Matrix, type Neighbours, normalizedMatrix } from './vectors.js';

export { analyseLabels, type LabelResult, REGRESSION_BUDGET, regressionPlan } from './checks/label.js';

export interface Analysable extends Extracted {
  features: NonNullable<Extracted['features']>;
  embedding: Float32Array;
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
  let groups: DuplicateGroup[] | undefined;
  const input: CheckInput = {
    items,
    m,
    nb,
    labels,
    options: o,
    // A group-aware label check keeps each group in one fold and out of its members' votes.
    duplicateGroups: () => {
      groups ??= duplicateGroupsOf(input);
      return groups;
    },
  };
  for (const check of enabledChecks(o.checks)) check.run(input, out, o.checks);
  return out;
}
