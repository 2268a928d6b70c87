/** Show Model Info's document: the server's model info as a read-only Markdown document. */
import type { ModelInfoResult } from '@image-classifier/protocol';
import * as vscode from 'vscode';
import { modelDisplayName, providerDisplayName } from '../format';

export const INFO_SCHEME = 'imageclassifier-info';

export class ModelInfoDocument implements vscode.Disposable {
  private last: ModelInfoResult | undefined;
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  private readonly registration: vscode.Disposable;

  constructor() {
    this.registration = vscode.workspace.registerTextDocumentContentProvider(INFO_SCHEME, {
      onDidChange: this.changed.event,
      provideTextDocumentContent: () => modelInfoMarkdown(this.last),
    });
  }

  /** Opens (or refreshes) the document with `info`, rendered (the Markdown preview; its source if that fails). */
  async show(info: ModelInfoResult): Promise<void> {
    this.last = info;
    const uri = vscode.Uri.from({ scheme: INFO_SCHEME, path: '/Image Classifier Model.md' });
    this.changed.fire(uri);
    const doc = await vscode.workspace.openTextDocument(uri);
    try {
      await vscode.commands.executeCommand('markdown.showPreview', uri);
    } catch {
      await vscode.languages.setTextDocumentLanguage(doc, 'markdown');
      await vscode.window.showTextDocument(doc, { preview: true });
    }
  }

  dispose(): void {
    this.registration.dispose();
    this.changed.dispose();
  }
}

export function modelInfoMarkdown(info: ModelInfoResult | undefined): string {
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
