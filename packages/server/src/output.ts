/**
 * Result records and their text / JSON Lines / CSV renderings.
 */
import { csvRow } from '@image-classifier/protocol/csv';
import type { Prediction } from '@image-classifier/core';

export type OutputFormat = 'text' | 'jsonl' | 'csv';

export type ResultRecord =
  | { file: string; predictions: Prediction[]; logits?: number[]; embedding?: number[] }
  | { file: string; error: { code: string; message: string } };

export function isError(r: ResultRecord): r is Extract<ResultRecord, { error: unknown }> {
  return 'error' in r;
}

export const CSV_HEADER = 'file,rank,index,label,probability,error_code,error_message';

export function formatRecord(r: ResultRecord, format: OutputFormat): string {
  switch (format) {
    case 'jsonl':
      return JSON.stringify(r) + '\n';
    case 'csv':
      if (isError(r)) return csvRow([r.file, '', '', '', '', r.error.code, r.error.message]);
      return r.predictions.map((p, i) => csvRow([r.file, i + 1, p.index, p.label, p.probability, '', ''])).join('');
    case 'text': {
      if (isError(r)) return `${r.file}\n  error ${r.error.code}: ${r.error.message}\n`;
      const lines = r.predictions.map((p) => `  ${(p.probability * 100).toFixed(1).padStart(5)}%  ${p.label}  (${p.index})`);
      return `${r.file}\n${lines.join('\n')}\n`;
    }
  }
}
