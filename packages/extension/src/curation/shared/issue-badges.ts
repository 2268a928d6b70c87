/**
 * A curation report → what the Explorer shows on each file with an open issue: a badge of one or two characters, a
 * tooltip that says what, and a theme colour. Pure, so unit tests cover it.
 *
 * Letters, most urgent first: `!` unreadable, `L` label issue, `D` duplicate (exact, near, or across splits),
 * `O` outlier, `Q` quality (dark, blurry, …). The badge is the first two that apply ("LD": a suspect label that is
 * also a duplicate); an unreadable file shows `!` alone (nothing else about it is known). A label issue the user kept
 * ("the folder is right") is no longer open; the file's other issues still are.
 */
import type { CurationReport, DuplicateGroup, FileIssue } from '@image-classifier/protocol';
import { type IssueColor, type IssueLetter, ISSUE_LETTERS, issueKind, letterColor } from '@image-classifier/protocol/issue-kinds';
import { fileIssueOpener, UNMOVED } from './open-issues';

export type { IssueLetter };

export interface FileBadge {
  /** One or two characters. */
  badge: string;
  /** One line per issue, joined by `\n`. */
  tooltip: string;
  /** The letters that apply, most urgent first. */
  letters: IssueLetter[];
  /** A VS Code theme colour id for the badge and the file name. */
  color: IssueColor;
}

const score = (v: number | undefined) => (v === undefined ? '' : ` (score ${v.toFixed(2)})`);

function listFiles(files: string[], max = 3): string {
  return files.length > max ? `${files.slice(0, max).join(', ')} and ${files.length - max} more` : files.join(', ');
}

function duplicateLine(file: string, group: DuplicateGroup | undefined, what: string): string {
  const others = group ? group.files.filter((f) => f !== file) : [];
  const of = others.length ? ` of ${listFiles(others)}` : '';
  const notes = [group?.conflictingLabels ? 'in another class folder' : '', group?.crossSplit ? 'across splits (leakage)' : '']
    .filter(Boolean)
    .join(', ');
  return `${what}${of}${notes ? ` — ${notes}` : ''}`;
}

/** The badge of one file of `report`, or undefined when it has no open issue. */
function badgeOf(
  f: CurationReport['files'][number],
  groups: Map<string, DuplicateGroup>,
  isOpen: (file: string, issue: FileIssue) => boolean,
): FileBadge | undefined {
  const letters = new Set<IssueLetter>();
  const lines: string[] = [];
  const quality: string[] = [];
  for (const issue of f.issues) {
    if (!isOpen(f.file, issue)) continue;
    const kind = issueKind(issue.type);
    if (kind?.badge) letters.add(kind.badge);
    if (kind?.section === 'labels') {
      lines.push(
        `${kind.title}: folder ${f.label ?? '?'}, looks like ${f.suggestedLabel ?? issue.detail?.replace(/^suggested label: /, '') ?? '?'}${score(issue.score ?? f.labelQuality)}`,
      );
      if (f.reasons?.length) lines.push(`  ${f.reasons.slice(0, 2).join('; ')}`);
    } else if (issue.type === 'leakage') {
      // said on the duplicate's line
    } else if (kind?.section === 'duplicates') lines.push(duplicateLine(f.file, groups.get(f.file), kind.title));
    else if (kind?.section === 'quality') quality.push(`${kind.title}${score(issue.score)}`);
    else if (kind?.section === 'outliers' && !issue.detail) lines.push(`${kind.title}: ${kind.explain}${score(issue.score)}`);
    else if (kind) lines.push(`${kind.title}: ${issue.detail ?? kind.explain ?? ''}`);
    else quality.push(`${issue.type}${score(issue.score)}`);
  }
  if (quality.length) lines.push(`Quality: ${quality.join(', ')}`);
  if (!letters.size) return undefined;
  const sorted = ISSUE_LETTERS.filter((l) => letters.has(l));
  const badge = sorted[0] === '!' ? '!' : sorted.slice(0, 2).join('');
  return { badge, tooltip: lines.join('\n'), letters: sorted, color: letterColor(sorted[0]!) };
}

/**
 * Every file of `report` with an open issue → its badge, keyed by the report's relative path (`/`-separated).
 * `kept`: files whose label the user kept (their label issue is closed).
 */
export function curationBadges(report: CurationReport, kept: ReadonlySet<string> = new Set()): Map<string, FileBadge> {
  const groups = new Map<string, DuplicateGroup>();
  for (const g of report.duplicateGroups) for (const f of g.files) if (!groups.has(f)) groups.set(f, g);
  const isOpen = fileIssueOpener(report, UNMOVED, kept);
  const out = new Map<string, FileBadge>();
  for (const f of report.files) {
    const b = badgeOf(f, groups, isOpen);
    if (b) out.set(f.file, b);
  }
  return out;
}
