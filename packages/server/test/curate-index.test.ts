/**
 * The neighbour graph curate keeps with the cache (large datasets; the exact-search threshold is lowered through
 * IMAGE_CLASSIFIER_CURATION_EXACT_ROWS so that the 104-photo dev set takes the graph path): saved by the analysis
 * worker, loaded by find-similar, updated by the next run (a moved file reused, an edited one re-added), removed by
 * Clear Cache. Real server child process, real MobileNetV2 int8.
 */
import { strict as assert } from 'node:assert';
import { cpSync, existsSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { ClearCacheRequest, CurateRequest, type CurateResult, SimilarRequest } from '@image-classifier/protocol';
import { sharedDir, SKIP_NO_SHARED } from '../../../test-fixtures/fixtures.js';
import { type ServerHandle, uri, startReadyServer } from './server-client.js';

const shared = sharedDir();
const DEV = shared ? path.join(shared, 'datasets', 'curation-dev') : '';
const FILES = 104;

function run(r: CurateResult) {
  assert.equal(r.cancelled, false, 'the run completed');
  return r.run;
}

describe('curation: the neighbour graph kept with the cache', { skip: shared ? false : SKIP_NO_SHARED }, () => {
  let work: string;
  let dataset: string;
  let cache: string;
  let srv: ServerHandle;
  const graphFiles = () => (existsSync(path.join(cache, 'curation')) ? readdirSync(path.join(cache, 'curation')).sort() : []);

  before(async () => {
    work = mkdtempSync(path.join(tmpdir(), 'ic-curate-index-'));
    dataset = path.join(work, 'ws', 'dataset');
    cache = path.join(work, 'cache');
    cpSync(path.join(DEV, 'dataset'), dataset, { recursive: true });
    srv = await startReadyServer({ cacheDir: cache, roots: [path.join(work, 'ws')] }, { IMAGE_CLASSIFIER_CURATION_EXACT_ROWS: '50' });
  });

  after(async () => {
    await srv?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  test('the first run builds the graph and saves it (graph + sidecars + checksum manifest, no temporary files left)', async () => {
    const r = run(await srv.conn.sendRequest(CurateRequest.type, { root: uri(dataset) }));
    assert.deepEqual(r.neighbourIndex, { kind: 'built' });
    assert.equal(r.analysisThread, 'worker');
    const files = graphFiles();
    assert.equal(files.length, 4, files.join(', '));
    assert.match(files[0]!, /^ann-[0-9a-f]{20}\.usearch$/);
    assert.deepEqual(files.slice(1), [`${files[0]}.f32`, `${files[0]}.json`, `${files[0]}.sum.json`]);
  });

  test('find similar answers from the saved graph: a dataset image finds itself first', async () => {
    const fish = readdirSync(path.join(dataset, 'fish')).sort()[0]!;
    const r = await srv.conn.sendRequest(SimilarRequest.type, { uri: uri(path.join(dataset, 'fish', fish)), k: 5 });
    assert.equal(r.indexed, FILES);
    assert.equal(r.items[0]!.file, `fish/${fish}`);
    assert.ok(r.items[0]!.similarity > 0.999);
    for (let i = 1; i < r.items.length; i++) assert.ok(r.items[i]!.similarity <= r.items[i - 1]!.similarity);
  });

  test('a moved file: the next run updates the graph, reusing every row; an edited file is removed and added', async () => {
    const name = readdirSync(path.join(dataset, 'fish')).sort()[1]!;
    renameSync(path.join(dataset, 'fish', name), path.join(dataset, 'tool', name));
    const moved = run(await srv.conn.sendRequest(CurateRequest.type, { root: uri(dataset) }));
    assert.equal(moved.embedded, 0);
    assert.deepEqual(moved.neighbourIndex, { kind: 'updated', reused: FILES, added: 0, removed: 0 });
    const edited = readdirSync(path.join(dataset, 'monument')).sort()[0]!;
    const file = path.join(dataset, 'monument', edited);
    writeFileSync(file, await sharp(file).flop().jpeg({ quality: 80 }).toBuffer());
    const after = run(await srv.conn.sendRequest(CurateRequest.type, { root: uri(dataset) }));
    assert.equal(after.embedded, 1);
    assert.deepEqual(after.neighbourIndex, { kind: 'updated', reused: FILES - 1, added: 1, removed: 1 });
    const r = await srv.conn.sendRequest(SimilarRequest.type, { uri: uri(file), k: 3 });
    assert.equal(r.items[0]!.file, `monument/${edited}`, 'the edited image is found as it is now');
    assert.ok(r.items[0]!.similarity > 0.999);
  });

  test('Clear Cache removes the saved graph; the next run builds it again', async () => {
    await srv.conn.sendRequest(ClearCacheRequest.type, {});
    assert.deepEqual(graphFiles(), []);
    const r = run(await srv.conn.sendRequest(CurateRequest.type, { root: uri(dataset) }));
    assert.deepEqual(r.neighbourIndex, { kind: 'built' });
    assert.equal(graphFiles().length, 4);
  });
});
