/**
 * What the board asks of the host: actions through the CurationController (journaled in the state folder),
 * undo/redo, opening an image, thumbnails for the visible cards, similar images, export. Each outcome updates the
 * board incrementally (the tracker and the webview apply its changes; nothing is re-run) and its message is shown.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { FindRequest, SimilarRequest } from '@image-classifier/protocol';
import { type BoardMessage, FIND_TOP } from '../shared/messages';
import type { CurationPanel } from './panel';
import { requestThumbnails } from './thumbnails';
import type { ActionOutcome, CurationController } from '../shared/types';

/** Thumbnails' long side, px (cards show them at about half this on a 2× screen). */
const THUMB_SIZE = 256;

export class BoardActions {
  /** The search box's request in flight. */
  private findCancel: vscode.CancellationTokenSource | undefined;

  constructor(private readonly board: CurationPanel) {}

  async handle(m: BoardMessage): Promise<void> {
    try {
      await this.dispatch(m);
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      this.board.deps.output.error(`Curation board: ${m.type}: ${msg}`);
      this.board.post({ type: 'status', message: msg, error: true });
      void vscode.window.showErrorMessage(`Dataset curation: ${msg}`);
    }
  }

  private async dispatch(m: BoardMessage): Promise<void> {
    const controller = await this.board.controller;
    switch (m.type) {
      case 'ready':
        // A webview shown again starts afresh: it gets the report and the changes made since.
        await this.board.resend();
        return this.board.flushPendingTab();
      case 'action':
        return this.outcome(controller, () => this.act(controller, m));
      case 'undo':
        return this.outcome(controller, () => controller.undo(), { rebuild: true });
      case 'redo':
        return this.outcome(controller, () => controller.redo(), { rebuild: true });
      case 'open':
        await vscode.commands.executeCommand('vscode.open', this.board.uriOf(m.file), {
          preview: true,
          preserveFocus: true,
          viewColumn: vscode.ViewColumn.Beside,
        });
        return;
      case 'thumbs':
        return this.thumbs(m.files);
      case 'similar':
        return this.similar(m.file);
      case 'find':
        return this.find(m.noun, m.seq);
      case 'export':
        return this.export(controller);
      case 'perf':
        this.board.deps.output.info(`Curation board figures: ${JSON.stringify(m.data)}`);
        return;
    }
  }

  private act(c: CurationController, m: Extract<BoardMessage, { type: 'action' }>): Promise<ActionOutcome> {
    switch (m.action) {
      case 'move':
        if (!m.toLabel) throw new Error('Pick the class to move the files to.');
        return c.move(m.files, m.toLabel);
      case 'trash':
        return c.trash(m.files);
      case 'keep':
        return c.keepLabel(m.files);
      case 'unkeep':
        return c.unkeepLabel(m.files);
    }
  }

  /**
   * Runs an action and shows its outcome at once (the tracker and the webview apply its changes). With `rebuild`
   * (undo, redo: the journal may reach back before this report, as after a window reload), the report is then
   * asked again from the file system, so the board's classes, counts and notes are the dataset's as it is now.
   */
  private async outcome(c: CurationController, run: () => Promise<ActionOutcome>, opts: { rebuild?: boolean } = {}): Promise<void> {
    this.board.ownEvents.begin();
    let out: ActionOutcome | undefined;
    try {
      out = await run();
    } finally {
      const paths = (out?.changes ?? []).flatMap((c) => [c.from, c.to]).filter((p): p is string => !!p);
      if (this.board.ownEvents.end(paths.map((p) => this.board.uriOf(p).path))) this.board.requeryLater();
    }
    if (out.ok) this.board.applyChanges(out.changes);
    this.board.post({ type: 'outcome', outcome: out, canUndo: c.canUndo(), canRedo: c.canRedo() });
    this.board.updateExplorer(c);
    if (out.ok) void vscode.window.setStatusBarMessage(`$(check) ${out.message}`, 5000);
    else void vscode.window.showWarningMessage(out.message);
    if (out.warnings?.length) void vscode.window.showWarningMessage(`Dataset curation: ${out.warnings.join('; ')}.`);
    if (opts.rebuild && out.ok && out.changes.length) this.board.requeryNow();
  }

  /**
   * Learns the server's thumbnail folder (an empty request) and lets the webview read it, before any card shows:
   * changing the webview's resource roots later could reload it.
   */
  async prepareThumbnails(): Promise<void> {
    const res = await requestThumbnails(this.board.deps.server.client, [], THUMB_SIZE).catch(() => undefined);
    if (res?.dir) this.board.allowRoot(vscode.Uri.file(res.dir));
  }

  /** Thumbnails from the server (WebP files in its cache folder) where it has them, the image itself otherwise. */
  private async thumbs(files: string[]): Promise<void> {
    const webview = this.board.panel.webview;
    const uris = files.map((f) => this.board.uriOf(f));
    const res = await requestThumbnails(
      this.board.deps.server.client,
      uris.map((u) => u.toString()),
      THUMB_SIZE,
    ).catch(() => undefined);
    if (res?.dir) this.board.allowRoot(vscode.Uri.file(res.dir));
    const urls: Record<string, string> = {};
    files.forEach((f, i) => {
      const thumb = res?.items[i]?.path;
      const u = thumb ? vscode.Uri.file(thumb) : uris[i]!;
      urls[f] = webview.asWebviewUri(u).toString();
    });
    this.board.post({ type: 'thumbs', urls });
  }

  /** The images nearest to `file` (root-relative; or named so, with `uri`, for an image outside the dataset). */
  async similar(file: string, uri = this.board.uriOf(file)): Promise<void> {
    const res = await this.board.deps.server.client.sendRequest(SimilarRequest.type, {
      uri: uri.toString(),
      k: 24,
      root: this.board.root.toString(),
    });
    const items = res.items.map((h) => ({ file: h.file, similarity: h.similarity }));
    this.board.post({ type: 'similar', of: file, items });
  }

  /**
   * The search box: `imageClassifier/find` over the board's root, answered with `found` (the board shows it in the
   * Similar tab). A newer search cancels the one in flight, whose answer is dropped; an empty noun only cancels. A
   * noun that finds nothing (not in the hierarchy: INVALID_ARGUMENT, with close matches) is answered in the board,
   * without a notification: it is a typo, not a failure.
   */
  async find(noun: string, seq: number): Promise<void> {
    this.findCancel?.cancel();
    const cts = new vscode.CancellationTokenSource();
    this.findCancel = cts;
    try {
      if (!noun.trim()) return;
      const params = { noun, root: this.board.root.toString(), top: FIND_TOP };
      const res = await this.board.deps.server.client.sendRequest(FindRequest.type, params, cts.token);
      if (cts.token.isCancellationRequested) return;
      const items = res.items.map((h) => ({ file: h.file, mass: h.mass }));
      const [concept, ...otherSenses] = res.senses;
      this.board.post({ type: 'found', seq, noun, concept: concept ?? res.concept, otherSenses, items, searched: res.searched });
    } catch (e) {
      if (cts.token.isCancellationRequested) return;
      if ((e as { data?: { code?: string } }).data?.code !== 'INVALID_ARGUMENT') throw e;
      this.board.post({ type: 'found', seq, noun, error: (e as Error).message });
    } finally {
      if (this.findCancel === cts) this.findCancel = undefined;
      cts.dispose();
    }
  }

  private async export(c: CurationController): Promise<void> {
    const report = this.board.report;
    if (!report) throw new Error('The report is not ready yet: wait for the analysis to finish, then export.');
    const dir = vscode.Uri.file(path.join(c.stateDir, 'export'));
    await vscode.workspace.fs.createDirectory(dir);
    // The report as the server made it: the controller knows (from its journal) where each file went since.
    const written = await c.exportReport(report, dir.fsPath);
    const names = written.map((w) => path.basename(w)).join(', ');
    const msg = `Exported ${names} to ${vscode.workspace.asRelativePath(dir, false)}.`;
    this.board.post({ type: 'status', message: msg });
    // Open: the CSV (else the first file written); Reveal: the export in the Explorer (the folder may be hidden).
    const first = written.find((w) => w.endsWith('.csv')) ?? written[0];
    const target = first ? vscode.Uri.file(first) : dir;
    void vscode.window.showInformationMessage(msg, 'Open', 'Reveal').then((a) => {
      if (a === 'Open') void vscode.commands.executeCommand('vscode.open', target);
      else if (a === 'Reveal')
        void vscode.commands.executeCommand(vscode.workspace.getWorkspaceFolder(target) ? 'revealInExplorer' : 'revealFileInOS', target);
    });
  }
}
