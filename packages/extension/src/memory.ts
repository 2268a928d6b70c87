/**
 * Which images have labels, remembered across window reloads and restarts (workspaceState): the labels themselves
 * stay in the server's result cache, and come back from it (ClassificationQueue.restore) without classifying.
 */
import * as vscode from 'vscode';
import type { ResultStore } from './results';

const KEY = 'imageClassifier.classifiedImages';
/** At most this many URIs are remembered (the most recent). */
const MAX = 20_000;
const SAVE_DELAY_MS = 1000;

export class ClassifiedMemory implements vscode.Disposable {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly sub: vscode.Disposable;

  constructor(
    private readonly state: vscode.Memento,
    private readonly store: ResultStore,
  ) {
    this.sub = store.onDidChange(() => this.saveLater());
  }

  /** Remembered URIs not restored yet: kept in the list while the restore runs. */
  private pending: string[] = [];

  /** The images classified before this session; they stay remembered until restoreDone(). */
  remembered(): vscode.Uri[] {
    const saved = this.state.get<unknown>(KEY);
    this.pending = Array.isArray(saved) ? saved.filter((u): u is string => typeof u === 'string') : [];
    return this.pending.map((u) => vscode.Uri.parse(u));
  }

  /** The restore is over: from now on the list is what the store holds. */
  restoreDone(): void {
    this.pending = [];
    this.saveLater();
  }

  private saveLater(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.save(), SAVE_DELAY_MS);
  }

  private save(): Thenable<void> {
    this.timer = undefined;
    const now = this.store
      .all()
      .sort((a, b) => b.at - a.at)
      .slice(0, MAX)
      .map((r) => r.uri.toString());
    const seen = new Set(now);
    return this.state.update(KEY, [...now, ...this.pending.filter((u) => !seen.has(u))].slice(0, MAX));
  }

  dispose(): void {
    // The last change is written before the window goes (a reload right after a Classify Folder).
    if (this.timer) {
      clearTimeout(this.timer);
      void this.save();
    }
    this.sub.dispose();
  }
}
