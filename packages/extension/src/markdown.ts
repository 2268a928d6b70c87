/** The rich tooltip/hover body: a thumbnail and the top-k labels with confidences. */
import * as vscode from 'vscode';
import type { Prediction } from '@image-classifier/protocol';
import { modelDisplayName, percent } from './text/format';
import { altText, escapeMarkdownText } from './text/markdownText';

export { escapeMarkdownText } from './text/markdownText';

const escapeMd = escapeMarkdownText;

export function thumbnail(uri: vscode.Uri, height = 112): string {
  // VS Code's Markdown renderer understands `|height=` after an image link and rewrites file: URIs for remotes.
  const name = uri.path.split('/').pop() ?? 'image';
  return `![${altText(name)}](${uri.toString(true).replace(/[()\s]/g, encodeURIComponent)}|height=${height})`;
}

export function predictionsMarkdown(
  uri: vscode.Uri,
  predictions: readonly Prediction[],
  opts: { model?: string; thumbnail?: boolean; thumbnailHeight?: number; durationMs?: number; cached?: boolean; title?: string } = {},
): vscode.MarkdownString {
  const md = new vscode.MarkdownString(undefined, true);
  md.supportHtml = false;
  if (opts.title) md.appendMarkdown(`${escapeMd(opts.title)}\n\n`);
  if (opts.thumbnail !== false) md.appendMarkdown(`${thumbnail(uri, opts.thumbnailHeight)}\n\n`);
  // One line per label (a table would be taller than the hover allows).
  const lines = predictions.map((p, i) =>
    i === 0 ? `**${escapeMd(p.label)}** ${percent(p.probability)}` : `${escapeMd(p.label)} ${percent(p.probability)}`,
  );
  md.appendMarkdown(`${lines.join('  \n')}\n\n`);
  const foot = [
    opts.model ? modelDisplayName(opts.model) : undefined,
    opts.cached ? 'cached' : opts.durationMs !== undefined ? `${Math.round(opts.durationMs)} ms` : undefined,
  ]
    .filter(Boolean)
    .join(' · ');
  if (foot) md.appendMarkdown(`*$(symbol-misc) ${escapeMd(foot)}*`);
  return md;
}
