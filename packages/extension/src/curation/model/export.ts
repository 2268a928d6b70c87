/**
 * The curation export, as text: `curation-issues.csv` and `curation-issues.json` (one row per file with an issue, a
 * decision, or a board action since the report: file, where it is now, split, folder label, suggested label, issue
 * types, scores, decision) and `clean-files.txt` (for training scripts).
 *
 * The clean list holds the files with no open issue, one path per line (relative to the dataset folder, at its
 * current path, sorted, no header), open by open-issues.ts (the board's own rule): a label issue is closed once the
 * file is moved or its label kept, a duplicate once fewer than two files of its group are left (the others trashed),
 * and every other issue (outlier, quality, unreadable, changed) stays open until the file is trashed. Trashed files and
 * files added after the report are not in it; a name with a line break cannot be one line and is left out (the JSON
 * lists it). Pure functions.
 */
import { type CurationFile, type CurationReport, csvRow } from '@image-classifier/protocol';
import { fileIssueOpener } from '../shared/open-issues';
import { placeOf } from './paths';

export const EXPORT_VERSION = 1 as const;

export type ExportDecision = '' | 'keep' | 'moved' | 'trashed';

export interface ExportInput {
  /** Kept files (decisions.json), by current path. */
  kept: ReadonlySet<string>;
  /** Where a report file is now: its new path after a move, null when trashed; absent = unchanged. */
  locations: ReadonlyMap<string, string | null>;
  now: Date;
}

export interface ExportRow {
  file: string;
  /** Its path now ('' when trashed). */
  currentFile: string;
  split: string;
  folderLabel: string;
  /** Its class folder now ('' when trashed or not in a class folder). */
  currentLabel: string;
  suggestedLabel: string;
  labelQuality?: number;
  issues: { type: string; score?: number; detail?: string }[];
  decision: ExportDecision;
}

const round = (x: number) => Math.round(x * 10000) / 10000;

function rowOf(f: CurationFile, input: ExportInput): ExportRow {
  const loc = input.locations.has(f.file) ? input.locations.get(f.file)! : f.file;
  const decision: ExportDecision = loc === null ? 'trashed' : loc !== f.file ? 'moved' : input.kept.has(f.file) ? 'keep' : '';
  return {
    file: f.file,
    currentFile: loc ?? '',
    split: f.split ?? '',
    folderLabel: f.label ?? '',
    currentLabel: loc === null ? '' : (placeOf(loc).label ?? ''),
    suggestedLabel: f.suggestedLabel ?? '',
    ...(f.labelQuality !== undefined ? { labelQuality: round(f.labelQuality) } : {}),
    issues: f.issues.map((i) => ({
      type: i.type,
      ...(i.score !== undefined ? { score: round(i.score) } : {}),
      ...(i.detail !== undefined ? { detail: i.detail } : {}),
    })),
    decision,
  };
}

/** The rows: report files with an issue, a decision or a board action since, in the report's order. */
export function exportRows(report: CurationReport, input: ExportInput): ExportRow[] {
  return report.files.map((f) => rowOf(f, input)).filter((r) => r.issues.length > 0 || r.decision !== '');
}

export const CSV_HEADER = [
  'file',
  'current_file',
  'split',
  'folder_label',
  'current_label',
  'suggested_label',
  'issue_types',
  'label_quality',
  'scores',
  'decision',
] as const;

/** curation-issues.csv: issue types and `type=score` pairs are joined with `;`. */
export function issuesCsv(rows: ExportRow[]): string {
  const lines = [csvRow([...CSV_HEADER])];
  for (const r of rows) {
    const scores = r.issues.filter((i) => i.score !== undefined).map((i) => `${i.type}=${i.score}`);
    lines.push(
      csvRow([
        r.file,
        r.currentFile,
        r.split,
        r.folderLabel,
        r.currentLabel,
        r.suggestedLabel,
        r.issues.map((i) => i.type).join(';'),
        r.labelQuality ?? '',
        scores.join(';'),
        r.decision,
      ]),
    );
  }
  return lines.join('');
}

/** curation-issues.json: the rows plus the report's identity and duplicate groups. */
export function issuesJson(report: CurationReport, rows: ExportRow[], now: Date): string {
  const out = {
    version: EXPORT_VERSION,
    exportedAt: now.toISOString(),
    report: { root: report.root, createdAt: report.createdAt, model: report.model.name, checks: report.checks },
    files: rows,
    duplicateGroups: report.duplicateGroups,
  };
  return `${JSON.stringify(out, null, 2)}\n`;
}

/** clean-files.txt: the files with no open issue, at their current paths, one per line, sorted (no header). */
export function cleanFileList(report: CurationReport, input: ExportInput): string {
  const where = (file: string) => (input.locations.has(file) ? input.locations.get(file)! : file);
  const isOpen = fileIssueOpener(report, { currentOf: where }, input.kept);
  const paths: string[] = [];
  for (const f of report.files) {
    const loc = where(f.file);
    if (loc === null || /[\r\n]/.test(loc)) continue;
    if (!f.issues.some((i) => isOpen(f.file, i))) paths.push(loc);
  }
  paths.sort();
  return paths.map((p) => `${p}\n`).join('');
}

/** The three export files' names and contents. */
export function buildExport(report: CurationReport, input: ExportInput): { name: string; text: string }[] {
  const rows = exportRows(report, input);
  return [
    { name: 'curation-issues.csv', text: issuesCsv(rows) },
    { name: 'curation-issues.json', text: issuesJson(report, rows, input.now) },
    { name: 'clean-files.txt', text: cleanFileList(report, input) },
  ];
}
