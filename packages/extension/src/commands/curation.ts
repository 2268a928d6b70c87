/** Curate Dataset… (a folder's curation board) and Find Similar Images (an image's nearest neighbours on a board). */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { ISSUE_SECTIONS, SimilarRequest } from '@image-classifier/protocol';
import { folderName } from '../curation/host/folder-name';
import type { IssueTab } from '../curation/shared/issue-counts';
import { type SimilarScope, similarScopes } from '../curation/shared/similar-scope';
import type { CommandContext, CommandHandler } from './context';
import { activeImage, toUri } from './util';

async function pickFolder(): Promise<vscode.Uri | undefined> {
  const picked = await vscode.window.showOpenDialog({
    canSelectFolders: true,
    canSelectFiles: false,
    canSelectMany: false,
    defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
    openLabel: 'Curate',
    title: 'Curate a dataset: pick its folder (class folders inside, optionally under train/val/test)',
  });
  return picked?.[0];
}

export const curateDataset =
  (ctx: CommandContext): CommandHandler =>
  async (arg?: unknown, tab?: unknown) => {
    const root = toUri(arg) ?? (await pickFolder());
    if (!root) return undefined;
    const stat = await vscode.workspace.fs.stat(root).then(
      (s) => s,
      () => undefined,
    );
    if (!stat || !(stat.type & vscode.FileType.Directory)) {
      void vscode.window.showWarningMessage(
        `${vscode.workspace.asRelativePath(root, false)} is not a folder: run Curate Dataset on a dataset's folder.`,
      );
      return undefined;
    }
    const board = ctx.boards.open(root);
    // From the Image Labels view's curation rows: the board on that tab.
    if (typeof tab === 'string' && ISSUE_SECTIONS.some((s) => s.id === tab)) board.showTab(tab as IssueTab);
    return undefined;
  };

export const findSimilar =
  (ctx: CommandContext): CommandHandler =>
  async (arg?: unknown) => {
    const image = toUri(arg) ?? activeImage();
    if (!image) {
      void vscode.window.showWarningMessage('Select an image in the Explorer (or open one), then run Find Similar Images.');
      return undefined;
    }
    const open = ctx.boards.boardOf(image);
    const scope = open ? { kind: 'dataset' as const, root: open.root.fsPath } : await pickScope(ctx, image);
    if (!scope) return undefined;
    if (scope.kind === 'folder') return searchFolder(ctx, image, vscode.Uri.file(scope.root));
    // A dataset curated before: its board (opened again if closed), the image's neighbours on its Similar tab.
    const board = open ?? ctx.boards.open(vscode.Uri.file(scope.root));
    board.panel.reveal();
    await board.findSimilar(image);
    return undefined;
  };

const rel = (u: vscode.Uri) => vscode.workspace.asRelativePath(u, false);

/** The dataset holding the image, or the user's pick among the curated datasets and the image's own folder. */
async function pickScope(ctx: CommandContext, image: vscode.Uri): Promise<SimilarScope | undefined> {
  const curated = ctx.boards.curatedRoots().filter((u) => u.scheme === 'file');
  const { direct, choices } = similarScopes(
    image.fsPath.split(path.sep).join('/'),
    curated.map((u) => u.fsPath.split(path.sep).join('/')),
  );
  if (direct) return direct;
  const items = choices.map((c) => {
    const name = folderName(vscode.Uri.file(c.root));
    return c.kind === 'dataset'
      ? { label: `$(database) ${name}`, description: 'a curated dataset', scope: c }
      : { label: `$(folder) ${name}`, description: "this image's folder and its subfolders (no analysis)", scope: c };
  });
  const picked = await vscode.window.showQuickPick(items, {
    title: `Find images similar to ${rel(image)}`,
    placeHolder: `${path.basename(image.fsPath)} is in no curated dataset: where to search?`,
  });
  return picked?.scope;
}

/** The image's neighbours in a folder that is not curated (embeddings through the cache, no analysis), to pick from. */
async function searchFolder(ctx: CommandContext, image: vscode.Uri, root: vscode.Uri): Promise<undefined> {
  const res = await vscode.window.withProgress(
    {
      location: vscode.ProgressLocation.Notification,
      title: `Finding images similar to ${path.basename(image.fsPath)} in ${folderName(root)}…`,
    },
    () => ctx.server.client.sendRequest(SimilarRequest.type, { uri: image.toString(), k: 24, root: root.toString() }),
  );
  const items = res.items
    .filter((h) => h.uri !== image.toString())
    .map((h) => ({ label: h.file, description: `${(h.similarity * 100).toFixed(0)}% similar`, uri: vscode.Uri.parse(h.uri) }));
  const picked = await vscode.window.showQuickPick(items, {
    title: `Images in ${folderName(root)} similar to ${path.basename(image.fsPath)} (${res.indexed} searched)`,
    placeHolder: items.length ? 'Pick one to open it' : 'No other image in this folder',
    matchOnDescription: true,
  });
  if (picked) await vscode.commands.executeCommand('vscode.open', picked.uri, { preview: true });
  return undefined;
}
