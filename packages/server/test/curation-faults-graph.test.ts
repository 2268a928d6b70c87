/**
 * Fault injection on the neighbour graph curate saves with the cache (issue 17, point 3): a saved graph whose bytes
 * were overwritten (same size), truncated, whose sidecar was changed or whose checksum manifest is gone is never
 * loaded: the run builds the graph anew, says so in `run.neighbourIndex.rebuilt`, and reports what a clean run
 * reports. A graph that crashes the native loader (forced through a test-only hook in the loader child) leaves the
 * server alive and answering. Real server child process, real MobileNetV2 int8, the 104-photo dev set on the graph
 * path (IMAGE_CLASSIFIER_CURATION_EXACT_ROWS lowered).
 */
import { strict as assert } from 'node:assert';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CurateRequest, type CurateResult, type LabelIssue, SimilarRequest } from '@image-classifier/protocol';
import { sharedDir, SKIP_NO_SHARED } from '../../../test-fixtures/fixtures.js';
import { type ServerHandle, startReadyServer, uri } from './server-client.js';

const shared = sharedDir();
const DEV = shared ? path.join(shared, 'datasets', 'curation-dev') : '';
const FILES = 104;
// One usearch thread: every build of the graph is the same, so a rebuilt graph's findings equal the clean run's.
const GRAPH_ENV = { IMAGE_CLASSIFIER_CURATION_EXACT_ROWS: '50', IMAGE_CLASSIFIER_ANN_THREADS: '1' };

type Done = Extract<CurateResult, { cancelled: false }>;

function done(r: CurateResult): Done {
  assert.equal(r.cancelled, false, 'the run completed');
  return r as Done;
}

/** The label issues as the user sees them (file, folder, suggestion), in report order. */
const issues = (r: Done) => r.labelIssues.map((x: LabelIssue) => ({ file: x.file, label: x.label, suggestedLabel: x.suggestedLabel }));
const outliers = (r: Done) => r.outliers.map((x) => x.file);
const qualities = (r: Done) => new Map(r.files.map((f) => [f.file, f.labelQuality ?? -1]));

/** Deterministic noise: `n` bytes that differ from any plausible graph content. */
function noise(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  let a = seed >>> 0;
  for (let i = 0; i < n; i++) {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    b[i] = a >>> 24;
  }
  return b;
}

describe('curation faults: a damaged saved neighbour graph', { skip: shared ? false : SKIP_NO_SHARED }, () => {
  let work: string;
  let dataset: string;
  let cache: string;
  let srv: ServerHandle;
  let clean: Done;

  const graph = () => {
    const dir = path.join(cache, 'curation');
    const g = readdirSync(dir).find((f) => f.endsWith('.usearch'));
    assert.ok(g, 'a graph was saved');
    return path.join(dir, g);
  };
  const curate = async () => done(await srv.conn.sendRequest(CurateRequest.type, { root: uri(dataset) }));

  /** The server process is still running and answers a find-similar request (a dataset image finds itself). */
  async function alive(): Promise<void> {
    assert.equal(srv.child.exitCode, null, `the server exited: ${srv.stderr().slice(-800)}`);
    assert.equal(srv.child.signalCode, null, `the server was killed: ${srv.stderr().slice(-800)}`);
    const fish = readdirSync(path.join(dataset, 'fish')).sort()[0]!;
    const r = await srv.conn.sendRequest(SimilarRequest.type, { uri: uri(path.join(dataset, 'fish', fish)), k: 5 });
    assert.equal(r.indexed, FILES);
    assert.equal(r.items[0]!.file, `fish/${fish}`);
    assert.ok(r.items[0]!.similarity > 0.999);
  }

  /** A run after the damage: rebuilt (and why), the clean run's findings, and a graph that verifies again. */
  async function rebuiltLikeClean(why: RegExp): Promise<Done> {
    const r = await curate();
    assert.equal(r.run.neighbourIndex?.kind, 'built', JSON.stringify(r.run.neighbourIndex));
    assert.match(r.run.neighbourIndex?.rebuilt ?? '(no reason given)', why);
    assert.deepEqual(issues(r), issues(clean), 'the label issues of a clean run');
    assert.deepEqual(outliers(r), outliers(clean), 'the outliers of a clean run');
    const q = qualities(clean);
    for (const [file, v] of qualities(r)) assert.ok(Math.abs(v - q.get(file)!) < 0.02, `labelQuality of ${file}: ${v} vs ${q.get(file)}`);
    // What it saved is whole: the next run updates it.
    const next = await curate();
    assert.deepEqual(next.run.neighbourIndex, { kind: 'updated', reused: FILES, added: 0, removed: 0 });
    assert.deepEqual(issues(next), issues(clean));
    return r;
  }

  before(async () => {
    work = mkdtempSync(path.join(tmpdir(), 'ic-faults-graph-'));
    dataset = path.join(work, 'ws', 'dataset');
    cache = path.join(work, 'cache');
    cpSync(path.join(DEV, 'dataset'), dataset, { recursive: true });
    srv = await startReadyServer({ cacheDir: cache, roots: [path.join(work, 'ws')] }, GRAPH_ENV);
    // The reference: a graph built with nothing saved, over the cached embeddings every later run reads.
    assert.ok((await curate()).run.embedded > 0);
    rmSync(path.join(cache, 'curation'), { recursive: true });
    clean = await curate();
    assert.equal(clean.run.embedded, 0);
    assert.deepEqual(clean.run.neighbourIndex, { kind: 'built' });
    assert.ok(clean.labelIssues.length > 0, 'the dev set has label issues to compare');
  });

  after(async () => {
    await srv?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  test('graph bytes overwritten, same size: rebuilt (checksum), the clean findings, the server alive', async () => {
    const g = graph();
    const size = statSync(g).size;
    const bytes = readFileSync(g);
    noise(size - 64, 17).copy(bytes, 64);
    writeFileSync(g, bytes);
    assert.equal(statSync(g).size, size);
    await rebuiltLikeClean(/failed its checksum: its graph file/);
    await alive();
  });

  test('graph header overwritten, same size: rebuilt (checksum)', async () => {
    const g = graph();
    const bytes = readFileSync(g);
    noise(64, 5).copy(bytes, 0);
    writeFileSync(g, bytes);
    await rebuiltLikeClean(/failed its checksum: its graph file/);
    await alive();
  });

  test('graph truncated: rebuilt (torn), the clean findings', async () => {
    const g = graph();
    truncateSync(g, Math.floor(statSync(g).size / 2));
    await rebuiltLikeClean(/torn: its graph file holds/);
    await alive();
  });

  test('vector sidecar changed, same size: rebuilt (checksum), the clean findings', async () => {
    const f32 = `${graph()}.f32`;
    const bytes = readFileSync(f32);
    // Scales a stretch of the projected vectors, as a damaged sector or a stray write would.
    for (let o = bytes.length >> 2; o < (bytes.length >> 1) - 4; o += 4) bytes.writeFloatLE(bytes.readFloatLE(o) * -3, o);
    writeFileSync(f32, bytes);
    await rebuiltLikeClean(/failed its checksum: its vector sidecar/);
  });

  test('key sidecar changed, same size: rebuilt (checksum), the clean findings', async () => {
    const json = `${graph()}.json`;
    const text = readFileSync(json, 'utf8');
    const at = text.indexOf('"ids":["') + 8;
    // Another content id for the first key: its row would be taken for new content and the real one left dead.
    const swapped = text.slice(0, at) + (text[at] === 'a' ? 'b' : 'a') + text.slice(at + 1);
    writeFileSync(json, swapped);
    await rebuiltLikeClean(/failed its checksum: its key sidecar/);
  });

  test('checksum manifest missing (a save torn before its last step): rebuilt', async () => {
    const manifest = `${graph()}.sum.json`;
    assert.ok(existsSync(manifest), 'the manifest is saved beside the graph');
    rmSync(manifest);
    await rebuiltLikeClean(/no checksum manifest/);
  });

  test('manifest of another version: rebuilt', async () => {
    const manifest = `${graph()}.sum.json`;
    const m = JSON.parse(readFileSync(manifest, 'utf8')) as { version: number };
    writeFileSync(manifest, JSON.stringify({ ...m, version: m.version + 1 }));
    await rebuiltLikeClean(/another version/);
  });

  test('find similar with the graph overwritten after the curate run: answers right, from a graph built anew', async () => {
    await curate();
    const g = graph();
    const bytes = readFileSync(g);
    noise(bytes.length - 64, 23).copy(bytes, 64);
    writeFileSync(g, bytes);
    const before = srv.stderr().length;
    await alive();
    assert.match(srv.stderr().slice(before), /saved graph is not used, building one \(the saved graph failed its checksum/);
  });

  test('a graph that crashes the native loader (test hook: the loader child aborts): the server stays alive, the run rebuilds', async () => {
    await curate();
    await srv.stop();
    srv = await startReadyServer(
      { cacheDir: cache, roots: [path.join(work, 'ws')] },
      { ...GRAPH_ENV, IMAGE_CLASSIFIER_TEST_HOOKS: '1', IMAGE_CLASSIFIER_TEST_CRASH_ANN_LOADER: '1' },
    );
    const r = await curate();
    assert.equal(r.run.neighbourIndex?.kind, 'built', JSON.stringify(r.run.neighbourIndex));
    assert.match(r.run.neighbourIndex?.rebuilt ?? '(no reason given)', /crashed the native library \(SIGABRT/);
    assert.deepEqual(issues(r), issues(clean));
    // find-similar's own load of the graph just saved goes through the same child: it crashes too, the query answers.
    const before = srv.stderr().length;
    await alive();
    assert.match(srv.stderr().slice(before), /saved graph is not used, building one \(loading the saved graph crashed the native library/);
    // No private copy of the graph is left behind.
    assert.deepEqual(
      readdirSync(path.join(cache, 'curation')).filter((f) => f.endsWith('.load') || f.endsWith('.tmp')),
      [],
    );
  });
});
