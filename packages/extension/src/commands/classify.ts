/** Classify Image, Classify Folder, Classify All Images in the Workspace. */
import { isClassifiablePath } from '@image-classifier/protocol/formats';
import * as vscode from 'vscode';
import type { BatchOutcome } from '../classificationQueue';
import { labelLine } from '../text/format';
import { topK } from '../settings';
import type { CommandContext, CommandHandler } from './context';
import { recordSkipped, skippedSentence, whyNotClassifiable } from './skipped';
import { activeImage, basename, imagesUnder, showError, toUri, unreadableImagesUnder } from './util';

/** Classifies many images with a cancellable progress notification; results stream into the view. */
async function classifyWithProgress(
  ctx: CommandContext,
  uris: vscode.Uri[],
  title: string,
  unreadable: vscode.Uri[] = [],
): Promise<BatchOutcome | undefined> {
  if (uris.length === 0) {
    recordSkipped(ctx.store, unreadable, []);
    const why = unreadable.length ? ` ${skippedSentence(unreadable, [])}` : '';
    void vscode.window.showInformationMessage(`No images Image Classifier can read in ${title}.${why}`);
    return undefined;
  }
  const t0 = Date.now();
  const outcome = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Classifying ${title}`, cancellable: true },
    async (progress, token) => {
      let reported = 0;
      // Counted over every file found: the ones no decoder reads are settled at once (and said so).
      const all = uris.length + unreadable.length;
      const skippedNote = unreadable.length ? ` · ${unreadable.length} skipped` : '';
      progress.report({ message: `${unreadable.length}/${all} · starting…${skippedNote}` });
      return ctx.queue.classifyMany(uris, {
        force: false,
        token,
        onCount: (done) => {
          const pct = Math.floor(((done + unreadable.length) / all) * 100);
          const secs = (Date.now() - t0) / 1000;
          const rate = secs > 0 ? done / secs : 0;
          progress.report({
            increment: pct - reported,
            message: `${done + unreadable.length}/${all} · ${rate.toFixed(1)} images/s${skippedNote}`,
          });
          reported = pct;
        },
      });
    },
  );
  const secs = Math.max((Date.now() - t0) / 1000, 0.001);
  const rate = (outcome.done / secs).toFixed(1);
  recordSkipped(ctx.store, unreadable, outcome.failed);
  const skipped = unreadable.length + outcome.failed.length;
  const failedNote = skipped ? ` ${skippedSentence(unreadable, outcome.failed)}` : '';
  if (outcome.cancelled) {
    void vscode.window.showInformationMessage(
      `Cancelled: ${outcome.done} of ${outcome.total} images in ${title} were classified; their labels are kept.${failedNote}`,
    );
  } else {
    const of = skipped ? ` of ${outcome.total + unreadable.length}` : '';
    const msg = `Classified ${outcome.done}${of} image${outcome.done === 1 && !of ? '' : 's'} in ${title} (${rate} images/s).${failedNote}`;
    void vscode.window.showInformationMessage(msg, 'Show Image Labels').then((a) => {
      if (a) void vscode.commands.executeCommand('imageClassifier.labels.focus');
    });
  }
  return outcome;
}

/** Reveals the image's node in the Image Labels view (or just focuses the view). */
async function revealInLabels(ctx: CommandContext, uri: vscode.Uri): Promise<void> {
  const node = ctx.view
    .getChildren()
    .flatMap((g) => ctx.view.getChildren(g))
    .find((n) => n.kind === 'image' && n.result.uri.toString() === uri.toString());
  if (node && ctx.view.view) await ctx.view.view.reveal(node, { focus: true, select: true });
  else await vscode.commands.executeCommand('imageClassifier.labels.focus');
}

export const classifyImage =
  (ctx: CommandContext): CommandHandler =>
  async (arg?: unknown, multi?: unknown) => {
    const many = Array.isArray(multi) ? multi.map(toUri).filter((u): u is vscode.Uri => !!u && isClassifiablePath(u.path)) : [];
    if (many.length > 1) return classifyWithProgress(ctx, many, `${many.length} images`);
    const uri = toUri(arg) ?? activeImage();
    if (!uri) {
      void vscode.window.showWarningMessage(
        'Classify Image needs an image: open one (its preview becomes the active tab) or right-click one in the Explorer.',
      );
      return undefined;
    }
    if (!isClassifiablePath(uri.path)) {
      void vscode.window.showWarningMessage(`${basename(uri)} cannot be classified: ${whyNotClassifiable(uri)}`);
      return undefined;
    }
    let r: Awaited<ReturnType<typeof ctx.queue.classify>>;
    try {
      r = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Window, title: `$(sync~spin) Classifying ${basename(uri)}…` },
        () => ctx.queue.classify(uri, { force: false }),
      );
    } catch (e) {
      void showError(e, `Classifying ${basename(uri)}`, ctx.output, uri);
      return undefined;
    }
    const top = r.predictions[0];
    const msg = top ? `${basename(uri)}: ${labelLine(r.predictions, topK())}` : `${basename(uri)}: no labels.`;
    void vscode.window.showInformationMessage(msg, 'Show in Image Labels').then(async (a) => {
      if (a) await revealInLabels(ctx, uri);
    });
    return r;
  };

export const classifyFolder =
  (ctx: CommandContext): CommandHandler =>
  async (arg?: unknown, multi?: unknown) => {
    let folders = Array.isArray(multi) ? multi.map(toUri).filter((u): u is vscode.Uri => !!u) : [];
    if (folders.length <= 1) folders = [toUri(arg)].filter((u): u is vscode.Uri => !!u);
    if (!folders.length) {
      const picked = await vscode.window.showOpenDialog({
        canSelectFolders: true,
        canSelectFiles: false,
        canSelectMany: true,
        defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
        openLabel: 'Classify',
        title: 'Classify the images in a folder',
      });
      if (!picked?.length) return undefined;
      folders = picked;
    }
    const [uris, unreadable] = await Promise.all([imagesUnder(folders), unreadableImagesUnder(folders)]);
    const title =
      folders.length === 1
        ? `'${vscode.workspace.asRelativePath(folders[0]!, false) || basename(folders[0]!)}'`
        : `${folders.length} folders`;
    return classifyWithProgress(ctx, uris, title, unreadable);
  };

export const classifyWorkspace =
  (ctx: CommandContext): CommandHandler =>
  async () => {
    const folders = (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri);
    if (!folders.length) {
      void vscode.window.showInformationMessage('Open a folder first: Image Classifier classifies the images in the workspace folders.');
      return undefined;
    }
    const [uris, unreadable] = await Promise.all([imagesUnder(folders), unreadableImagesUnder(folders)]);
    return classifyWithProgress(ctx, uris, 'the workspace', unreadable);
  };
