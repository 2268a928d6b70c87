/**
 * `imageClassifier/classifyBatch`: a folder run at bulk priority, in lanes, with work-done progress, partial results
 * and cancellation (the items finished so far are returned with `cancelled: true`).
 */
import { closeSync } from 'node:fs';
import { ClassifierError, requireEmbedding } from '@image-classifier/core';
import {
  type BatchItem,
  ClassifyBatchRequest,
  type ClassifyBatchParams,
  type ClassifyBatchResult,
  SETTING_DEFAULTS,
  usageLine,
} from '@image-classifier/protocol';
import { type CancellationToken, WorkDoneProgress } from 'vscode-languageserver/node';
import { fileStatOf, type OpenedInRoots } from '../roots.js';
import { classifyFile } from './cached-classify.js';
import { signalFor } from './classify.js';
import { errorDto, isCancelled, validTopK } from './errors.js';
import { checkUri, checkUris, uriLabel } from './limits.js';
import { acquireModel } from './model-host.js';
import { pace } from './pace.js';
import type { Loaded, ServerContext } from './state.js';

const PROGRESS_INTERVAL_MS = 200;
const PARTIAL_INTERVAL_MS = 100;

/** Progress and partial results of one batch, sent on the client's tokens (nothing without them). */
class BatchReporter {
  done = 0;
  private partialBuf: BatchItem[] = [];
  private lastPartial = performance.now();
  private lastProgress = performance.now();
  private readonly rateStart = performance.now();

  constructor(
    private readonly ctx: ServerContext,
    private readonly n: number,
    private readonly p: ClassifyBatchParams,
  ) {
    this.progress({ kind: 'begin', title: 'Classifying images', percentage: 0, message: `0/${n}`, cancellable: true });
  }

  private progress(v: object): void {
    const token = this.p.workDoneToken;
    if (token !== undefined) void this.ctx.connection.sendProgress(WorkDoneProgress.type, token, v as never).catch(() => undefined);
  }

  message(): string {
    const secs = (performance.now() - this.rateStart) / 1000;
    const rate = secs > 0 ? this.done / secs : 0;
    return `${this.done}/${this.n} · ${rate >= 10 ? rate.toFixed(0) : rate.toFixed(1)} img/s`;
  }

  flushPartial(force: boolean): void {
    const token = this.p.partialResultToken;
    if (token === undefined || this.partialBuf.length === 0) return;
    if (!force && performance.now() - this.lastPartial < PARTIAL_INTERVAL_MS && this.partialBuf.length < 256) return;
    void this.ctx.connection.sendProgress(ClassifyBatchRequest.partialResult, token, this.partialBuf).catch(() => undefined);
    this.partialBuf = [];
    this.lastPartial = performance.now();
  }

  item(item: BatchItem): void {
    this.done++;
    this.partialBuf.push(item);
    this.flushPartial(false);
    if (performance.now() - this.lastProgress >= PROGRESS_INTERVAL_MS) {
      this.lastProgress = performance.now();
      this.progress({ kind: 'report', percentage: Math.floor((this.done / Math.max(1, this.n)) * 100), message: this.message() });
    }
  }

  end(message: string): void {
    this.progress({ kind: 'end', message });
  }
}

/** Takes a batch slot and the model (and checks the embedding), giving both back if any step fails. */
async function admitBatch(ctx: ServerContext, p: ClassifyBatchParams): Promise<{ loaded: Loaded; release: () => void; leave: () => void }> {
  const leave = ctx.inFlight.enterBatch();
  let model: { loaded: Loaded; release: () => void } | undefined;
  try {
    model = await acquireModel(ctx);
    if (p.embedding) requireEmbedding(model.loaded.classifier.info);
    return { ...model, leave };
  } catch (e) {
    model?.release();
    leave();
    throw e;
  }
}

export async function classifyBatch(p: ClassifyBatchParams, ctx: ServerContext, token: CancellationToken): Promise<ClassifyBatchResult> {
  const t0 = performance.now();
  if (!p || typeof p !== 'object')
    throw new ClassifierError('INVALID_ARGUMENT', `${usageLine(ClassifyBatchRequest.method, ClassifyBatchRequest.usage)}.`);
  const uris = checkUris(p.uris);
  const topK = validTopK(p.topK, ctx.config.settings.topK ?? SETTING_DEFAULTS.topK);
  const model = await admitBatch(ctx, p);
  const { loaded } = model;
  const { signal, dispose } = signalFor(token, ctx.lifecycle.stop.signal);
  const n = uris.length;
  const results: Array<BatchItem | undefined> = new Array(n);
  const reporter = new BatchReporter(ctx, n, p);
  const cachedOnly = p.cachedOnly === true;
  const opts = { topK, force: Boolean(p.force) && !cachedOnly, interactive: false, signal, embedding: Boolean(p.embedding), cachedOnly };
  let next = 0;
  const lane = async () => {
    while (!signal.aborted && next < n) {
      const i = next++;
      const uri = uris[i];
      let item: BatchItem;
      let opened: OpenedInRoots | undefined;
      try {
        // Opened and checked once: its identity looks the cache up, and a miss reads this descriptor.
        opened = ctx.config.roots.open(checkUri(uri));
        const r = await classifyFile(ctx, loaded, fileStatOf(opened), opts, opened);
        item =
          cachedOnly && !r.cached
            ? { uri: uriLabel(uri), cached: false }
            : { uri: uriLabel(uri), predictions: r.predictions, cached: r.cached, ...(r.embedding ? { embedding: r.embedding } : {}) };
        if (r.answeredBy && item.predictions) item.answeredBy = r.answeredBy;
      } catch (e) {
        if (isCancelled(e) && signal.aborted) break;
        item = { uri: uriLabel(uri), error: errorDto(e) };
      } finally {
        if (opened) closeSync(opened.fd);
      }
      results[i] = item;
      reporter.item(item);
      // Cache hits and per-item errors resolve without I/O: give the event loop a turn now and then.
      const turn = pace();
      if (turn) await turn;
    }
  };
  try {
    // A remote model takes several batches in flight: enough lanes to keep them all filled.
    const c = loaded.classifier;
    const lanes = Math.max(1, Math.min(n, c.info.remote ? c.pipelineImages + 2 : c.maxBatch * 2 + 2));
    await Promise.all(Array.from({ length: lanes }, lane));
    reporter.flushPartial(true);
    const cancelled = signal.aborted && reporter.done < n;
    reporter.end(cancelled ? `Cancelled after ${reporter.done}/${n}` : reporter.message());
    return {
      items: results.filter((x): x is BatchItem => x !== undefined),
      cancelled,
      model: loaded.classifier.info.name,
      durationMs: Math.round(performance.now() - t0),
    };
  } finally {
    dispose();
    model.release();
    model.leave();
  }
}
