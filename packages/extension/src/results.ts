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

/** An image a run could not classify, and why (one sentence, paths workspace-relative). */
export interface SkippedImage {
  uri: vscode.Uri;
  /** The engine's code (UNSUPPORTED_FORMAT, DECODE_FAILED, …). */
  code: string;
  reason: string;
}

export class ResultStore implements vscode.Disposable {
  private readonly map = new Map<string, ImageResult>();
  private readonly skippedMap = new Map<string, SkippedImage>();
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
    for (const r of results) {
      this.map.set(r.uri.toString(), r);
      this.skippedMap.delete(r.uri.toString());
    }
    this.changed.fire(results.map((r) => r.uri));
  }

  /** Images that could not be classified (the view's "Could not classify" group), sorted by path. */
  skipped(): SkippedImage[] {
    return [...this.skippedMap.values()].sort((a, b) => a.uri.path.localeCompare(b.uri.path));
  }

  setSkipped(items: SkippedImage[]): void {
    if (items.length === 0) return;
    for (const it of items) {
      this.skippedMap.set(it.uri.toString(), it);
      this.map.delete(it.uri.toString());
    }
    this.changed.fire(items.map((i) => i.uri));
  }

  /** Removes `uri` and, if it is a folder, everything under it. */
  delete(uri: vscode.Uri): void {
    const key = uri.toString();
    const prefix = key.endsWith('/') ? key : key + '/';
    const removed: vscode.Uri[] = [];
    for (const m of [this.map, this.skippedMap] as Array<Map<string, { uri: vscode.Uri }>>) {
      for (const [k, r] of m) {
        if (k === key || k.startsWith(prefix)) {
          m.delete(k);
          removed.push(r.uri);
        }
      }
    }
    if (removed.length) this.changed.fire(removed);
  }

  clear(): void {
    const removed = [...this.map.values(), ...this.skippedMap.values()].map((r) => r.uri);
    this.map.clear();
    this.skippedMap.clear();
    this.changed.fire(removed.length ? removed : undefined);
  }

  dispose(): void {
    this.changed.dispose();
  }
}
