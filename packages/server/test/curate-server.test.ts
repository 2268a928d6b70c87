/**
 * `imageClassifier/curate` and `imageClassifier/similar` end to end: the real server child process, the real
 * MobileNetV2 int8 model, and the curation dev set (104 photos, 5 class folders, known label noise in truth.json)
 * copied into a temporary workspace.
 */
import { strict as assert } from 'node:assert';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CancellationTokenSource } from 'vscode-jsonrpc/node';
import {
  ClassifyRequest,
  ClearCacheRequest,
  type CurateFileProgress,
  CurateRequest,
  type CurateResult,
  type CurationReport,
  FindRequest,
  SimilarRequest,
} from '@image-classifier/protocol';
import { FIXTURE_IMAGES, sharedDir, SKIP_NO_SHARED } from '../../../test-fixtures/fixtures.js';
import { type ServerHandle, rpcError, uri, startReadyServer } from './server-client.js';

const shared = sharedDir();
const DEV = shared ? path.join(shared, 'datasets', 'curation-dev') : '';
const FILES = 104;

function report(r: CurateResult): CurationReport & { run: Extract<CurateResult, { cancelled: false }>['run'] } {
  assert.equal(r.cancelled, false, 'the run completed');
  return r as Extract<CurateResult, { cancelled: false }>;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

describe('curation over JSON-RPC', { skip: shared ? false : SKIP_NO_SHARED }, () => {
  let work: string;
  let ws: string;
  let dataset: string;
  let srv: ServerHandle;
  let noisy: Set<string>;

  before(async () => {
    work = mkdtempSync(path.join(tmpdir(), 'ic-curate-'));
    ws = path.join(work, 'workspace');
    dataset = path.join(ws, 'dataset');
    cpSync(path.join(DEV, 'dataset'), dataset, { recursive: true });
    cpSync(path.join(FIXTURE_IMAGES, 'skimage_coffee.jpg'), path.join(ws, 'coffee.jpg'));
    const truth = JSON.parse(readFileSync(path.join(DEV, 'truth.json'), 'utf8')) as { label_noise: Array<{ file: string }> };
    noisy = new Set(truth.label_noise.map((x) => x.file));
    srv = await startReadyServer({ cacheDir: path.join(work, 'cache'), roots: [ws] });
  });

  after(async () => {
    await srv?.stop();
  });

  test('curate: work-done progress, a partial result per file, a mislabelled file in the top 3', async () => {
    const r = report(
      await srv.conn.sendRequest(CurateRequest.type, { root: uri(dataset), workDoneToken: 'cw-1', partialResultToken: 'cp-1' }),
    );
    assert.equal(r.counts.files, FILES);
    assert.equal(r.counts.analysed, FILES);
    assert.equal(r.run.embedded + r.run.cachedEmbeddings, FILES);
    assert.equal(r.run.analysisThread, 'worker');
    // The 2-D map came back from the analysis thread, one point per file, in [0, 1].
    assert.equal(r.map?.method, 'pca');
    assert.equal(r.map.points.length, FILES);
    assert.ok(r.map.points.every((p) => p !== null && p.every((v) => v >= 0 && v <= 1)));
    // The cached top-10 classes carry the WordNet opinion: folders matched to synsets, the model's view in the reasons.
    assert.equal(r.classes.find((c) => c.name === 'fish')?.concept?.synset, 'n02512053');
    assert.ok(r.labelIssues[0]?.reasons?.[0]?.startsWith('the model sees '), JSON.stringify(r.labelIssues[0]));
    const top3 = r.labelIssues.slice(0, 3).map((x) => x.file);
    assert.ok(
      top3.some((f) => noisy.has(f)),
      `a truly mislabelled file ranks in the top 3: ${top3.join(', ')}`,
    );
    const work = srv.progress('cw-1') as Array<{ kind: string; message?: string; percentage?: number }>;
    assert.equal(work[0]?.kind, 'begin');
    assert.ok(
      work.some((v) => v.kind === 'report' && /^embedding \d+\/104 · [\d.]+ img\/s$/.test(v.message ?? '')),
      JSON.stringify(work),
    );
    assert.ok(work.some((v) => v.kind === 'report' && v.message === `analysing ${FILES} images`));
    assert.equal(work.at(-1)?.kind, 'end');
    const partial = (srv.progress('cp-1') as CurateFileProgress[][]).flat();
    assert.equal(partial.length, FILES);
    assert.deepEqual(new Set(partial.map((p) => p.file)), new Set(r.files.map((f) => f.file)));
    assert.ok(partial.every((p) => p.label && p.predicted && !p.error));
  });

  test('a second curate re-embeds nothing; a cached classify stays fast meanwhile', async () => {
    const pending = srv.conn.sendRequest(CurateRequest.type, { root: uri(dataset) });
    let done = false;
    void pending.finally(() => {
      done = true;
    });
    const latencies: number[] = [];
    const coffee = uri(path.join(dataset, 'fish', readFileSyncDir(path.join(dataset, 'fish'))));
    await srv.conn.sendRequest(ClassifyRequest.type, { uri: coffee });
    while (!done) {
      const t0 = performance.now();
      const c = await srv.conn.sendRequest(ClassifyRequest.type, { uri: coffee });
      latencies.push(performance.now() - t0);
      console.log(`lat ${(performance.now() - t0).toFixed(0)} sent ${Date.now() - Math.round(performance.now() - t0)}`);
      assert.equal(c.cached, true);
      await new Promise((res) => setTimeout(res, 20));
    }
    const r = report(await pending);
    assert.equal(r.run.embedded, 0, 'nothing re-embedded');
    assert.equal(r.run.cachedEmbeddings, FILES);
    assert.equal(r.run.cachedFeatures, FILES);
    const max = Math.max(...latencies);
    console.log(
      `cached classify during curate: ${latencies.length} requests, median ${median(latencies).toFixed(1)} ms, max ${max.toFixed(1)} ms; curate ${r.run.durationMs} ms (analyse ${r.timingsMs.analyse} ms, ${r.run.analysisThread} thread)`,
    );
    assert.ok(max < 1000, `cached classify answered within 1 s during curate (max ${max.toFixed(0)} ms)`);
  });

  test('similar: a dataset image finds itself first; an image outside the dataset gets k neighbours', async () => {
    const first = report(await srv.conn.sendRequest(CurateRequest.type, { root: uri(dataset) })).files[0]!.file;
    const r = await srv.conn.sendRequest(SimilarRequest.type, { uri: uri(path.join(dataset, first)), k: 5 });
    assert.equal(r.root, dataset);
    assert.equal(r.indexed, FILES);
    assert.equal(r.items.length, 5);
    assert.equal(r.items[0]!.file, first);
    assert.ok(r.items[0]!.similarity > 0.999);
    assert.equal(r.items[0]!.uri, uri(path.join(dataset, first)));
    for (let i = 1; i < 5; i++) assert.ok(r.items[i]!.similarity <= r.items[i - 1]!.similarity);
    const out = await srv.conn.sendRequest(SimilarRequest.type, { uri: uri(path.join(ws, 'coffee.jpg')), k: 3, root: uri(dataset) });
    assert.equal(out.items.length, 3);
    assert.ok(out.items.every((h) => h.similarity < 0.999));
  });

  test('find: the fish photos rank first for "fishes" (from the cache); an unknown noun is INVALID_ARGUMENT with close matches', async () => {
    const r = await srv.conn.sendRequest(FindRequest.type, { noun: 'fishes', root: uri(dataset), top: 10 });
    assert.equal(r.concept.synset, 'n02512053');
    assert.equal(r.searched, FILES);
    assert.equal(r.items.length, 10);
    const inFish = r.items.filter((h) => h.file.startsWith('fish/')).length;
    assert.ok(inFish >= 8, `${inFish} of the top 10 in fish/: ${r.items.map((h) => h.file).join(', ')}`);
    for (let i = 1; i < r.items.length; i++) assert.ok(r.items[i]!.mass <= r.items[i - 1]!.mass);
    assert.equal(r.items[0]!.uri, uri(path.join(dataset, r.items[0]!.file)));
    const e = await rpcError(srv.conn.sendRequest(FindRequest.type, { noun: 'fsh', root: uri(dataset) }));
    assert.equal(e.data?.code, 'INVALID_ARGUMENT');
    assert.match(e.message, /close matches: .*fish/);
  });

  test('a file moved to another class folder: the re-run has its new label and embeds nothing', async () => {
    const name = readFileSyncDir(path.join(dataset, 'fish'));
    renameSync(path.join(dataset, 'fish', name), path.join(dataset, 'tool', name));
    const r = report(await srv.conn.sendRequest(CurateRequest.type, { root: uri(dataset) }));
    assert.equal(r.run.embedded, 0);
    assert.equal(r.counts.files, FILES);
    const moved = r.files.find((f) => f.file === `tool/${name}`);
    assert.equal(moved?.label, 'tool');
    assert.ok(!r.files.some((f) => f.file === `fish/${name}`));
    renameSync(path.join(dataset, 'tool', name), path.join(dataset, 'fish', name));
  });

  test('cancel during the analysis: the worker is stopped, answered promptly', async () => {
    const cts = new CancellationTokenSource();
    const pending = srv.conn.sendRequest(CurateRequest.type, { root: uri(dataset), workDoneToken: 'cw-an' }, cts.token);
    const work = srv.progress('cw-an') as Array<{ message?: string }>;
    while (!work.some((v) => v.message?.startsWith('analysing'))) await new Promise((res) => setTimeout(res, 2));
    const t0 = performance.now();
    cts.cancel();
    const r = await pending;
    const ms = performance.now() - t0;
    assert.equal(r.cancelled, true);
    assert.equal(r.run.embedded, 0);
    assert.ok(ms < 500, `answered ${ms.toFixed(0)} ms after the cancel`);
  });

  test('cancel mid-run: answered promptly with cancelled, and the server keeps serving', async () => {
    await srv.conn.sendRequest(ClearCacheRequest.type, {});
    const cts = new CancellationTokenSource();
    const pending = srv.conn.sendRequest(CurateRequest.type, { root: uri(dataset), partialResultToken: 'cp-cancel' }, cts.token);
    const partials = srv.progress('cp-cancel') as CurateFileProgress[][];
    while (partials.length === 0) await new Promise((res) => setTimeout(res, 5));
    const t0 = performance.now();
    cts.cancel();
    const r = await pending;
    const ms = performance.now() - t0;
    assert.equal(r.cancelled, true);
    assert.ok(r.run.embedded < FILES, `stopped early (${r.run.embedded} embedded)`);
    assert.ok(ms < 3000, `answered ${ms.toFixed(0)} ms after the cancel`);
    const c = await srv.conn.sendRequest(ClassifyRequest.type, { uri: uri(path.join(ws, 'coffee.jpg')) });
    assert.ok(c.predictions.length > 0);
  });

  test('OUTSIDE_WORKSPACE for a root outside; a symlink out of the workspace is skipped with the reason, not read', async () => {
    const outside = path.join(work, 'outside');
    mkdirSync(path.join(outside, 'a'), { recursive: true });
    cpSync(path.join(FIXTURE_IMAGES, 'skimage_coffee.jpg'), path.join(outside, 'a', 'x.jpg'));
    const e = await rpcError(srv.conn.sendRequest(CurateRequest.type, { root: uri(outside) }));
    assert.equal(e.data?.code, 'OUTSIDE_WORKSPACE');
    const e2 = await rpcError(srv.conn.sendRequest(SimilarRequest.type, { uri: uri(path.join(ws, 'coffee.jpg')), root: uri(outside) }));
    assert.equal(e2.data?.code, 'OUTSIDE_WORKSPACE');
    const small = path.join(ws, 'small');
    mkdirSync(path.join(small, 'a'), { recursive: true });
    mkdirSync(path.join(small, 'b'), { recursive: true });
    cpSync(path.join(FIXTURE_IMAGES, 'skimage_coffee.jpg'), path.join(small, 'a', 'coffee.jpg'));
    cpSync(path.join(FIXTURE_IMAGES, 'skimage_chelsea_cat.jpg'), path.join(small, 'b', 'cat.jpg'));
    symlinkSync(path.join(outside, 'a', 'x.jpg'), path.join(small, 'b', 'link.jpg'));
    const r = report(await srv.conn.sendRequest(CurateRequest.type, { root: uri(small) }));
    assert.equal(r.counts.analysed, 2);
    assert.ok(!r.files.some((f) => f.file === 'b/link.jpg'), 'the link is not analysed');
    const skipped = r.skipped.find((x) => x.file === 'b/link.jpg');
    assert.ok(skipped && /outside the dataset folder/.test(skipped.reason), JSON.stringify(r.skipped));
  });
});

/** The first file name (sorted) in a folder. */
function readFileSyncDir(dir: string): string {
  return readdirSync(dir).sort()[0]!;
}
