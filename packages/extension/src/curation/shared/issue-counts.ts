/**
 * A curated dataset's open issues as counts, for the Image Labels view: one number per board tab, by the open-issue
 * rule the board itself uses (open-issues.ts), in protocol's ISSUE_SECTIONS words. Pure, so unit tests cover it.
 *
 * `report` is the report as the dataset is now (tracker.ts `currentReport`); `kept` holds the files whose label the
 * user kept (report paths; a label issue's path is its report path, since moved ones are already left out).
 */
import type { CurationReport } from '@image-classifier/protocol';
import { countText, ISSUE_SECTIONS, type IssueSectionId } from '@image-classifier/protocol/issue-kinds';
import { openCounts, openIssues, UNMOVED } from './open-issues';

/** The board tabs that list issues (the Overview and Similar tabs list none). */
export type IssueTab = IssueSectionId;

export interface IssueCount {
  tab: IssueTab;
  count: number;
  /** "10 label issues", "1 outlier", "11 quality issues". */
  text: string;
}

/** One entry per issue tab, in the board's order. */
export function curationIssueCounts(report: CurationReport, kept: ReadonlySet<string> = new Set()): IssueCount[] {
  const counts = openCounts(openIssues(report, UNMOVED, kept));
  return ISSUE_SECTIONS.map((s) => ({ tab: s.id, count: counts[s.id], text: countText(counts[s.id], s) }));
}

/** "10 label issues · 11 duplicate groups · 1 outlier · 11 quality issues", or "no open issues". */
export function issueSummary(counts: IssueCount[]): string {
  const open = counts.filter((c) => c.count > 0);
  return open.length ? open.map((c) => c.text).join(' · ') : 'no open issues';
}
