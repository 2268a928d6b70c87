/** The files the curation run could not read, as the Overview lists them (pure: no DOM, tested on its own). */
import type { CurationReport } from '@image-classifier/protocol';

export interface UnreadableRow {
  /** The report path (relative to the dataset root). */
  file: string;
  /** The error code (DECODE_FAILED, EMPTY_FILE, READ_FAILED…). */
  code: string;
  /** Why, in a sentence (the issue's detail without its code prefix, and without the file's name: the row shows it). */
  message: string;
}

/** Every file with an `unreadable` issue, in report order; the message names files relative to the dataset. */
export function unreadableRows(report: CurationReport): UnreadableRow[] {
  const rows: UnreadableRow[] = [];
  const root = `${report.root.replace(/[\\/]+$/, '')}/`;
  for (const f of report.files) {
    const issue = f.issues.find((i) => i.type === 'unreadable');
    if (!issue) continue;
    const code = issue.code ?? 'UNREADABLE';
    const detail = issue.detail ?? '';
    // The reader's words, with paths relative to the dataset and without libvips's loader names ("VipsJpeg: ").
    const message = (detail.startsWith(`${code}: `) ? detail.slice(code.length + 2) : detail)
      .split(root.length > 1 ? root : '\0')
      .join('')
      .replace(/\bVips[A-Za-z]*:\s*/g, '');
    rows.push({ file: f.file, code, message: withoutName(message, f.file) });
  }
  return rows;
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The reader's sentence without the file's name at its start (the row names the file once): "b.jpg: Bad header." →
 * "Bad header.", "tool/b.jpg could not be decoded…" → "The file could not be decoded…".
 */
function withoutName(message: string, file: string): string {
  const base = file.split('/').pop() ?? file;
  for (const name of [file, base]) {
    const m = new RegExp(`^${escapeRe(name)}(:\\s*|\\s+)`).exec(message);
    if (!m) continue;
    const rest = message.slice(m[0].length);
    if (!rest) return '';
    return m[1]!.startsWith(':') ? rest[0]!.toUpperCase() + rest.slice(1) : `The file ${rest}`;
  }
  return message;
}

/** The Overview's heading for them: "1 file could not be read", "3 files could not be read". */
export function unreadableHeading(n: number): string {
  return `${n} ${n === 1 ? 'file' : 'files'} could not be read`;
}
