/**
 * Hovering an image path in a text document (Markdown, HTML, CSS, JSON, YAML, JS/TS, Python, …) shows the top-k
 * labels, classifying the image on the spot when `imageClassifier.autoClassify` allows it, and a thumbnail unless
 * VS Code shows its own (Markdown previews the images its links point to): one picture per hover.
 */
import { formatForPath, isClassifiablePath } from '@image-classifier/protocol/formats';
import * as vscode from 'vscode';
import type { ClassificationQueue } from './classificationQueue';
import { toUserError } from './errors';
import { imageReferenceAt } from './imageLinks';
import { escapeMarkdownText, predictionsMarkdown, readImageSize, thumbnail } from './markdown';
import type { ResultStore } from './results';
import { autoClassify, topK } from './settings';
import { userFacingPaths } from './userPaths';

/** The tallest hover thumbnail: short enough that the labels below it fit a hover in a short window. */
const THUMBNAIL_HEIGHT = 96;

export class ImagePathHover implements vscode.HoverProvider {
  constructor(
    private readonly store: ResultStore,
    private readonly classifier: ClassificationQueue,
  ) {}

  async provideHover(doc: vscode.TextDocument, pos: vscode.Position, token: vscode.CancellationToken): Promise<vscode.Hover | undefined> {
    if (doc.lineAt(pos.line).text.length > 10_000) return undefined;
    const ref = await imageReferenceAt(doc, pos);
    if (!ref || token.isCancellationRequested) return undefined;
    const { uri, range } = ref;
    // VS Code's Markdown hover already previews the image a link points to.
    const ownThumbnail = !(ref.fromLinkProvider && doc.languageId === 'markdown');
    const size = ownThumbnail ? await readImageSize(uri) : undefined;
    if (token.isCancellationRequested) return undefined;
    const pic = (md: vscode.MarkdownString) => (ownThumbnail ? `${thumbnail(uri, THUMBNAIL_HEIGHT, size)}\n\n` : '') + md.value;
    const opts = { thumbnail: ownThumbnail, thumbnailHeight: THUMBNAIL_HEIGHT, imageSize: size };
    if (!isClassifiablePath(uri.path)) {
      const reason = formatForPath(uri.path)?.unsupportedReason ?? 'Image Classifier does not read this format.';
      return new vscode.Hover(new vscode.MarkdownString(`$(warning) Not classified: ${escapeMarkdownText(reason)}`, true), range);
    }
    const existing = this.store.get(uri);
    const k = topK();
    if (existing)
      return new vscode.Hover(
        predictionsMarkdown(uri, existing.predictions.slice(0, k), { ...opts, model: existing.model, cached: true }),
        range,
      );
    if (autoClassify() === 'off') {
      const args = encodeURIComponent(JSON.stringify([uri.toString()]));
      const md = new vscode.MarkdownString(
        `[$(sparkle) Classify Image](command:imageClassifier.classifyImage?${args} "Classify this image")`,
        true,
      );
      const out = new vscode.MarkdownString(pic(md), true);
      out.isTrusted = { enabledCommands: ['imageClassifier.classifyImage'] };
      return new vscode.Hover(out, range);
    }
    try {
      // Not cancelled with the hover: the answer is stored, so the next hover is instant.
      const r = await this.classifier.classify(uri);
      const md = predictionsMarkdown(uri, r.predictions.slice(0, k), {
        ...opts,
        model: r.model,
        durationMs: r.durationMs,
        cached: r.cached,
      });
      return new vscode.Hover(md, range);
    } catch (e) {
      const u = toUserError(e, 'Classifying the image');
      if (u.code === 'CANCELLED') return undefined;
      const md = new vscode.MarkdownString(`$(warning) ${escapeMarkdownText(userFacingPaths(u.message))}`, true);
      // An image that cannot be decoded gets no thumbnail (the editor would draw a blank or partial picture).
      const unreadable = u.code === 'DECODE_FAILED' || u.code === 'EMPTY_FILE' || u.code === 'UNSUPPORTED_FORMAT';
      return new vscode.Hover(unreadable ? md : new vscode.MarkdownString(pic(md), true), range);
    }
  }
}
