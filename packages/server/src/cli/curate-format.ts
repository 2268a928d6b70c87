/**
 * The curate command's outputs: a terminal summary (control characters in names escaped), the JSON report, and CSV
 * (one row per file and issue; formula-like fields guarded by protocol's csvField).
 */
import type { CurationReport, IssueSectionId } from '@image-classifier/protocol';
import { countText, csvRow, ISSUE_SECTIONS, issueKind } from '@image-classifier/protocol';
import { escapeControl } from '../output.js';

export const CURATE_CSV_HEADER = 'file,label,split,label_quality,suggested_label,predicted,issue,score,detail';

export function curateCsv(r: CurationReport): string {
  const lines = [`${CURATE_CSV_HEADER}\n`];
  for (const f of r.files) {
    const base = [f.file, f.label ?? '', f.split ?? '', f.labelQuality ?? '', f.suggestedLabel ?? '', f.predicted?.label ?? ''];
    if (f.issues.length === 0) lines.push(csvRow([...base, '', '', '']));
    for (const i of f.issues) lines.push(csvRow([...base, i.type, i.score ?? '', i.detail ?? '']));
  }
  for (const s of r.skipped) lines.push(csvRow([s.file, '', '', '', '', '', 'skipped', '', s.reason]));
  return lines.join('');
}

function issueCounts(r: CurationReport): Map<string, number> {
  const counts = new Map<string, number>();
  for (const f of r.files) for (const i of f.issues) counts.set(i.type, (counts.get(i.type) ?? 0) + 1);
  return counts;
}

function pad(s: string | number, n: number): string {
  return String(s).padEnd(n);
}

function classTable(r: CurationReport): string[] {
  if (!r.classes.length) return [];
  const w = Math.max(5, ...r.classes.map((c) => c.name.length));
  const concepts = r.classes.some((c) => c.concept);
  const head = `${pad('class', w)}  files  label issues  balance${concepts ? '  WordNet synset (ImageNet classes below, agreement)' : ''}`;
  const out = ['', `${head}${r.layout.splits.length ? '  per split' : ''}`];
  for (const c of r.classes.slice(0, 50)) {
    const splits = c.perSplit
      ? `  ${Object.entries(c.perSplit)
          .map(([s, n]) => `${s} ${n}`)
          .join(', ')}`
      : '';
    const k = c.concept;
    const concept = !concepts
      ? ''
      : k?.synset
        ? `  ${k.name} ${k.synset} (${k.imagenetClasses}, ${(k.agreement * 100).toFixed(0)} %)`
        : '  none';
    out.push(
      `${pad(c.name, w)}  ${pad(c.files, 5)}  ${pad(c.labelIssues, 12)}  ${(c.relativeSize * 100).toFixed(0).padStart(6)} %${concept}${splits}`,
    );
  }
  if (r.classes.length > 50) out.push(`… and ${r.classes.length - 50} more classes (see the JSON report)`);
  return out;
}

const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** How each report section reads in the text summary: its list, the note after its count, a line or two per entry. */
const SECTION_TEXT: Record<
  IssueSectionId,
  {
    list: (r: CurationReport) => readonly unknown[];
    note?: (r: CurationReport) => string;
    lines: (r: CurationReport, top: number) => string[];
  }
> = {
  labels: {
    list: (r) => r.labelIssues,
    note: (r) => {
      const est = r.counts.estimatedLabelErrors;
      return `, most suspect first${est === undefined ? '' : `; confident learning estimates ${est} real label error${est === 1 ? '' : 's'}`}`;
    },
    lines: (r, top) =>
      r.labelIssues
        .slice(0, top)
        .flatMap((l) => [
          `  ${l.file}  in '${l.label}', looks like '${l.suggestedLabel}'  (label quality ${l.score.toFixed(3)})`,
          ...(l.reasons?.length ? [`      ${l.reasons.slice(0, 2).join('; ')}`] : []),
        ]),
  },
  duplicates: {
    list: (r) => r.duplicateGroups,
    lines: (r, top) =>
      r.duplicateGroups.slice(0, top).map((g) => {
        const flags = [g.conflictingLabels ? 'CONFLICTING LABELS' : '', g.crossSplit ? 'CROSS-SPLIT LEAKAGE' : '']
          .filter(Boolean)
          .join(', ');
        return `  ${g.kind.padEnd(5)}  ${g.files.join('  ')}${flags ? `  [${flags}]` : ''}`;
      }),
  },
  outliers: {
    list: (r) => r.outliers,
    note: () => ', most isolated first',
    lines: (r, top) =>
      r.outliers
        .slice(0, top)
        .map((o) =>
          o.kind && o.kind !== 'embedding'
            ? `  ${o.file}  ${kindTitle(o.kind).toLowerCase()}: ${o.reason}`
            : `  ${o.file}  (mean kNN cosine distance ${o.score.toFixed(3)})`,
        ),
  },
  quality: {
    list: (r) => r.quality,
    lines: (r, top) => r.quality.slice(0, top).map((q) => `  ${q.file}  ${kindTitle(q.type)} (score ${q.score}, threshold ${q.threshold})`),
  },
};

const kindTitle = (id: string) => issueKind(id)?.title ?? id;

/** Per report section (ISSUE_SECTIONS' order), its count and its first `top` entries. */
function worstExamples(r: CurationReport, top: number): string[] {
  const out: string[] = [];
  for (const s of ISSUE_SECTIONS) {
    const text = SECTION_TEXT[s.id];
    const n = text.list(r).length;
    if (!n) continue;
    out.push('', `${cap(s.many)} (${n}${text.note?.(r) ?? ''}):`, ...text.lines(r, top));
  }
  return out;
}

export function curateText(r: CurationReport, top = 10): string {
  const c = r.counts;
  const layout = r.layout.flat
    ? 'flat folder (no class folders)'
    : `${r.layout.classes} classes${r.layout.splits.length ? `, splits ${r.layout.splits.join(', ')}` : ''}`;
  const out = [`Dataset ${r.root}: ${c.files} images, ${layout}; ${c.analysed} analysed, ${c.unreadable} unreadable, ${c.skipped} skipped`];
  const counts = [...issueCounts(r).entries()].sort((a, b) => b[1] - a[1]);
  const words = (t: string, n: number) => {
    const k = issueKind(t);
    return k ? countText(n, k) : `${n} ${t}`;
  };
  out.push(counts.length ? `Files per issue: ${counts.map(([t, n]) => words(t, n)).join(', ')}` : 'No issues found.');
  out.push(...classTable(r), ...worstExamples(r, top));
  const unreadable = r.files.filter((f) => f.issues.some((i) => i.type === 'unreadable'));
  if (unreadable.length) {
    out.push('', `Unreadable (${unreadable.length}):`);
    for (const f of unreadable.slice(0, top)) out.push(`  ${f.issues.find((i) => i.type === 'unreadable')!.detail}`);
  }
  if (r.skipped.length) {
    out.push('', `Skipped (${r.skipped.length}):`);
    for (const s of r.skipped.slice(0, top)) out.push(`  ${s.file}: ${s.reason}`);
  }
  for (const w of r.warnings) out.push(`Note: ${w}`);
  const t = r.timingsMs;
  out.push(
    '',
    `Took ${(t.total / 1000).toFixed(1)} s (reading + embedding ${(t.extract / 1000).toFixed(1)} s, analysis ${(t.analyse / 1000).toFixed(1)} s).`,
  );
  // One entry per line; names, labels and reasons come from the disk: control characters (ESC, BEL, line breaks)
  // are written escaped, as classify's text output does, so a name can neither forge lines nor drive the terminal.
  return `${out.map(escapeControl).join('\n')}\n`;
}
