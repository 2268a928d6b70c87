/**
 * A curated dataset's open issues as counts, for the Image Labels view: one number per board tab, counted as the
 * board counts its tabs (a moved or kept label issue is closed, a trashed file's issues are gone, a duplicate group
 * needs two files left). Pure, so unit tests cover it.
 *
 * `report` is the report as the dataset is now (tracker.ts `currentReport`); `kept` holds the files whose label the
 * user kept (report paths; a label issue's path is its report path, since moved ones are already left out).
 */
import type { CurationReport } from '@image-classifier/protocol';

/** The board tabs that list issues (the Overview and Similar tabs list none). */
export type IssueTab = 'labels' | 'duplicates' | 'outliers' | 'quality';

export interface IssueCount {
  tab: IssueTab;
  count: number;
  /** "10 label issues", "1 outlier", "11 quality". */
  text: string;
}

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

const TEXTS: Record<IssueTab, (n: number) => string> = {
  labels: (n) => plural(n, 'label issue', 'label issues'),
  duplicates: (n) => plural(n, 'duplicate group', 'duplicate groups'),
  outliers: (n) => plural(n, 'outlier', 'outliers'),
  quality: (n) => `${n} quality`,
};

/** One entry per issue tab, in the board's order. */
export function curationIssueCounts(report: CurationReport, kept: ReadonlySet<string> = new Set()): IssueCount[] {
  const counts: Record<IssueTab, number> = {
    labels: report.labelIssues.filter((i) => !kept.has(i.file)).length,
    duplicates: report.duplicateGroups.filter((g) => g.files.length >= 2).length,
    outliers: report.outliers.length,
    quality: report.quality.length,
  };
  return (Object.keys(TEXTS) as IssueTab[]).map((tab) => ({ tab, count: counts[tab], text: TEXTS[tab](counts[tab]) }));
}

/** "10 label issues · 11 duplicate groups · 1 outlier · 11 quality", or "no open issues". */
export function issueSummary(counts: IssueCount[]): string {
  const open = counts.filter((c) => c.count > 0);
  return open.length ? open.map((c) => c.text).join(' · ') : 'no open issues';
}
