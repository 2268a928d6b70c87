/**
 * Classification on behalf of the UI: one image (commands, hovers), many with progress (Classify Folder), and a
 * background queue (visible files, changed files). Every answer lands in the ResultStore.
 */
import * as vscode from 'vscode';
import { type BatchItem, type ClassifyBatchResult, ClassifyRequest, type ClassifyResult } from '@image-classifier/protocol';
import { CLASSIFY_BATCH_MAX_URIS } from '@image-classifier/protocol/limits';
import type { ImageResult, ResultStore } from './results';
import type { ServerManager } from './server/server';
import { topK } from './settings';
import { toUserError } from './errors';

export interface BatchOutcome {
  total: number;
  done: number;
  failed: BatchItem[];
  cancelled: boolean;
  durationMs: number;
}

export class ClassificationQueue implements vscode.Disposable {
  private readonly inflight = new Map<string, Promise<ClassifyResult>>();
  private readonly queue = new Map<string, boolean>();
  private queueTimer: NodeJS.Timeout | undefined;
  private queueRunning = false;
  /** URIs the background queue failed on (not retried until they change). */
  private readonly failedAuto = new Set<string>();
  lastModel = '';

  constructor(
    private readonly server: ServerManager,
    private readonly store: ResultStore,
    private readonly output: vscode.LogOutputChannel,
  ) {}

  private toResult(uri: vscode.Uri, r: { predictions?: ClassifyResult['predictions']; model?: string }): ImageResult {
    if (r.model) this.lastModel = r.model;
    return { uri, predictions: r.predictions ?? [], model: r.model ?? this.lastModel, at: Date.now() };
  }

  /** Classifies one image (deduplicating concurrent calls for the same file) and stores the answer. */
  async classify(uri: vscode.Uri, opts: { force?: boolean; token?: vscode.CancellationToken } = {}): Promise<ClassifyResult> {
    const key = uri.toString();
    const running = !opts.force ? this.inflight.get(key) : undefined;
    if (running) return running;
    const p = this.server.client
      .sendRequest(ClassifyRequest.type, { uri: key, topK: topK(), force: opts.force }, opts.token)
      .then((r) => {
        this.failedAuto.delete(key);
        this.store.set([this.toResult(uri, r)]);
        return r;
      })
      .finally(() => {
        if (this.inflight.get(key) === p) this.inflight.delete(key);
      });
    this.inflight.set(key, p);
    return p;
  }

  /**
   * Classifies many images with one classifyBatch request. Partial results are stored as they arrive, so a
   * cancelled run keeps what was done.
   */
  async classifyMany(
    uris: vscode.Uri[],
    opts: {
      force?: boolean;
      token?: vscode.CancellationToken;
      onCount?: (done: number, total: number) => void;
    } = {},
  ): Promise<BatchOutcome> {
    const t0 = Date.now();
    const byKey = new Map(uris.map((u) => [u.toString(), u]));
    const seen = new Set<string>();
    const failed: BatchItem[] = [];
    const accept = (items: BatchItem[], model?: string) => {
      const ok: ImageResult[] = [];
      for (const it of items) {
        if (seen.has(it.uri)) continue;
        seen.add(it.uri);
        const uri = byKey.get(it.uri) ?? vscode.Uri.parse(it.uri);
        if (it.predictions && !it.error) ok.push(this.toResult(uri, { predictions: it.predictions, model }));
        else failed.push(it);
      }
      this.store.set(ok);
      opts.onCount?.(seen.size, uris.length);
    };
    let result: ClassifyBatchResult | undefined;
    let cancelled = false;
    let serverMs = 0;
    // The server takes at most CLASSIFY_BATCH_MAX_URIS URIs a request: larger folders go in several, in turn.
    for (let start = 0; start < uris.length && !cancelled; start += CLASSIFY_BATCH_MAX_URIS) {
      try {
        const part = uris.slice(start, start + CLASSIFY_BATCH_MAX_URIS).map((u) => u.toString());
        result = await this.server.client.classifyBatch(
          { uris: part, topK: topK(), force: opts.force },
          { token: opts.token, onPartial: (items) => accept(items) },
        );
        if (result.model) this.lastModel = result.model;
        accept(result.items, result.model);
        cancelled = result.cancelled;
        serverMs += result.durationMs;
      } catch (e) {
        const u = toUserError(e);
        if (u.code !== 'CANCELLED') throw e;
        cancelled = true;
      }
    }
    for (const f of failed) this.output.warn(`Not classified: ${f.uri}: ${f.error?.code ?? ''} ${f.error?.message ?? ''}`);
    return {
      total: uris.length,
      done: seen.size - failed.length,
      failed,
      cancelled: cancelled || opts.token?.isCancellationRequested === true,
      durationMs: result ? serverMs : Date.now() - t0,
    };
  }

  /**
   * Shows again what the server's result cache holds for `uris` (after a window reload or a restart): nothing is
   * classified; images the cache does not hold (changed, or never classified with this model) stay unlabelled.
   * Returns how many came back.
   */
  async restore(uris: vscode.Uri[]): Promise<number> {
    let restored = 0;
    for (let start = 0; start < uris.length; start += CLASSIFY_BATCH_MAX_URIS) {
      const part = uris.slice(start, start + CLASSIFY_BATCH_MAX_URIS);
      const byKey = new Map(part.map((u) => [u.toString(), u]));
      const r = await this.server.client.classifyBatch({ uris: part.map((u) => u.toString()), topK: topK(), cachedOnly: true });
      if (r.model) this.lastModel = r.model;
      const ok = r.items.flatMap((it) =>
        it.predictions?.length && !it.error && !this.store.get(byKey.get(it.uri) ?? vscode.Uri.parse(it.uri))
          ? [this.toResult(byKey.get(it.uri) ?? vscode.Uri.parse(it.uri), { predictions: it.predictions, model: r.model })]
          : [],
      );
      this.store.set(ok);
      restored += ok.length;
    }
    return restored;
  }

  /** Queues an image for background classification (visible files, changed files). */
  enqueue(uri: vscode.Uri, opts: { force?: boolean } = {}): void {
    const key = uri.toString();
    if (opts.force) this.failedAuto.delete(key);
    if (this.failedAuto.has(key) || (!opts.force && this.inflight.has(key))) return;
    this.queue.set(key, (this.queue.get(key) ?? false) || opts.force === true);
    if (!this.queueTimer) this.queueTimer = setTimeout(() => void this.drain(), 250);
  }

  private async drain(): Promise<void> {
    this.queueTimer = undefined;
    if (this.queueRunning) {
      this.queueTimer = setTimeout(() => void this.drain(), 250);
      return;
    }
    const entries = [...this.queue];
    this.queue.clear();
    if (!entries.length) return;
    const keys = entries.map(([k]) => k);
    this.queueRunning = true;
    try {
      for (const force of [true, false]) {
        const batch = entries.filter(([, f]) => f === force).map(([k]) => vscode.Uri.parse(k));
        if (!batch.length) continue;
        const out = await this.classifyMany(batch, { force });
        for (const f of out.failed) this.failedAuto.add(f.uri);
      }
    } catch (e) {
      this.output.warn(`Background classification failed: ${toUserError(e).message}`);
      for (const k of keys) this.failedAuto.add(k);
    } finally {
      this.queueRunning = false;
    }
  }

  dispose(): void {
    if (this.queueTimer) clearTimeout(this.queueTimer);
  }
}
