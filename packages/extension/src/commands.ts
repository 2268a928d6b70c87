/** The extension's commands: classify image/folder/workspace, model management, export, view item actions. */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ModelInfoResult, StatusParams } from '@image-classifier/protocol';
import type { Classifier } from './classifier';
import { toUserError } from './errors';
import { labelLine, modelDisplayName, percent, providerDisplayName, shortLabel, toCsv, toJson, type ExportRow } from './format';
import { IMAGE_GLOB, isImagePath } from './images';
import type { LabelNode, LabelsViewProvider } from './labelsView';
import type { ResultStore } from './results';
import type { ServerManager } from './server';
import { SECTION } from './settings';

export interface CommandDeps {
  context: vscode.ExtensionContext;
  server: ServerManager;
  classifier: Classifier;
  store: ResultStore;
  view: LabelsViewProvider;
  output: vscode.LogOutputChannel;
  activationTimeMs: () => number;
}

const EXCLUDE = '**/{node_modules,.git}/**';
export const INFO_SCHEME = 'imageclassifier-info';

/** Shows a user-facing error: one sentence, the actions that help, never a stack trace. */
export async function showError(e: unknown, what: string, output: vscode.LogOutputChannel): Promise<void> {
  const u = toUserError(e, what);
  if (u.code === 'CANCELLED') return;
  output.error(`${what}: ${u.code}: ${e instanceof Error ? e.message : String(e)}`);
  const pick = await vscode.window.showErrorMessage(u.message, ...u.actions.map((a) => a.title));
  const action = u.actions.find((a) => a.title === pick);
  if (action) await vscode.commands.executeCommand(action.command);
}

function toUri(x: unknown): vscode.Uri | undefined {
  if (x instanceof vscode.Uri) return x;
  if (typeof x === 'string' && x)
    return /^[a-z][\w+.-]*:/i.test(x) && !/^[a-zA-Z]:[\\/]/.test(x) ? vscode.Uri.parse(x) : vscode.Uri.file(x);
  if (x && typeof x === 'object') {
    const o = x as { resourceUri?: unknown; uri?: unknown; result?: { uri?: unknown } };
    return toUri(o.resourceUri ?? o.uri ?? o.result?.uri);
  }
  return undefined;
}

/** The image the user means: the clicked one, else the active image preview / editor. */
function activeImage(): vscode.Uri | undefined {
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  if (input instanceof vscode.TabInputCustom && isImagePath(input.uri.path)) return input.uri;
  if (input instanceof vscode.TabInputText && isImagePath(input.uri.path)) return input.uri;
  const doc = vscode.window.activeTextEditor?.document;
  if (doc && isImagePath(doc.uri.path)) return doc.uri;
  return undefined;
}

async function imagesUnder(folders: vscode.Uri[]): Promise<vscode.Uri[]> {
  const seen = new Map<string, vscode.Uri>();
  for (const f of folders) {
    const found = await vscode.workspace.findFiles(new vscode.RelativePattern(f, IMAGE_GLOB), EXCLUDE);
    for (const u of found) seen.set(u.toString(), u);
  }
  return [...seen.values()].sort((a, b) => a.path.localeCompare(b.path));
}

function basename(uri: vscode.Uri): string {
  return path.posix.basename(uri.path);
}

export function registerCommands(d: CommandDeps): vscode.Disposable[] {
  const { server, classifier, store, output } = d;
  // biome-ignore lint/suspicious/noExplicitAny: command arguments come from VS Code untyped
  const reg = (id: string, fn: (...args: any[]) => unknown) =>
    vscode.commands.registerCommand(id, async (...args: unknown[]) => {
      try {
        return await fn(...args);
      } catch (e) {
        // Not awaited: the command is done; the notification stays until the user dismisses it.
        void showError(e, 'Image Classifier', output);
        return undefined;
      }
    });

  /** Classify many images with a cancellable progress notification; results stream into the view. */
  async function classifyWithProgress(uris: vscode.Uri[], title: string, force = false) {
    if (uris.length === 0) {
      void vscode.window.showInformationMessage(`No images found in ${title}.`);
      return undefined;
    }
    const t0 = Date.now();
    const outcome = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Classifying ${title}`, cancellable: true },
      async (progress, token) => {
        let reported = 0;
        progress.report({ message: `0/${uris.length} · starting…` });
        return classifier.classifyMany(uris, {
          force,
          token,
          onCount: (done, total) => {
            const pct = Math.floor((done / total) * 100);
            const secs = (Date.now() - t0) / 1000;
            const rate = secs > 0 ? done / secs : 0;
            progress.report({ increment: pct - reported, message: `${done}/${total} · ${rate.toFixed(1)} images/s` });
            reported = pct;
          },
        });
      },
    );
    const secs = Math.max((Date.now() - t0) / 1000, 0.001);
    const rate = (outcome.done / secs).toFixed(1);
    const failedNote = outcome.failed.length ? ` ${outcome.failed.length} could not be read (see the output).` : '';
    if (outcome.cancelled) {
      void vscode.window.showInformationMessage(
        `Cancelled: ${outcome.done} of ${outcome.total} images in ${title} were classified; their labels are kept.${failedNote}`,
      );
    } else {
      const msg = `Classified ${outcome.done} image${outcome.done === 1 ? '' : 's'} in ${title} (${rate} images/s).${failedNote}`;
      void vscode.window.showInformationMessage(msg, 'Show Image Labels').then((a) => {
        if (a) void vscode.commands.executeCommand('imageClassifier.labels.focus');
      });
    }
    return outcome;
  }

  const disposables: vscode.Disposable[] = [
    reg('imageClassifier.classifyImage', async (arg?: unknown, multi?: unknown) => {
      const many = Array.isArray(multi) ? multi.map(toUri).filter((u): u is vscode.Uri => !!u && isImagePath(u.path)) : [];
      if (many.length > 1) return classifyWithProgress(many, `${many.length} images`);
      const uri = toUri(arg) ?? activeImage();
      if (!uri) {
        void vscode.window.showWarningMessage('Select an image in the Explorer or open one in the editor, then run Classify Image.');
        return undefined;
      }
      const r = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Window, title: `$(sync~spin) Classifying ${basename(uri)}…` },
        () => classifier.classify(uri, { force: false }),
      );
      const top = r.predictions[0];
      const msg = top ? `${basename(uri)}: ${labelLine(r.predictions, 3)}` : `${basename(uri)}: no labels.`;
      void vscode.window.showInformationMessage(msg, 'Show in Image Labels').then(async (a) => {
        if (!a) return;
        const node = d.view
          .getChildren()
          .flatMap((g) => d.view.getChildren(g))
          .find((n) => n.kind === 'image' && n.result.uri.toString() === uri.toString());
        if (node && d.view.view) await d.view.view.reveal(node, { focus: true, select: true });
        else await vscode.commands.executeCommand('imageClassifier.labels.focus');
      });
      return r;
    }),

    reg('imageClassifier.classifyFolder', async (arg?: unknown, multi?: unknown) => {
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
      const uris = await imagesUnder(folders);
      const title =
        folders.length === 1
          ? `'${vscode.workspace.asRelativePath(folders[0]!, false) || basename(folders[0]!)}'`
          : `${folders.length} folders`;
      return classifyWithProgress(uris, title);
    }),

    reg('imageClassifier.classifyWorkspace', async () => {
      const folders = (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri);
      if (!folders.length) {
        void vscode.window.showInformationMessage('Open a folder first: Image Classifier classifies the images in the workspace folders.');
        return undefined;
      }
      return classifyWithProgress(await imagesUnder(folders), 'the workspace');
    }),

    reg('imageClassifier.showModelInfo', async () => {
      const info = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Window, title: 'Image Classifier: reading model info…' },
        () => server.modelInfo(),
      );
      lastInfo = info;
      const uri = vscode.Uri.from({ scheme: INFO_SCHEME, path: '/Image Classifier Model.md', query: String(Date.now()) });
      infoChanged.fire(uri);
      const doc = await vscode.workspace.openTextDocument(uri);
      await vscode.languages.setTextDocumentLanguage(doc, 'markdown');
      await vscode.window.showTextDocument(doc, { preview: true });
      return info;
    }),

    reg('imageClassifier.selectModel', async () => {
      type Item = vscode.QuickPickItem & { value: 'default' | 'file' | 'url' };
      const current = vscode.workspace.getConfiguration(SECTION).get<string>('model', '');
      const items: Item[] = [
        {
          label: '$(package) Default: ResNet50',
          description: 'ONNX Model Zoo, downloaded on first use',
          value: 'default',
          picked: !current,
        },
        { label: '$(file) Choose an .onnx File…', value: 'file' },
        { label: '$(link) Enter a URL…', description: 'http(s), downloaded into the extension storage', value: 'url' },
      ];
      const pick = await vscode.window.showQuickPick(items, {
        title: 'Select the classification model',
        placeHolder: current ? `Current: ${current}` : 'Current: the default ResNet50',
      });
      if (!pick) return undefined;
      let value = '';
      if (pick.value === 'file') {
        const f = await vscode.window.showOpenDialog({
          canSelectFiles: true,
          canSelectMany: false,
          filters: { 'ONNX models': ['onnx'] },
          openLabel: 'Use Model',
        });
        if (!f?.[0]) return undefined;
        value = f[0].fsPath;
      } else if (pick.value === 'url') {
        const u = await vscode.window.showInputBox({
          title: 'Model URL',
          prompt: 'An http(s) URL of an .onnx model',
          placeHolder: 'https://…/model.onnx',
          validateInput: (s) => (/^https?:\/\/\S+$/i.test(s.trim()) ? undefined : 'Enter an http:// or https:// URL.'),
        });
        if (!u) return undefined;
        value = u.trim();
      }
      await updateSetting('model', value);
      return value;
    }),

    reg('imageClassifier.downloadDefaultModel', async () => {
      const current = vscode.workspace.getConfiguration(SECTION).get<string>('model', '');
      if (current) {
        const ok = await vscode.window.showInformationMessage(
          `The model setting points to ${current}. Download the default ResNet50 (about 100 MB) and use it instead?`,
          'Download and Use',
        );
        if (!ok) return undefined;
        await updateSetting('model', '');
      }
      await server.ensureStarted();
      await server.pushSettings();
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
                    output,
                  );
                resolve(s);
              }
            };
            const sub = server.onStatus(onStatus);
            onStatus(server.status);
          }),
      );
    }),

    reg('imageClassifier.restartServer', async () => {
      await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: 'Restarting the Image Classifier server…' }, () =>
        server.restart(),
      );
      void vscode.window.setStatusBarMessage('Image Classifier: server restarted.', 3000);
      return server.pid;
    }),

    reg('imageClassifier.clearCache', async () => {
      const r = await server.clearCache();
      void vscode.window.showInformationMessage(`Image Classifier: cleared the cache (${r.removed} entr${r.removed === 1 ? 'y' : 'ies'}).`);
      return r;
    }),

    reg('imageClassifier.exportLabels', async (target?: unknown) => {
      const rows: ExportRow[] = store
        .all()
        .map((r) => ({ path: vscode.workspace.asRelativePath(r.uri, true), predictions: r.predictions, model: r.model }))
        .sort((a, b) => a.path.localeCompare(b.path));
      if (!rows.length) {
        void vscode.window.showInformationMessage('Nothing to export yet: classify some images first.');
        return undefined;
      }
      // `target` is for tests only (a URI that does not exist yet); users always go through the save dialog,
      // which asks before overwriting an existing file.
      let uri = toUri(target);
      if (uri) {
        try {
          await vscode.workspace.fs.stat(uri);
          throw Object.assign(new Error(`${uri.fsPath} already exists; not overwriting it.`), { data: { code: 'INVALID_ARGUMENT' } });
        } catch (e) {
          if (!(e instanceof vscode.FileSystemError)) throw e;
        }
      } else {
        const base = vscode.workspace.workspaceFolders?.[0]?.uri;
        uri = await vscode.window.showSaveDialog({
          title: 'Export image labels',
          saveLabel: 'Export',
          defaultUri: base ? vscode.Uri.joinPath(base, 'image-labels.csv') : undefined,
          filters: { CSV: ['csv'], JSON: ['json'] },
        });
      }
      if (!uri) return undefined;
      const json = /\.json$/i.test(uri.path);
      await vscode.workspace.fs.writeFile(uri, Buffer.from(json ? toJson(rows) : toCsv(rows), 'utf8'));
      void vscode.window.showInformationMessage(
        `Exported the labels of ${rows.length} image${rows.length === 1 ? '' : 's'} to ${vscode.workspace.asRelativePath(uri)}.`,
      );
      return uri;
    }),

    reg('imageClassifier.showOutput', () => output.show(true)),

    reg('imageClassifier.activationTime', (opts?: { silent?: boolean }) => {
      const ms = d.activationTimeMs();
      if (!opts?.silent) void vscode.window.showInformationMessage(`Image Classifier activated in ${ms.toFixed(1)} ms.`);
      return ms;
    }),

    reg('imageClassifier.setMinConfidence', async (value?: unknown) => {
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
    }),

    reg('imageClassifier.clearResults', () => store.clear()),

    reg('imageClassifier.view.classifyAgain', async (node?: LabelNode) => {
      const uri = toUri(node);
      if (!uri) return undefined;
      return classifier.classify(uri, { force: true });
    }),

    reg('imageClassifier.view.revealInExplorer', async (node?: LabelNode) => {
      const uri = toUri(node);
      if (uri) await vscode.commands.executeCommand('revealInExplorer', uri);
    }),

    reg('imageClassifier.view.copyLabel', async (node?: LabelNode) => {
      const label = node?.kind === 'group' ? node.label : node?.kind === 'image' ? node.result.predictions[0]?.label : undefined;
      if (!label) return undefined;
      await vscode.env.clipboard.writeText(label);
      void vscode.window.setStatusBarMessage(`Copied "${shortLabel(label)}"`, 3000);
      return label;
    }),
  ];

  // Model info as a read-only Markdown document.
  let lastInfo: ModelInfoResult | undefined;
  const infoChanged = new vscode.EventEmitter<vscode.Uri>();
  disposables.push(
    infoChanged,
    vscode.workspace.registerTextDocumentContentProvider(INFO_SCHEME, {
      onDidChange: infoChanged.event,
      provideTextDocumentContent: () => modelInfoMarkdown(lastInfo),
    }),
  );

  return disposables;
}

/** Writes a setting where the user keeps it: the workspace if it is set there, else the user settings. */
async function updateSetting(key: string, value: unknown): Promise<void> {
  const cfg = vscode.workspace.getConfiguration(SECTION);
  const i = cfg.inspect(key);
  const target =
    i?.workspaceFolderValue !== undefined
      ? vscode.ConfigurationTarget.WorkspaceFolder
      : i?.workspaceValue !== undefined
        ? vscode.ConfigurationTarget.Workspace
        : vscode.ConfigurationTarget.Global;
  await cfg.update(key, value, target);
}

function modelInfoMarkdown(info: ModelInfoResult | undefined): string {
  if (!info) return '# Image Classifier\n\nNo model information yet.\n';
  const row = (k: string, v: unknown) => (v === undefined || v === '' ? '' : `| ${k} | ${String(v).replace(/\|/g, '\\|')} |\n`);
  const shape = (s?: Array<number | string>) => (s ? `[${s.join(', ')}]` : undefined);
  let md = `# ${modelDisplayName(info.name)}\n\n| | |\n|:--|:--|\n`;
  md += row('State', info.state);
  md += row('Name', info.name);
  md += row('File', info.path);
  md += row('Size', info.bytes !== undefined ? `${(info.bytes / 1e6).toFixed(1)} MB` : undefined);
  md += row('SHA-256', info.sha256);
  md += row('Input', info.inputName ? `${info.inputName} ${shape(info.inputShape) ?? ''} ${info.layout ?? ''}` : undefined);
  md += row('Output', info.outputName ? `${info.outputName} ${shape(info.outputShape) ?? ''}` : undefined);
  md += row('Classes', info.classes);
  md += row('Labels', info.labels);
  md += row('Preprocessing', info.preprocessing);
  md += row('Execution provider', info.activeProvider ? providerDisplayName(info.activeProvider) : undefined);
  md += row('Threads', info.intraOpNumThreads);
  md += row('Graph optimization', info.graphOptimizationLevel);
  md += row('Opsets', info.opsets?.map((o) => `${o.domain || 'ai.onnx'} ${o.version}`).join(', '));
  md += row('Producer', info.producer);
  md += row('ONNX Runtime', info.ortVersion);
  md += row('Load time', info.loadMs !== undefined ? `${Math.round(info.loadMs)} ms` : undefined);
  if (info.providerFallbacks?.length) {
    md += `\n## Execution provider fallbacks\n\n${info.providerFallbacks.map((f) => `- **${f.provider}**: ${f.reason}`).join('\n')}\n`;
  }
  if (info.error) md += `\n## Error\n\n${info.error.code}: ${info.error.message}\n`;
  return md;
}
