/**
 * The check registry (after cleanlab's Datalab issue managers: one interface, a list keyed by name). Each check is
 * one module under checks/: its named defaults, what it runs over the extracted images, the issues it puts on each
 * file, its part of the report (list, counts, settings, warnings). `analyse`, the report and `curateDataset` iterate
 * CHECKS and name no check; protocol's ISSUE_KINDS has one row per issue kind a check finds (its title, words, badge,
 * section). A new check or issue kind: its module here and its row there.
 */
import type {
  ClassSummary,
  CurationCheck,
  CurationReport,
  DuplicateGroup,
  FileIssue,
  IssueSection,
  IssueSectionId,
} from '@image-classifier/protocol';
import type { LabelSet } from '../model/labels.js';
import type { Analysable, AnalyseOptions, Analysis } from './analyse.js';
import type { CurateOptions } from './curate.js';
import { duplicatesCheck } from './checks/duplicates.js';
import { labelCheck } from './checks/label.js';
import { outliersCheck } from './checks/outliers.js';
import { qualityCheck } from './checks/quality.js';
import type { Matrix, Neighbours } from './vectors.js';

export type Settings = Record<string, number | string | boolean>;

/** What a check runs over: the analysable images, their neighbour graph and the run's options. */
export interface CheckInput {
  items: Analysable[];
  m: Matrix;
  nb: Neighbours;
  labels: LabelSet | undefined;
  options: AnalyseOptions;
  /** The duplicate groups, found on first use (the duplicate check and a group-aware label check share them). */
  duplicateGroups(): DuplicateGroup[];
}

/** The report fields a check fills: its list and its counts. */
export type CheckReport = Partial<Pick<CurationReport, IssueSection['field']>> & {
  counts: Partial<CurationReport['counts']>;
};

export interface Check {
  /** Its id in CURATION_CHECKS and ISSUE_KINDS' `check`. */
  id: CurationCheck;
  /** The run's check ids that make it run: its own, and any it stands for (`leakage` is the duplicates' cross-split part). */
  runsFor: readonly CurationCheck[];
  /** The report section (board tab) that lists its findings (ISSUE_SECTIONS). */
  section: IssueSectionId;
  /** Its named defaults: what runs when nothing is overridden. */
  defaults: Readonly<Settings>;
  /** What ran, for the report's `settings`: the defaults with the run's overrides, under the report's keys. */
  settings(o: CurateOptions, a: Analysis | undefined): Settings;
  /** Runs over the images, writing its part of `out`; `enabled` is the run's check ids. */
  run(input: CheckInput, out: Analysis, enabled: ReadonlySet<string>): void;
  /** When nothing could be read: what it says about not running (into `out`). */
  none?(out: Analysis): void;
  /** The issues it found, per file (report path). */
  fileIssues(a: Analysis, items: Analysable[], add: (file: string, issue: FileIssue) => void): void;
  /** Its list and counts in the report; called whether it ran or not (the counts are always there). */
  report(a: Analysis, items: Analysable[]): CheckReport;
  /** Dataset-level notes about its run. */
  warnings?(a: Analysis, classes: ClassSummary[], enabled: ReadonlySet<string>): string[];
}

/** Every check, in the report's order (the label check runs before the outliers check, which uses its vocabulary). */
export const CHECKS: readonly Check[] = [labelCheck, duplicatesCheck, outliersCheck, qualityCheck];

/** The checks that run for the run's check ids. */
export function enabledChecks(enabled: ReadonlySet<string>): Check[] {
  return CHECKS.filter((c) => c.runsFor.some((id) => enabled.has(id)));
}

export function checkById(id: string): Check | undefined {
  return CHECKS.find((c) => c.id === id);
}
