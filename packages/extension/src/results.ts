/**
 * What the extension knows: the latest classification of each image, keyed by URI string. The Explorer view,
 * the file decorations, hovers and export all read from here; commands, hovers and the watcher write.
 */
import * as vscode from 'vscode';
import type { Prediction } from '@image-classifier/protocol';

export interface ImageResult {
  uri: vscode.Uri;
  predictions: Prediction[];
  model: string;
  /** When it was classified (Date.now()). */
  at: number;
}

export class ResultStore implements vscode.Disposable {
  private readonly map = new Map<string, ImageResult>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri[] | undefined>();
  /** Fires with the URIs that changed, or undefined when everything did. */
  readonly onDidChange = this.changed.event;

  get size(): number {
    return this.map.size;
  }

  get(uri: vscode.Uri): ImageResult | undefined {
    return this.map.get(uri.toString());
  }

  all(): ImageResult[] {
    return [...this.map.values()];
  }

  set(results: ImageResult[]): void {
    if (results.length === 0) return;
    for (const r of results) this.map.set(r.uri.toString(), r);
    this.changed.fire(results.map((r) => r.uri));
  }

  /** Removes `uri` and, if it is a folder, everything under it. */
  delete(uri: vscode.Uri): void {
    const key = uri.toString();
    const prefix = key.endsWith('/') ? key : key + '/';
    const removed: vscode.Uri[] = [];
    for (const [k, r] of this.map) {
      if (k === key || k.startsWith(prefix)) {
        this.map.delete(k);
        removed.push(r.uri);
      }
    }
    if (removed.length) this.changed.fire(removed);
  }

  clear(): void {
    const removed = [...this.map.values()].map((r) => r.uri);
    this.map.clear();
    this.changed.fire(removed.length ? removed : undefined);
  }

  dispose(): void {
    this.changed.dispose();
  }
}
