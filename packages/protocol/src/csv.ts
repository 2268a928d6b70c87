/**
 * CSV (RFC 4180) for every export the product writes: the CLI's `--format csv` (classify and curate), the
 * extension's label export and the curation board's export. A field is quoted when it holds a quote, a comma or a
 * line break, or starts or ends with whitespace (which spreadsheet programs would otherwise trim). A text field
 * that a spreadsheet would run as a formula (OWASP's CSV injection rule: it starts with `=`, `+`, `-`, `@`, a tab or
 * a carriage return, e.g. a file named `=1+2.jpg`) gets a leading `'`, which spreadsheets show as text, and is
 * quoted. Numbers (a negative score) are written as they are.
 */
const FORMULA_START = /^[=+\-@\t\r]/;

export function csvField(v: string | number): string {
  if (typeof v === 'number') return String(v);
  const s = FORMULA_START.test(v) ? `'${v}` : v;
  return s !== v || /[",\r\n]/.test(s) || /^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One CSV line, with its line break. */
export function csvRow(fields: ReadonlyArray<string | number>): string {
  return `${fields.map(csvField).join(',')}\n`;
}
