/**
 * Labels on classified files in the Explorer: a two-character badge and a tooltip with the top-k labels
 * (`imageClassifier.topK`), such as `tabby, tabby cat 92.2% · tiger cat 4.1% · Egyptian cat 2.0%`. With autoClassify = visibleFiles, a request for
 * the decoration of an unclassified image (the Explorer asks for the rows it shows) queues it for classification.
 */
import * as vscode from 'vscode';
import type { ClassificationQueue } from './classificationQueue';
import { badgeFor, labelLine } from './text/format';
import { isClassifiablePath } from '@image-classifier/protocol/formats';
import type { ResultStore } from './results';
import { autoClassify, topK } from './settings';

export class LabelDecorations implements vscode.FileDecorationProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<vscode.Uri | vscode.Uri[] | undefined>();
  readonly onDidChangeFileDecorations = this.changed.event;
  private readonly subs: vscode.Disposable[] = [];

  constructor(
    private readonly store: ResultStore,
    private readonly classifier: ClassificationQueue,
  ) {
    this.subs.push(store.onDidChange((uris) => this.changed.fire(uris)));
  }

  provideFileDecoration(uri: vscode.Uri): vscode.FileDecoration | undefined {
    const r = this.store.get(uri);
    if (r?.predictions.length) {
      const d = new vscode.FileDecoration(badgeFor(r.predictions[0]!.label), labelLine(r.predictions, topK()));
      d.propagate = false;
      return d;
    }
    if (
      !r &&
      uri.scheme === 'file' &&
      isClassifiablePath(uri.path) &&
      autoClassify() === 'visibleFiles' &&
      vscode.workspace.getWorkspaceFolder(uri) !== undefined
    ) {
      this.classifier.enqueue(uri);
    }
    return undefined;
  }

  dispose(): void {
    for (const s of this.subs) s.dispose();
    this.changed.dispose();
  }
}
