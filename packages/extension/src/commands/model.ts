/** The model and the server: Show Model Info, Select Model…, Download Default Model, Restart Server, Clear Cache. */
import { ClearCacheRequest, ModelInfoRequest, type StatusParams } from '@image-classifier/protocol';
import * as vscode from 'vscode';
import { promptRemoteCredentials } from '../secrets';
import { modelDisplayName, providerDisplayName } from '../text/format';
import { SECTION } from '../settings';
import type { CommandContext, CommandHandler } from './context';
import { showError, updateSetting } from './util';

export const showModelInfo =
  (ctx: CommandContext): CommandHandler =>
  async () => {
    const info = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Window, title: 'Image Classifier: reading model info…' },
      () => ctx.server.client.sendRequest(ModelInfoRequest.type, {}),
    );
    await ctx.modelInfo.show(info);
    return info;
  };

type ModelChoice = vscode.QuickPickItem & { value: 'default' | 'file' | 'url' };

/** Asks for the model: '' for the default, a file path or a URL; undefined when the user gave up. */
async function pickModel(current: string): Promise<string | undefined> {
  const items: ModelChoice[] = [
    { label: '$(package) Default: ResNet50', description: 'ONNX Model Zoo, downloaded on first use', value: 'default', picked: !current },
    { label: '$(file) Choose an .onnx File…', value: 'file' },
    { label: '$(link) Enter a URL…', description: 'http(s), downloaded into the extension storage', value: 'url' },
  ];
  const pick = await vscode.window.showQuickPick(items, {
    title: 'Select the classification model',
    placeHolder: current ? `Current: ${current}` : 'Current: the default ResNet50',
  });
  if (!pick) return undefined;
  if (pick.value === 'file') {
    const f = await vscode.window.showOpenDialog({
      canSelectFiles: true,
      canSelectMany: false,
      filters: { 'ONNX models': ['onnx'] },
      openLabel: 'Use Model',
    });
    return f?.[0]?.fsPath;
  }
  if (pick.value === 'url') {
    const u = await vscode.window.showInputBox({
      title: 'Model URL',
      prompt: 'An http(s) URL of an .onnx model',
      placeHolder: 'https://…/model.onnx',
      validateInput: (s) => (/^https?:\/\/\S+$/i.test(s.trim()) ? undefined : 'Enter an http:// or https:// URL.'),
    });
    return u ? u.trim() : undefined;
  }
  return '';
}

export const selectModel = (): CommandHandler => async () => {
  const value = await pickModel(vscode.workspace.getConfiguration(SECTION).get<string>('model', ''));
  if (value === undefined) return undefined;
  await updateSetting('model', value);
  return value;
};

/** Follows the server's status until the model is ready or failed, as a progress notification. */
function followModelDownload(ctx: CommandContext): Thenable<StatusParams | undefined> {
  return vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: 'Image Classifier: default model', cancellable: false },
    (progress) =>
      new Promise<StatusParams | undefined>((resolve) => {
        let last = 0;
        const onStatus = (s: StatusParams | undefined) => {
          if (!s) return;
          if (s.state === 'downloading') {
            const pct = Math.floor(s.percent ?? 0);
            progress.report({ message: `downloading ${pct}%`, increment: pct - last });
            last = pct;
          } else if (s.state === 'loading') {
            progress.report({ message: 'loading…' });
          } else {
            sub.dispose();
            if (s.state === 'ready')
              void vscode.window.showInformationMessage(
                `The default model is ready: ${modelDisplayName(s.model)} · ${providerDisplayName(s.provider)}.`,
              );
            else
              void showError(
                { message: s.error?.message ?? s.message ?? 'unknown error', data: { code: s.error?.code ?? 'MODEL_DOWNLOAD_FAILED' } },
                'Downloading the model',
                ctx.output,
              );
            resolve(s);
          }
        };
        const sub = ctx.server.onStatus(onStatus);
        onStatus(ctx.server.status);
      }),
  );
}

export const downloadDefaultModel =
  (ctx: CommandContext): CommandHandler =>
  async () => {
    const current = vscode.workspace.getConfiguration(SECTION).get<string>('model', '');
    if (current) {
      const ok = await vscode.window.showInformationMessage(
        `The model setting points to ${current}. Download the default ResNet50 (about 100 MB) and use it instead?`,
        'Download and Use',
      );
      if (!ok) return undefined;
      await updateSetting('model', '');
    }
    await ctx.server.client.ensureStarted();
    await ctx.server.pushSettings();
    return followModelDownload(ctx);
  };

export const restartServer =
  (ctx: CommandContext): CommandHandler =>
  async () => {
    await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: 'Restarting the Image Classifier server…' }, () =>
      ctx.server.client.restart(),
    );
    void vscode.window.setStatusBarMessage('Image Classifier: server restarted.', 3000);
    return ctx.server.pid;
  };

export const clearCache =
  (ctx: CommandContext): CommandHandler =>
  async () => {
    const r = await ctx.server.client.sendRequest(ClearCacheRequest.type, {});
    void vscode.window.showInformationMessage(`Image Classifier: cleared the cache (${r.removed} entr${r.removed === 1 ? 'y' : 'ies'}).`);
    return r;
  };

export const setRemoteCredentials =
  (ctx: CommandContext): CommandHandler =>
  async () => {
    if (!(await promptRemoteCredentials(ctx.context))) return false;
    // The server reads them from its environment: a new process picks them up.
    await ctx.server.client.restart();
    void vscode.window.setStatusBarMessage('Image Classifier: remote server credentials saved; server restarted.', 3000);
    return true;
  };
