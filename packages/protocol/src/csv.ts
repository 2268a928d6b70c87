/**
 * CSV (RFC 4180) for every export the product writes: the CLI's `--format csv`, the extension's label export.
 * A field is quoted when it holds a quote, a comma or a line break, or starts or ends with whitespace (which
 * spreadsheet programs would otherwise trim).
 */
export function csvField(v: string | number): string {
  const s = String(v);
  return /[",\r\n]/.test(s) || /^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One CSV line, with its line break. */
export function csvRow(fields: ReadonlyArray<string | number>): string {
  return `${fields.map(csvField).join(',')}\n`;
}
