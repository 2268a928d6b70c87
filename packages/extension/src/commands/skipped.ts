/** Images a run could not classify: why, in words, in the notification and in the view's "Could not classify" group. */
import type { BatchItem } from '@image-classifier/protocol';
import { classifiableFormatNames, formatForPath } from '@image-classifier/protocol/formats';
import * as vscode from 'vscode';
import type { ResultStore, SkippedImage } from '../results';
import { userFacingPaths } from '../userPaths';

/** Why the file cannot be classified, as a sentence a person can act on. */
export function whyNotClassifiable(uri: vscode.Uri): string {
  const format = formatForPath(uri.path);
  if (format?.unsupportedReason) return format.unsupportedReason;
  return `it is not an image format Image Classifier reads (${classifiableFormatNames()}).`;
}

function toSkipped(unreadable: vscode.Uri[], failed: BatchItem[]): SkippedImage[] {
  return [
    ...unreadable.map((uri) => ({ uri, code: 'UNSUPPORTED_FORMAT', reason: whyNotClassifiable(uri) })),
    ...failed.map((f) => ({
      uri: vscode.Uri.parse(f.uri),
      code: f.error?.code ?? 'INTERNAL',
      reason: userFacingPaths(f.error?.message ?? 'The image could not be read.'),
    })),
  ];
}

/** Lists the skipped images in the store (the Image Labels view shows them). */
export function recordSkipped(store: ResultStore, unreadable: vscode.Uri[], failed: BatchItem[]): void {
  store.setSkipped(toSkipped(unreadable, failed));
}

/** `Skipped 2: 1 HEIC (HEVC) file (HEIC images are … decoder …), 1 could not be read (DECODE_FAILED). …` */
export function skippedSentence(unreadable: vscode.Uri[], failed: BatchItem[]): string {
  const parts: string[] = [];
  const byFormat = new Map<string, vscode.Uri[]>();
  for (const u of unreadable) {
    const name = formatForPath(u.path)?.name ?? 'unknown format';
    byFormat.set(name, [...(byFormat.get(name) ?? []), u]);
  }
  for (const [name, uris] of byFormat) {
    const why = whyNotClassifiable(uris[0]!)
      .split(/(?<=\.)\s/)[0]!
      .replace(/\s*\([^)]*\)/g, '')
      .replace(/\.$/, '');
    parts.push(`${uris.length} ${name} file${uris.length === 1 ? '' : 's'} (${why})`);
  }
  const byCode = new Map<string, number>();
  for (const f of failed) byCode.set(f.error?.code ?? 'INTERNAL', (byCode.get(f.error?.code ?? 'INTERNAL') ?? 0) + 1);
  for (const [code, n] of byCode) parts.push(`${n} could not be read (${code})`);
  const total = unreadable.length + failed.length;
  return `Skipped ${total}: ${parts.join('; ')}. The Image Labels view lists ${total === 1 ? 'it' : 'them'} under "Could not classify".`;
}
