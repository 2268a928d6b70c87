/**
 * `imageClassifier/curate`: curateDataset over a workspace folder, with LSP work-done progress, partial results
 * (one `CurateFileProgress` per file as its embedding is ready), and cancellation (answered `cancelled: true`).
 * Embeddings go through the cached classify path (see curate-extract.ts); the analysis runs in a worker thread
 * (curate-thread.ts), so the JSON-RPC thread keeps answering meanwhile.
 */
import { realpathSync, statSync } from 'node:fs';
import { ClassifierError, type CurationEngine, curateDataset, type Extracted, requireEmbedding } from '@image-classifier/core';
import {
  CURATION_CHECKS,
  type CurateFileProgress,
  type ErrorDto,
  type CurateParams,
  CurateRequest,
  type CurateResult,
  type CurateRunStats,
  usageLine,
} from '@image-classifier/protocol';
import { type CancellationToken, WorkDoneProgress } from 'vscode-languageserver/node';
import { inside, uriToPath } from '../roots.js';
import { environment } from '../environment.js';
import { signalFor } from './classify.js';
import { isCancelled } from './errors.js';
import { type CurateExtractCounts, extractCached } from './curate-extract.js';
import { pace } from './pace.js';
import { offThreadAnalyser } from './curate-thread.js';
import { acquireModel } from './model-host.js';
import { annFileFor, rememberIndex } from './similar.js';
import type { ServerContext } from './state.js';

const PROGRESS_INTERVAL_MS = 200;
const PARTIAL_INTERVAL_MS = 100;

/** The real path of a folder inside the workspace roots; OUTSIDE_WORKSPACE, FILE_NOT_FOUND or NOT_A_FILE otherwise. */
export function datasetRoot(ctx: ServerContext, uri: unknown): string {
  const p = uriToPath(uri);
  let real: string;
  try {
    real = realpathSync.native(p);
  } catch {
    throw new ClassifierError('FILE_NOT_FOUND', `Dataset folder not found: ${p}.`);
  }
  if (!ctx.config.roots.unrestricted && !ctx.config.roots.list.some((r) => inside(real, r)))
    throw new ClassifierError(
      'OUTSIDE_WORKSPACE',
      `${p} is outside the workspace folders this server may read (${ctx.config.roots.list.join(', ') || 'none'}).`,
    );
  if (!statSync(real).isDirectory()) throw new ClassifierError('NOT_A_FILE', `${p} is not a folder.`);
  return real;
}

/** Work-done progress and partial results of one run, on the client's tokens (nothing without them). */
class CurateReporter {
  private buf: CurateFileProgress[] = [];
  private lastPartial = 0;
  private lastProgress = 0;
  private readonly t0 = performance.now();

  constructor(
    private readonly ctx: ServerContext,
    private readonly p: CurateParams,
  ) {
    this.progress({ kind: 'begin', title: 'Curating dataset', percentage: 0, message: 'scanning', cancellable: true });
  }

  progress(v: object): void {
    const token = this.p.workDoneToken;
    if (token !== undefined) void this.ctx.connection.sendProgress(WorkDoneProgress.type, token, v as never).catch(() => undefined);
  }

  flush(force: boolean): void {
    const token = this.p.partialResultToken;
    if (token === undefined || !this.buf.length) return;
    if (!force && performance.now() - this.lastPartial < PARTIAL_INTERVAL_MS && this.buf.length < 256) return;
    void this.ctx.connection.sendProgress(CurateRequest.partialResult, token, this.buf).catch(() => undefined);
    this.buf = [];
    this.lastPartial = performance.now();
  }

  file(x: Extracted, cached: boolean): void {
    const e = x.entry;
    this.buf.push({
      file: e.file,
      ...(e.label !== undefined ? { label: e.label } : {}),
      ...(e.split !== undefined ? { split: e.split } : {}),
      ...(x.error ? { error: x.error as ErrorDto } : { cached }),
      ...(x.predicted ? { predicted: x.predicted } : {}),
    });
    this.flush(false);
  }

  done(done: number, total: number): void {
    if (performance.now() - this.lastProgress < PROGRESS_INTERVAL_MS && done < total) return;
    this.lastProgress = performance.now();
    const rate = done / Math.max(1e-3, (performance.now() - this.t0) / 1000);
    const r = rate >= 10 ? rate.toFixed(0) : rate.toFixed(1);
    // Embedding is the long part: 0..90 %, the analysis the rest.
    this.progress({
      kind: 'report',
      percentage: Math.floor((done / Math.max(1, total)) * 90),
      message: `embedding ${done}/${total} · ${r} img/s`,
    });
  }
}

function validChecks(c: unknown): CurateParams['checks'] {
  if (c === undefined || c === null) return undefined;
  if (!Array.isArray(c) || !c.every((x) => (CURATION_CHECKS as readonly unknown[]).includes(x)))
    throw new ClassifierError('INVALID_ARGUMENT', `checks must be a list of ${CURATION_CHECKS.join(', ')}.`);
  return c;
}

export async function curate(p: CurateParams, ctx: ServerContext, token: CancellationToken): Promise<CurateResult> {
  const t0 = performance.now();
  if (!p || typeof p !== 'object' || typeof p.root !== 'string')
    throw new ClassifierError('INVALID_ARGUMENT', `${usageLine(CurateRequest.method, CurateRequest.usage)}.`);
  const checks = validChecks(p.checks);
  const root = datasetRoot(ctx, p.root);
  const model = await acquireModel(ctx);
  const { loaded } = model;
  const { signal, dispose } = signalFor(token);
  const counts: CurateExtractCounts = { embedded: 0, cachedEmbeddings: 0, cachedFeatures: 0, failed: 0 };
  const reporter = new CurateReporter(ctx, p);
  const analyser = offThreadAnalyser(signal, ctx.log, annFileFor(ctx, loaded.key, root));
  const vectors = new Map<string, Float32Array>();
  const run = (): CurateRunStats => ({
    ...counts,
    analysisThread: analyser.thread,
    ...(analyser.origin ? { neighbourIndex: analyser.origin } : {}),
    durationMs: Math.round(performance.now() - t0),
  });
  try {
    requireEmbedding(loaded.classifier.info);
    const report = await curateDataset(root, loaded.classifier as CurationEngine, {
      ...(checks ? { checks } : {}),
      signal,
      extractOne: async (entry) => {
        // Before the work: lanes resumed together each check the slice again.
        await pace();
        const before = counts.cachedEmbeddings;
        const x = await extractCached(ctx, loaded, entry, { signal, features: true, counts, within: root });
        reporter.file(x, counts.cachedEmbeddings > before);
        if (x.embedding) vectors.set(entry.file, x.embedding);
        return x;
      },
      onProgress: (done, total) => reporter.done(done, total),
      onAnalyse: (n) => {
        reporter.flush(true);
        reporter.progress({ kind: 'report', percentage: 90, message: `analysing ${n} images` });
      },
      analyse: analyser.run,
      ...(environment.curationExactRows() ? { exactMaxRows: environment.curationExactRows() } : {}),
    });
    rememberIndex(ctx, loaded.key, report.root, vectors, analyser.saved);
    const r = run();
    reporter.progress({ kind: 'end', message: `${report.counts.files} files · ${r.embedded} embedded · ${r.durationMs} ms` });
    ctx.log(
      `curate ${root}: ${report.counts.files} files, ${r.embedded} embedded, ${r.cachedEmbeddings} cached, analysis on ${r.analysisThread} thread`,
    );
    return { ...report, cancelled: false, run: r };
  } catch (e) {
    reporter.flush(true);
    if (isCancelled(e) && signal.aborted) {
      reporter.progress({ kind: 'end', message: 'Cancelled' });
      return { cancelled: true, root, run: run() };
    }
    reporter.progress({ kind: 'end', message: 'Failed' });
    throw e;
  } finally {
    dispose();
    analyser.dispose();
    model.release();
  }
}
