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

export type IssueLetter = '!' | 'L' | 'D' | 'O' | 'Q';

export interface FileBadge {
  /** One or two characters. */
  badge: string;
  /** One line per issue, joined by `\n`. */
  tooltip: string;
  /** The letters that apply, most urgent first. */
  letters: IssueLetter[];
  /** A VS Code theme colour id for the badge and the file name. */
  color: 'list.errorForeground' | 'list.warningForeground' | 'editorInfo.foreground';
}

const ORDER: IssueLetter[] = ['!', 'L', 'D', 'O', 'Q'];

const QUALITY_NAMES: Record<string, string> = {
  dark: 'dark',
  light: 'too light',
  blurry: 'blurry',
  low_information: 'low information',
  odd_aspect_ratio: 'odd aspect ratio',
  odd_size: 'odd size',
  grayscale: 'grayscale',
  tiny: 'tiny',
};

const score = (v: number | undefined) => (v === undefined ? '' : ` (score ${v.toFixed(2)})`);

function listFiles(files: string[], max = 3): string {
  return files.length > max ? `${files.slice(0, max).join(', ')} and ${files.length - max} more` : files.join(', ');
}

function duplicateLine(file: string, group: DuplicateGroup | undefined, issue: FileIssue): string {
  const others = group ? group.files.filter((f) => f !== file) : [];
  const what = issue.type === 'exact_duplicate' ? 'Exact duplicate' : 'Near duplicate';
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
  kept: ReadonlySet<string>,
): FileBadge | undefined {
  const letters = new Set<IssueLetter>();
  const lines: string[] = [];
  const quality: string[] = [];
  for (const issue of f.issues) {
    switch (issue.type) {
      case 'unreadable':
        letters.add('!');
        lines.push(`Unreadable: ${issue.detail ?? 'the image could not be decoded'}`);
        break;
      case 'label':
        if (kept.has(f.file)) break;
        letters.add('L');
        lines.push(
          `Label issue: folder ${f.label ?? '?'}, looks like ${f.suggestedLabel ?? issue.detail?.replace(/^suggested label: /, '') ?? '?'}${score(issue.score ?? f.labelQuality)}`,
        );
        if (f.reasons?.length) lines.push(`  ${f.reasons.slice(0, 2).join('; ')}`);
        break;
      case 'exact_duplicate':
      case 'near_duplicate':
        letters.add('D');
        lines.push(duplicateLine(f.file, groups.get(f.file), issue));
        break;
      case 'leakage':
        letters.add('D');
        break; // said on the duplicate's line
      case 'outlier':
        letters.add('O');
        lines.push(`Outlier: far from every other image${score(issue.score)}`);
        break;
      case 'out_of_vocabulary':
        letters.add('O');
        lines.push(`Out of vocabulary: ${issue.detail ?? 'the model sees something no class folder covers'}`);
        break;
      case 'changed':
        lines.push('Changed while it was analysed: curate again for fresh results');
        break;
      default:
        letters.add('Q');
        quality.push(`${QUALITY_NAMES[issue.type] ?? issue.type}${score(issue.score)}`);
    }
  }
  if (quality.length) lines.push(`Quality: ${quality.join(', ')}`);
  if (!letters.size) return undefined;
  const sorted = ORDER.filter((l) => letters.has(l));
  const badge = sorted[0] === '!' ? '!' : sorted.slice(0, 2).join('');
  const color =
    sorted[0] === '!' || sorted[0] === 'L'
      ? 'list.errorForeground'
      : sorted[0] === 'Q'
        ? 'editorInfo.foreground'
        : 'list.warningForeground';
  return { badge, tooltip: lines.join('\n'), letters: sorted, color };
}

/**
 * Every file of `report` with an open issue → its badge, keyed by the report's relative path (`/`-separated).
 * `kept`: files whose label the user kept (their label issue is closed).
 */
export function curationBadges(report: CurationReport, kept: ReadonlySet<string> = new Set()): Map<string, FileBadge> {
  const groups = new Map<string, DuplicateGroup>();
  for (const g of report.duplicateGroups) for (const f of g.files) if (!groups.has(f)) groups.set(f, g);
  const out = new Map<string, FileBadge>();
  for (const f of report.files) {
    const b = badgeOf(f, groups, kept);
    if (b) out.set(f.file, b);
  }
  return out;
}
