/**
 * Result records and their text / JSON Lines / CSV renderings.
 */
import { csvRow } from '@image-classifier/protocol/csv';
import type { Prediction } from '@image-classifier/core/engine';

export type OutputFormat = 'text' | 'jsonl' | 'csv';

export type ResultRecord =
  | { file: string; predictions: Prediction[]; logits?: number[]; embedding?: number[]; answeredBy?: 'remote' | 'local' }
  | { file: string; error: { code: string; message: string } };

export function isError(r: ResultRecord): r is Extract<ResultRecord, { error: unknown }> {
  return 'error' in r;
}

export const CSV_HEADER = 'file,rank,index,label,probability,error_code,error_message';

const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;
const SHORT: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * Text for a terminal: control characters (newlines, escape sequences, C1 codes) in file names, labels and messages
 * written JSON-style (`\n`, `\u001b`), so a hostile name can neither forge lines nor drive the terminal.
 */
export function escapeControl(s: string): string {
  return s.replace(CONTROL, (c) => SHORT[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export function formatRecord(r: ResultRecord, format: OutputFormat): string {
  switch (format) {
    case 'jsonl':
      return JSON.stringify(r) + '\n';
    case 'csv':
      if (isError(r)) return csvRow([r.file, '', '', '', '', r.error.code, r.error.message]);
      return r.predictions.map((p, i) => csvRow([r.file, i + 1, p.index, p.label, p.probability, '', ''])).join('');
    case 'text': {
      const file = escapeControl(r.file);
      if (isError(r)) return `${file}\n  error ${escapeControl(r.error.code)}: ${escapeControl(r.error.message)}\n`;
      const lines = r.predictions.map((p) => `  ${(p.probability * 100).toFixed(1).padStart(5)}%  ${escapeControl(p.label)}  (${p.index})`);
      return `${file}\n${lines.join('\n')}\n`;
    }
  }
}
