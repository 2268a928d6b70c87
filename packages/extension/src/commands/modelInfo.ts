/** Show Model Info's document: the server's model info as a read-only Markdown document. */
import { ModelInfoRequest, type ModelInfoResult } from '@image-classifier/protocol';
import * as vscode from 'vscode';
import { modelDisplayName, providerDisplayName } from '../text/format';
import type { ServerManager } from '../server/server';

export const INFO_SCHEME = 'imageclassifier-info';

export class ModelInfoDocument implements vscode.Disposable {
  private last: ModelInfoResult | undefined;
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  private readonly registration: vscode.Disposable;

  private readonly subs: vscode.Disposable[] = [];

  /** With `server`: a document shown before the model was ready (a tab restored after a reload) follows its status. */
  constructor(private readonly server?: ServerManager) {
    this.registration = vscode.workspace.registerTextDocumentContentProvider(INFO_SCHEME, {
      onDidChange: this.changed.event,
      provideTextDocumentContent: () => modelInfoMarkdown(this.last, this.server?.status?.state),
    });
    if (!server) return;
    this.subs.push(
      server.onStatus((s) => {
        if (s.state === 'ready' || s.state === 'error') void this.refresh();
      }),
      // A tab restored after the model became ready.
      vscode.workspace.onDidOpenTextDocument((d) => {
        if (d.uri.scheme === INFO_SCHEME && !this.last && server.status?.state === 'ready') void this.refresh();
      }),
    );
  }

  private static readonly URI = vscode.Uri.from({ scheme: INFO_SCHEME, path: '/Image Classifier Model.md' });

  /**
   * Asks the server again and updates the document where one is open. A preview the editor restored before this
   * extension was active could not read it ("cannot be found"): that tab is closed and the preview opened again.
   */
  async refresh(): Promise<void> {
    const open = vscode.workspace.textDocuments.some((d) => d.uri.scheme === INFO_SCHEME);
    const stale = open ? [] : restoredPreviewTabs();
    if ((!open && !stale.length) || !this.server) return;
    try {
      this.last = await this.server.client.sendRequest(ModelInfoRequest.type, {});
    } catch {
      return;
    }
    this.changed.fire(ModelInfoDocument.URI);
    if (stale.length) {
      await vscode.window.tabGroups.close(stale, true);
      await this.show(this.last);
    }
  }

  /** Opens (or refreshes) the document with `info`, rendered (the Markdown preview; its source if that fails). */
  async show(info: ModelInfoResult): Promise<void> {
    this.last = info;
    const uri = ModelInfoDocument.URI;
    this.changed.fire(uri);
    const doc = await vscode.workspace.openTextDocument(uri);
    try {
      // Locked: the tab keeps showing the model when another Markdown file becomes active.
      await vscode.commands.executeCommand('markdown.showPreview', uri, undefined, { locked: true });
    } catch {
      await vscode.languages.setTextDocumentLanguage(doc, 'markdown');
      await vscode.window.showTextDocument(doc, { preview: true });
    }
  }

  dispose(): void {
    for (const d of this.subs) d.dispose();
    this.registration.dispose();
    this.changed.dispose();
  }
}

/** Markdown preview tabs of the model info document (restored after a reload). */
function restoredPreviewTabs(): vscode.Tab[] {
  return vscode.window.tabGroups.all.flatMap((g) =>
    g.tabs.filter(
      (t) =>
        t.input instanceof vscode.TabInputWebview &&
        /markdown\.preview/.test(t.input.viewType) &&
        /Image Classifier Model\.md/.test(t.label),
    ),
  );
}

export function modelInfoMarkdown(info: ModelInfoResult | undefined, state?: string): string {
  if (!info)
    return state === 'ready'
      ? '# Image Classifier\n\nReading the model information…\n'
      : '# Image Classifier\n\nThe model is loading: this page fills in when it is ready.\n';
  const row = (k: string, v: unknown) => (v === undefined || v === '' ? '' : `| ${k} | ${String(v).replace(/\|/g, '\\|')} |\n`);
  const shape = (s?: Array<number | string>) => (s ? `[${s.join(', ')}]` : undefined);
  let md = `# ${modelDisplayName(info.name)}\n\n| Property | Value |\n|:--|:--|\n`;
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
  md += row(
    'Curation search',
    info.neighbourSearch === 'exact'
      ? `exact only: usearch has no build for ${process.platform}-${process.arch} (slower beyond ~20k images)`
      : info.neighbourSearch === 'graph'
        ? 'exact up to 5,000 images, then an approximate graph (usearch)'
        : undefined,
  );
  const r = info.remote;
  if (r) {
    md += '\n## Inference server\n\n| | |\n|:--|:--|\n';
    md += row('Server', `${r.url} (${[r.server.name, r.server.version].filter(Boolean).join(' ') || 'unnamed'})`);
    md += row('Model', `${r.model} version ${r.version}${r.versions.length ? ` (server has ${r.versions.join(', ')})` : ''}`);
    md += row('Answering', info.answeredBy === 'local' ? 'the local model (fallback: the server is unavailable)' : 'the server');
    md += row('Tensors', r.protocol === 'binary' ? 'binary tensor extension' : 'JSON');
    md += row(
      'Batching',
      `${r.maxBatchSize ? `server max ${r.maxBatchSize}, ` : ''}${r.inflight} requests in flight, ${r.timeoutMs} ms timeout`,
    );
  }
  if (info.providerFallbacks?.length) {
    md += `\n## Execution provider fallbacks\n\n${info.providerFallbacks.map((f) => `- **${f.provider}**: ${f.reason}`).join('\n')}\n`;
  }
  if (info.error) md += `\n## Error\n\n${info.error.code}: ${info.error.message}\n`;
  return md;
}
