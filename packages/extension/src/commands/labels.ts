/** The results: Export Labels…, Minimum Confidence…, Clear Results and the Image Labels view's item actions. */
import * as vscode from 'vscode';
import { type ExportRow, percent, shortLabel, toCsv, toJson } from '../text/format';
import type { LabelNode } from '../labelsView';
import { SECTION } from '../settings';
import type { CommandContext, CommandHandler } from './context';
import { toUri, updateSetting } from './util';

/** Where to export: `target` (tests only: a URI that must not exist yet), else the save dialog's choice. */
async function exportTarget(target: unknown): Promise<vscode.Uri | undefined> {
  // Users always go through the save dialog, which asks before overwriting an existing file.
  const uri = toUri(target);
  if (uri) {
    try {
      await vscode.workspace.fs.stat(uri);
      throw Object.assign(new Error(`${uri.fsPath} already exists; not overwriting it.`), { data: { code: 'INVALID_ARGUMENT' } });
    } catch (e) {
      if (!(e instanceof vscode.FileSystemError)) throw e;
    }
    return uri;
  }
  const base = vscode.workspace.workspaceFolders?.[0]?.uri;
  return vscode.window.showSaveDialog({
    title: 'Export image labels',
    saveLabel: 'Export',
    defaultUri: base ? vscode.Uri.joinPath(base, 'image-labels.csv') : undefined,
    filters: { CSV: ['csv'], JSON: ['json'] },
  });
}

export const exportLabels =
  (ctx: CommandContext): CommandHandler =>
  async (target?: unknown) => {
    const rows: ExportRow[] = ctx.store
      .all()
      .map((r) => ({ path: vscode.workspace.asRelativePath(r.uri, true), predictions: r.predictions, model: r.model }))
      .sort((a, b) => a.path.localeCompare(b.path));
    if (!rows.length) {
      void vscode.window.showInformationMessage('Nothing to export yet: classify some images first.');
      return undefined;
    }
    const uri = await exportTarget(target);
    if (!uri) return undefined;
    const json = /\.json$/i.test(uri.path);
    await vscode.workspace.fs.writeFile(uri, Buffer.from(json ? toJson(rows) : toCsv(rows), 'utf8'));
    void vscode.window.showInformationMessage(
      `Exported the labels of ${rows.length} image${rows.length === 1 ? '' : 's'} to ${vscode.workspace.asRelativePath(uri)}.`,
    );
    return uri;
  };

export const setMinConfidence = (): CommandHandler => async (value?: unknown) => {
  let v: number | undefined = typeof value === 'number' ? value : undefined;
  if (v === undefined) {
    const cur = vscode.workspace.getConfiguration(SECTION).get<number>('minConfidence', 0);
    const choices = [0, 0.1, 0.25, 0.5, 0.75, 0.9];
    const pick = await vscode.window.showQuickPick(
      choices.map((c) => ({
        label: c === 0 ? 'Show all' : `≥ ${percent(c)}`,
        value: c,
        picked: c === cur,
        description: c === cur ? 'current' : undefined,
      })),
      { title: 'Hide images whose top label is less confident than…' },
    );
    if (!pick) return undefined;
    v = pick.value;
  }
  await updateSetting('minConfidence', Math.min(Math.max(v, 0), 1));
  return v;
};

export const clearResults =
  (ctx: CommandContext): CommandHandler =>
  () =>
    ctx.store.clear();

export const classifyAgain =
  (ctx: CommandContext): CommandHandler =>
  async (node?: LabelNode) => {
    const uri = toUri(node);
    if (!uri) return undefined;
    return ctx.queue.classify(uri, { force: true });
  };

export const revealInExplorer = (): CommandHandler => async (node?: LabelNode) => {
  const uri = toUri(node);
  if (uri) await vscode.commands.executeCommand('revealInExplorer', uri);
};

export const copyLabel = (): CommandHandler => async (node?: LabelNode) => {
  const label = node?.kind === 'group' ? node.label : node?.kind === 'image' ? node.result.predictions[0]?.label : undefined;
  if (!label) return undefined;
  await vscode.env.clipboard.writeText(label);
  void vscode.window.setStatusBarMessage(`Copied "${shortLabel(label)}"`, 3000);
  return label;
};
