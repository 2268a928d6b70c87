/**
 * The issue-kind table: every kind of issue a curation report can put on a file, the check that finds it, and how
 * the CLI, the board and the Explorer name and mark it. One row per kind, one row per report section (a board tab),
 * as formats.ts does for image formats. The checks themselves live in core (`CHECKS`, core/src/curation/checks.ts):
 * a new kind is its check's module plus one row here. No imports but types: the webview bundles it.
 */
import type { CurationCheck, CurationReport } from './curation.js';

/** The report's issue sections, each a board tab and a row of the Image Labels view. */
export type IssueSectionId = 'labels' | 'duplicates' | 'outliers' | 'quality';

/** The Explorer badge letters, most urgent first (ISSUE_LETTERS). */
export type IssueLetter = '!' | 'L' | 'D' | 'O' | 'Q';

/** A VS Code theme colour id for a badge and its file name. */
export type IssueColor = 'list.errorForeground' | 'list.warningForeground' | 'editorInfo.foreground';

/**
 * One report section: the names it goes by in each place, tied together here (the report's JSON names are kept
 * stable: the `label` check fills the `labels` tab from the report's `labelIssues`).
 */
export interface IssueSection {
  /** The board tab's id (and the Image Labels view row's). */
  id: IssueSectionId;
  /** The check (core's CHECKS id) whose findings the section lists. */
  check: CurationCheck;
  /** The board tab's title: "Label issues" (the CLI's heading is the capitalised `many`). */
  title: string;
  /** Count words: "1 label issue", "2 label issues". */
  one: string;
  many: string;
  /** A codicon id (the Image Labels view row). */
  icon: string;
  /** The report's list of the section's entries, and its count (`report[field]`, `counts[field]`). */
  field: 'labelIssues' | 'duplicateGroups' | 'outliers' | 'quality';
  /**
   * What closes an entry on the board: `move-or-keep` a move (the user chose its class), a kept label or a trash;
   * `group` fewer than two of its group's files left; `trash` the file leaving the dataset.
   */
  closedBy: 'move-or-keep' | 'group' | 'trash';
}

export const ISSUE_SECTIONS: readonly IssueSection[] = [
  {
    id: 'labels',
    check: 'label',
    title: 'Label issues',
    one: 'label issue',
    many: 'label issues',
    icon: 'tag',
    field: 'labelIssues',
    closedBy: 'move-or-keep',
  },
  {
    id: 'duplicates',
    check: 'duplicates',
    title: 'Duplicates',
    one: 'duplicate group',
    many: 'duplicate groups',
    icon: 'copy',
    field: 'duplicateGroups',
    closedBy: 'group',
  },
  {
    id: 'outliers',
    check: 'outliers',
    title: 'Outliers',
    one: 'outlier',
    many: 'outliers',
    icon: 'telescope',
    field: 'outliers',
    closedBy: 'trash',
  },
  {
    id: 'quality',
    check: 'quality',
    title: 'Quality',
    one: 'quality issue',
    many: 'quality issues',
    icon: 'eye',
    field: 'quality',
    closedBy: 'trash',
  },
];

export interface IssueKind {
  /** As `files[].issues[].type` says it (FileIssueType is this column). */
  id: string;
  /** The check (core's CHECKS id) that finds it; absent for what the engine's read finds (unreadable, changed). */
  check?: CurationCheck;
  /** The report section (board tab) that lists it; absent for kinds no tab lists. */
  section?: IssueSectionId;
  /** For people, at the start of a line: "Near duplicate", "too light" (quality kinds are listed after "Quality: "). */
  title: string;
  /** Count words: "1 near duplicate", "3 near duplicates". */
  one: string;
  many: string;
  /** A codicon id. */
  icon: string;
  /** The Explorer badge letter; absent: the kind shows no badge. */
  badge?: IssueLetter;
  /** The badge's colour when this kind's letter leads the badge. */
  color?: IssueColor;
  /** What the Explorer's tooltip says after the title when the issue has no detail. */
  explain?: string;
  /** Its detail is a reason in words: the report's `files[].reasons` lists it too. */
  detailIsReason?: boolean;
  /**
   * How a board card shows its score: `share` a probability ("0.4% outside"), `value` a number ("outlier 0.42");
   * `title` what the score means (the score's tooltip).
   */
  score?: { unit: 'share' | 'value'; label: string; title: string };
}

const quality = <Id extends string>(id: Id, title: string) =>
  ({
    id,
    check: 'quality',
    section: 'quality',
    title,
    one: `${title} image`,
    many: `${title} images`,
    icon: 'eye',
    badge: 'Q',
    color: 'editorInfo.foreground',
  }) as const;

/** Most urgent first: the Explorer's badge letters follow this order. */
export const ISSUE_KINDS = [
  // The engine could not read or decode it (the detail says why).
  {
    id: 'unreadable',
    title: 'Unreadable',
    one: 'unreadable file',
    many: 'unreadable files',
    icon: 'error',
    badge: '!',
    color: 'list.errorForeground',
    explain: 'the image could not be decoded',
  },
  {
    id: 'label',
    check: 'label',
    section: 'labels',
    title: 'Label issue',
    one: 'label issue',
    many: 'label issues',
    icon: 'tag',
    badge: 'L',
    color: 'list.errorForeground',
  },
  {
    id: 'exact_duplicate',
    check: 'duplicates',
    section: 'duplicates',
    title: 'Exact duplicate',
    one: 'exact duplicate',
    many: 'exact duplicates',
    icon: 'copy',
    badge: 'D',
    color: 'list.warningForeground',
  },
  {
    id: 'near_duplicate',
    check: 'duplicates',
    section: 'duplicates',
    title: 'Near duplicate',
    one: 'near duplicate',
    many: 'near duplicates',
    icon: 'copy',
    badge: 'D',
    color: 'list.warningForeground',
  },
  {
    id: 'leakage',
    check: 'duplicates',
    section: 'duplicates',
    title: 'Leakage',
    one: 'duplicate across splits',
    many: 'duplicates across splits',
    icon: 'copy',
    badge: 'D',
    color: 'list.warningForeground',
  },
  {
    id: 'outlier',
    check: 'outliers',
    section: 'outliers',
    title: 'Outlier',
    one: 'outlier',
    many: 'outliers',
    icon: 'telescope',
    badge: 'O',
    color: 'list.warningForeground',
    explain: 'far from every other image',
    score: { unit: 'value', label: 'outlier', title: 'How far the image is from the rest of its class (higher: more unusual)' },
  },
  // Its probability mass lies mostly under a WordNet synset that no class folder covers (the detail says which).
  {
    id: 'out_of_vocabulary',
    check: 'outliers',
    section: 'outliers',
    title: 'Out of vocabulary',
    one: 'out-of-vocabulary image',
    many: 'out-of-vocabulary images',
    icon: 'telescope',
    badge: 'O',
    color: 'list.warningForeground',
    explain: 'the model sees something no class folder covers',
    detailIsReason: true,
    score: { unit: 'share', label: 'outside', title: "The model's probability under a WordNet synset no class folder covers" },
  },
  quality('dark', 'dark'),
  quality('light', 'too light'),
  quality('blurry', 'blurry'),
  quality('low_information', 'low information'),
  quality('odd_aspect_ratio', 'odd aspect ratio'),
  quality('odd_size', 'odd size'),
  quality('grayscale', 'grayscale'),
  quality('tiny', 'tiny'),
  // Its size or modification time changed while the run read it: its results may describe an older version.
  {
    id: 'changed',
    title: 'Changed',
    one: 'changed file',
    many: 'changed files',
    icon: 'history',
    explain: 'the file changed while it was analysed; curate again for fresh results',
  },
] as const satisfies readonly IssueKind[];

/** Every issue kind's id (`files[].issues[].type`). */
export type IssueKindId = (typeof ISSUE_KINDS)[number]['id'];

/** cleanvision's image-property issue types, plus `tiny`: the quality section's kinds. */
export type QualityIssueType = Extract<(typeof ISSUE_KINDS)[number], { section: 'quality' }>['id'];

export const QUALITY_ISSUE_TYPES: readonly QualityIssueType[] = (ISSUE_KINDS as readonly IssueKind[]).flatMap((k) =>
  k.section === 'quality' ? [k.id as QualityIssueType] : [],
);

/** The kinds of the outliers section besides the embedding outlier itself (OutlierEntry.kind). */
export type OutlierKindId = Exclude<Extract<(typeof ISSUE_KINDS)[number], { section: 'outliers' }>['id'], 'outlier'>;

const byId = new Map<string, IssueKind>(ISSUE_KINDS.map((k): [string, IssueKind] => [k.id, k]));

/** The row of a kind id; undefined for an id the table does not know (a newer report). */
export function issueKind(id: string): IssueKind | undefined {
  return byId.get(id);
}

export function issueSection(id: IssueSectionId): IssueSection {
  return ISSUE_SECTIONS.find((s) => s.id === id)!;
}

/** The badge letters, most urgent first (the order of their first kind in ISSUE_KINDS). */
export const ISSUE_LETTERS: readonly IssueLetter[] = [
  ...new Set((ISSUE_KINDS as readonly IssueKind[]).flatMap((k) => (k.badge ? [k.badge] : []))),
];

/** The colour of a badge led by `letter`. */
export function letterColor(letter: IssueLetter): IssueColor {
  return (ISSUE_KINDS as readonly IssueKind[]).find((k) => k.badge === letter)!.color!;
}

/** "1 outlier", "2 outliers". */
export function countText(n: number, w: { one: string; many: string }): string {
  return `${n} ${n === 1 ? w.one : w.many}`;
}

/** A section's count in a report. */
export function sectionCount(report: Pick<CurationReport, 'counts'>, s: IssueSection): number {
  return report.counts[s.field];
}
