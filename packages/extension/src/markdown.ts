/** The rich tooltip/hover body: a thumbnail and the top-k labels with confidences. */
import fsp from 'node:fs/promises';
import * as vscode from 'vscode';
import type { Prediction } from '@image-classifier/protocol';
import { modelDisplayName, percent } from './text/format';
import { fitBox, IMAGE_HEADER_BYTES, type ImageSize, imageSize } from './imageSize';
import { altText, escapeMarkdownText } from './text/markdownText';

export { escapeMarkdownText } from './text/markdownText';

const escapeMd = escapeMarkdownText;

/** The image's displayed size from its file's leading bytes (undefined when unreadable or not a known header). */
export async function readImageSize(uri: vscode.Uri): Promise<ImageSize | undefined> {
  try {
    if (uri.scheme === 'file') {
      const fh = await fsp.open(uri.fsPath, 'r');
      try {
        const buf = Buffer.alloc(IMAGE_HEADER_BYTES);
        const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
        return imageSize(buf.subarray(0, bytesRead));
      } finally {
        await fh.close();
      }
    }
    return imageSize(await vscode.workspace.fs.readFile(uri));
  } catch {
    return undefined;
  }
}

/** The widest thumbnail a hover shows (narrower than the hover's smallest maximum width in a split editor). */
export const THUMBNAIL_MAX_WIDTH = 240;

/**
 * A thumbnail image link. VS Code's Markdown renderer understands `|width=…,height=…` after an image link (and
 * rewrites file: URIs for remotes); with the image's `size` known, both are given, fitted in
 * THUMBNAIL_MAX_WIDTH×`height` with its aspect ratio, so a wide or tall picture is neither cut off by the hover nor
 * stretched. Without it only the height is fixed.
 */
export function thumbnail(uri: vscode.Uri, height = 112, size?: ImageSize): string {
  const name = uri.path.split('/').pop() ?? 'image';
  const box = size ? fitBox(size.width, size.height, THUMBNAIL_MAX_WIDTH, height) : undefined;
  const dims = box ? `width=${box.width},height=${box.height}` : `height=${height}`;
  return `![${altText(name)}](${uri.toString(true).replace(/[()\s]/g, encodeURIComponent)}|${dims})`;
}

export function predictionsMarkdown(
  uri: vscode.Uri,
  predictions: readonly Prediction[],
  opts: {
    model?: string;
    thumbnail?: boolean;
    thumbnailHeight?: number;
    /** The image's displayed size, when known (the thumbnail is then fitted to it). */
    imageSize?: ImageSize;
    durationMs?: number;
    cached?: boolean;
    title?: string;
  } = {},
): vscode.MarkdownString {
  const md = new vscode.MarkdownString(undefined, true);
  md.supportHtml = false;
  if (opts.title) md.appendMarkdown(`${escapeMd(opts.title)}\n\n`);
  if (opts.thumbnail !== false) md.appendMarkdown(`${thumbnail(uri, opts.thumbnailHeight, opts.imageSize)}\n\n`);
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
