/**
 * The dataset-curation report (`image-classifier curate`, core's `curateDataset`): versioned JSON, no native imports.
 * Paths in a report are relative to its root, with `/` separators.
 */

import type { IssueKindId, OutlierKindId, QualityIssueType } from './issue-kinds.js';

export const CURATION_REPORT_VERSION = 1 as const;

/**
 * Folders named like this right under the dataset root are splits (`root/<split>/<class>/…`), compared without case.
 * One rule for the engine's scan and the board's moves.
 */
export const SPLIT_NAMES = ['train', 'val', 'valid', 'validation', 'test'] as const;

export function isSplitName(name: string): boolean {
  return (SPLIT_NAMES as readonly string[]).includes(name.toLowerCase());
}

/** The analyses a run can do; `leakage` is the cross-split part of `duplicates`. */
export const CURATION_CHECKS = ['label', 'duplicates', 'outliers', 'quality', 'leakage'] as const;
export type CurationCheck = (typeof CURATION_CHECKS)[number];

/** The quality check's kinds: the rows of ISSUE_KINDS in the quality section (issue-kinds.ts). */
export { QUALITY_ISSUE_TYPES, type QualityIssueType } from './issue-kinds.js';

/** One of issue-kinds.ts' ISSUE_KINDS (its rows say what each means). */
export type FileIssueType = IssueKindId;

export interface FileIssue {
  type: FileIssueType;
  /** The issue's score (its meaning depends on the type; see README "Dataset curation"). */
  score?: number;
  /** An `unreadable` issue's error code (the same codes as classify's: FILE_NOT_FOUND, NOT_A_FILE, READ_FAILED…). */
  code?: string;
  detail?: string;
}

export interface CurationFile {
  file: string;
  /** Its class folder; absent in a flat folder. */
  label?: string;
  split?: string;
  /**
   * Out-of-sample probability of its own label relative to its class's mean (self-confidence / the class's mean
   * self-confidence, capped at 1), 0..1: low = suspect.
   */
  labelQuality?: number;
  /** Set when the file is flagged as a label issue. */
  suggestedLabel?: string;
  /** The model's own top ImageNet class. */
  predicted?: { label: string; probability: number };
  /** Why it is flagged, in words (label issue, out-of-vocabulary): what the model sees, where its neighbours are. */
  reasons?: string[];
  width?: number;
  height?: number;
  issues: FileIssue[];
}

export interface LabelIssue {
  file: string;
  label: string;
  suggestedLabel: string;
  /** Label quality (self-confidence); the list is sorted by it, lowest (most suspect) first. */
  score: number;
  /** Why, in words (as `files[].reasons`). */
  reasons?: string[];
}

export interface DuplicateGroup {
  kind: 'exact' | 'near';
  files: string[];
  /** Members sit in different class folders: at most one label can be right. */
  conflictingLabels: boolean;
  /** Members sit in different splits: train/test leakage. */
  crossSplit: boolean;
  /** Lowest embedding cosine between linked members. */
  minCosine?: number;
}

export interface OutlierEntry {
  file: string;
  /**
   * `embedding` (or absent): the mean cosine distance to the k nearest neighbours. `out_of_vocabulary`: the share
   * of the model's probability under a WordNet synset that no class folder covers.
   */
  score: number;
  kind?: 'embedding' | OutlierKindId;
  reason?: string;
}

export interface QualityEntry {
  file: string;
  type: QualityIssueType;
  score: number;
  threshold: number;
}

export interface ClassSummary {
  name: string;
  files: number;
  perSplit?: Record<string, number>;
  /** Files flagged as sitting in this folder by mistake. */
  labelIssues: number;
  /** files / the largest class's files (class balance). */
  relativeSize: number;
  /** The WordNet synset the folder name was matched to, when the model's classes are ImageNet's. */
  concept?: ClassConcept;
}

export interface ClassConcept {
  /** WordNet 3.0 id (n + noun offset), absent when the name is no noun with ImageNet classes below it. */
  synset?: string;
  /** Its first lemma ("musical instrument"). */
  name?: string;
  /** ImageNet classes at or below it (its coverage). */
  imagenetClasses: number;
  /** How many such synsets the name could mean; the one holding most of the folder's predictions was taken. */
  senses: number;
  /** Mean share of the model's probability under the synset over the folder's own files. */
  agreement: number;
  /** The same over the other folders' files (the background the mass is measured against). */
  background: number;
}

export interface SkippedEntry {
  file: string;
  reason: string;
}

/**
 * A 2-D map of the embeddings for an overview: `points[i]` belongs to `files[i]` (same order, same length), `null`
 * for a file with no embedding (unreadable). Coordinates are in [0, 1] on each axis (each axis scaled on its own),
 * never NaN. `pca`: the L2-normalised embeddings on their top two principal components (centred).
 */
export interface CurationMap {
  method: 'pca' | 'umap';
  points: Array<[number, number] | null>;
}

export interface CurationReport {
  version: typeof CURATION_REPORT_VERSION;
  root: string;
  createdAt: string;
  model: { name: string; embeddingDims: number };
  checks: CurationCheck[];
  layout: { splits: string[]; classes: number; flat: boolean };
  counts: {
    files: number;
    analysed: number;
    unreadable: number;
    skipped: number;
    labelIssues: number;
    /**
     * Confident learning's estimate of how many labels are really wrong (the off-diagonal sum of the calibrated
     * confident joint). Below `labelIssues`, the first this many of `labelIssues` are the likely ones; the board
     * shows them first and the rest as less likely.
     */
    estimatedLabelErrors?: number;
    duplicateGroups: number;
    outliers: number;
    quality: number;
  };
  files: CurationFile[];
  labelIssues: LabelIssue[];
  duplicateGroups: DuplicateGroup[];
  outliers: OutlierEntry[];
  quality: QualityEntry[];
  classes: ClassSummary[];
  /** Files and folders not analysed (not an image, a symlink loop, unreadable folder). */
  skipped: SkippedEntry[];
  /** Dataset-level notes: a single class, tiny classes, label analysis not possible… */
  warnings: string[];
  /** The thresholds and parameters used. */
  settings: Record<string, number | string | boolean>;
  timingsMs: { scan: number; extract: number; analyse: number; total: number };
  /** The embeddings in 2-D, aligned with `files` (absent when nothing was analysed). */
  map?: CurationMap;
}
