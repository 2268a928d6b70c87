/**
 * Which of a report's issues are still open after the board's actions: one rule for the host (the Image Labels
 * view's counts, the Explorer badges, Export's clean-file list, the report as the dataset is now) and the webview
 * (the board's tabs). Each report section closes its entries as protocol's ISSUE_SECTIONS row says (`closedBy`):
 * a label issue by a move, a kept label or a trash; a duplicate group when fewer than two of its files are left;
 * an outlier or a quality issue when its file leaves the dataset. Pure: no vscode import, no DOM.
 */
import type { CurationReport, DuplicateGroup, FileIssue, LabelIssue, OutlierEntry, QualityEntry } from '@image-classifier/protocol';
import { ISSUE_SECTIONS, type IssueSection, type IssueSectionId, issueKind } from '@image-classifier/protocol/issue-kinds';

/** Where a report path is now: itself when it never moved, another path after a move, null when trashed. */
export interface Whereabouts {
  currentOf(reportPath: string): string | null;
}

/** Nothing moved or trashed: the report as it is (a report already brought up to date, tracker.ts `currentReport`). */
export const UNMOVED: Whereabouts = { currentOf: (p) => p };

export interface OpenIssues {
  labelIssues: LabelIssue[];
  /** The groups with two files or more left; `files` the members left (report paths), `id` its index in the report. */
  duplicateGroups: Array<DuplicateGroup & { id: number }>;
  outliers: OutlierEntry[];
  quality: QualityEntry[];
}

function openRule(s: IssueSection, where: Whereabouts, kept: ReadonlySet<string>): (file: string) => boolean {
  switch (s.closedBy) {
    case 'move-or-keep':
      return (file) => where.currentOf(file) === file && !kept.has(file);
    default:
      return (file) => where.currentOf(file) !== null;
  }
}

/** The report's open issues, per section; `kept`: report paths of the files whose label the user kept. */
export function openIssues(report: CurationReport, where: Whereabouts, kept: ReadonlySet<string> = new Set()): OpenIssues {
  const out = {} as Record<IssueSection['field'], unknown[]>;
  for (const s of ISSUE_SECTIONS) {
    const open = openRule(s, where, kept);
    if (s.closedBy === 'group')
      out[s.field] = (report[s.field] as DuplicateGroup[]).flatMap((g, id) => {
        const files = g.files.filter(open);
        return files.length >= 2 ? [{ ...g, files, id }] : [];
      });
    else out[s.field] = (report[s.field] as { file: string }[]).filter((x) => open(x.file));
  }
  return out as unknown as OpenIssues;
}

/** The number of open entries per section (a duplicate group counts once). */
export function openCounts(open: OpenIssues): Record<IssueSectionId, number> {
  return Object.fromEntries(ISSUE_SECTIONS.map((s) => [s.id, open[s.field].length])) as Record<IssueSectionId, number>;
}

/**
 * Per file: whether an issue on it is still open, by the rule of its kind's section; an issue no section lists
 * (unreadable, changed) is open while the file is in the dataset.
 */
export function fileIssueOpener(
  report: CurationReport,
  where: Whereabouts,
  kept: ReadonlySet<string> = new Set(),
): (file: string, issue: FileIssue) => boolean {
  const inOpenGroup = new Set(openIssues(report, where, kept).duplicateGroups.flatMap((g) => g.files));
  const rules = new Map(
    ISSUE_SECTIONS.map((s) => [s.id, s.closedBy === 'group' ? (f: string) => inOpenGroup.has(f) : openRule(s, where, kept)]),
  );
  const alive = (f: string) => where.currentOf(f) !== null;
  return (file, issue) => {
    const section = issueKind(issue.type)?.section;
    return (section ? rules.get(section)! : alive)(file);
  };
}
