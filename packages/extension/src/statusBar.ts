/**
 * The model's state in the status bar: loading / downloading n% / "ResNet50 · CPU" / error; while a dataset is
 * curated, its progress ("Curating dataset: embedding 40/104") instead, then the model's state again.
 */
import * as vscode from 'vscode';
import type { StatusParams } from '@image-classifier/protocol';
import { modelDisplayName, providerDisplayName } from './text/format';
import type { ServerManager } from './server/server';

export class ModelStatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private readonly subs: vscode.Disposable[] = [];
  /** True once the server has said something (then its state, not "starting…", is shown). */
  private hasStatus = false;
  private lastStatus: StatusParams | undefined;
  /** Curate runs in progress, by dataset name → their latest progress message. */
  private readonly curating = new Map<string, string>();

  constructor(server: ServerManager) {
    this.item = vscode.window.createStatusBarItem('imageClassifier.model', vscode.StatusBarAlignment.Right, 100);
    this.item.name = 'Image Classifier Model';
    this.subs.push(server.onStatus((s) => this.render(s)));
    this.subs.push(
      server.onPhase((p) => {
        if (p === 'stopped' && !server.started && !this.curating.size) this.item.hide();
      }),
    );
  }

  /** Shown from activation on, before the server answers: the extension is alive and the model on its way. */
  showStarting(): void {
    this.item.text = '$(loading~spin) Image Classifier: starting…';
    this.item.tooltip = 'Starting the Image Classifier server and loading the model…';
    this.item.command = 'imageClassifier.showOutput';
    this.item.show();
  }

  /** Hides the item while nothing runs (a workspace without images starts the server on first use only). */
  hideUntilStatus(): void {
    if (!this.hasStatus && !this.curating.size) this.item.hide();
  }

  /** A curate run's progress (`message` undefined: the run ended, finished, cancelled or failed). */
  curationProgress(dataset: string, message: string | undefined): void {
    if (message === undefined) this.curating.delete(dataset);
    else this.curating.set(dataset, message);
    this.render(this.lastStatus);
  }

  render(s: StatusParams | undefined): void {
    this.lastStatus = s;
    this.hasStatus = s !== undefined;
    const item = this.item;
    const run = [...this.curating].at(-1);
    if (run) {
      const [dataset, message] = run;
      item.backgroundColor = undefined;
      item.text = `$(sync~spin) Curating ${dataset}${message ? `: ${message}` : '…'}`;
      item.tooltip = `Curating ${dataset}: the board shows the results as they arrive (its notification has Cancel).`;
      item.command = 'imageClassifier.showOutput';
      item.show();
      return;
    }
    item.backgroundColor = undefined;
    item.command = 'imageClassifier.showModelInfo';
    if (!s) {
      item.hide();
      return;
    }
    switch (s.state) {
      case 'loading':
        item.text = `$(loading~spin) Image Classifier: ${s.model ? `loading ${modelDisplayName(s.model)}` : 'loading'}`;
        item.tooltip = s.message ?? 'Loading the model…';
        break;
      case 'downloading': {
        const pct = s.percent !== undefined ? ` ${Math.floor(s.percent)}%` : '';
        item.text = `$(cloud-download) Downloading ${modelDisplayName(s.model)}${pct}`;
        item.tooltip = s.message ?? 'Downloading the model into the extension storage…';
        break;
      }
      case 'ready':
        item.text = `$(symbol-misc) ${modelDisplayName(s.model)} · ${providerDisplayName(s.provider)}`;
        item.tooltip = new vscode.MarkdownString(
          `**Image Classifier** ready\n\n${s.message ? `${s.message}\n\n` : ''}Click for model details.`,
        );
        break;
      case 'error':
        item.text = '$(error) Image Classifier';
        item.tooltip = `${s.error?.message ?? s.message ?? 'The model is not available.'} Click for details.`;
        item.backgroundColor = new vscode.ThemeColor('statusBarItem.errorBackground');
        item.command = 'imageClassifier.showOutput';
        break;
    }
    item.show();
  }

  dispose(): void {
    for (const s of this.subs) s.dispose();
    this.item.dispose();
  }
}
