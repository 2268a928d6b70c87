/** Curate Dataset… (a folder's curation board) and Find Similar Images (an image's nearest neighbours on a board). */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { IssueTab } from '../curation/issue-counts';
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
    if (typeof tab === 'string' && ISSUE_TABS.includes(tab as IssueTab)) board.showTab(tab as IssueTab);
    return undefined;
  };

const ISSUE_TABS: IssueTab[] = ['labels', 'duplicates', 'outliers', 'quality'];

export const findSimilar =
  (ctx: CommandContext): CommandHandler =>
  async (arg?: unknown) => {
    const image = toUri(arg) ?? activeImage();
    if (!image) {
      void vscode.window.showWarningMessage('Select an image in the Explorer (or open one), then run Find Similar Images.');
      return undefined;
    }
    // The open board holding the image, else the board of the folder above its class folder.
    const board = ctx.boards.boardOf(image) ?? ctx.boards.open(vscode.Uri.file(path.dirname(path.dirname(image.fsPath))));
    board.panel.reveal();
    const rel = path.relative(board.root.fsPath, image.fsPath).split(path.sep).join('/');
    await board.findSimilar(rel);
    return undefined;
  };
