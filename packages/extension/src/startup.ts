/**
 * Where start-up time goes, from activate() to the model being ready: finding an image in the workspace (which
 * decides on an early start), loading the language client, spawning the server until it answers `initialize`, and
 * loading the model. Logged once, as one line the e2e start-up test reads ("Start-up timeline (ms after
 * activate()): {…}").
 */
import type * as vscode from 'vscode';

export type StartupMark =
  | 'statusItemShown'
  | 'activateReturned'
  | 'imageSearchDone'
  | 'serverStartRequested'
  | 'serverRunning'
  | 'modelLoading'
  | 'modelReady'
  | 'labelsRestored';

export class StartupTimeline {
  private readonly t0 = performance.now();
  private readonly marks: Partial<Record<StartupMark, number>> = {};
  private logged = false;

  constructor(private readonly output: vscode.LogOutputChannel) {}

  /** Records the first time `mark` happens; logs the timeline once the model is ready (or failed). */
  mark(mark: StartupMark): void {
    if (this.marks[mark] !== undefined) return;
    this.marks[mark] = Math.round(performance.now() - this.t0);
    if (mark === 'modelReady' && !this.logged) this.log();
  }

  get times(): Readonly<Partial<Record<StartupMark, number>>> {
    return this.marks;
  }

  private log(): void {
    this.logged = true;
    this.output.info(`Start-up timeline (ms after activate()): ${JSON.stringify(this.marks)}`);
  }
}
