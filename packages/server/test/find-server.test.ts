/**
 * `imageClassifier/find` over JSON-RPC on a folder that was never curated (the real server child process, MobileNetV2
 * int8, the fish/ and instrument/ folders of ../shared/datasets/curation-dev copied into a temporary workspace): its
 * whole ranking (every file at ≥ 1 %, order and masses) beside the CLI's `find`, with some images classified before
 * (cached results without an output row), a noun with several senses, and every way a request is refused (typed error, code
 * and a sentence) or cancelled.
 */
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { CancellationTokenSource } from 'vscode-jsonrpc/node';
import { ClassifyRequest, ClearCacheRequest, FindRequest } from '@image-classifier/protocol';
import { sharedDir, SKIP_NO_SHARED } from '../../../test-fixtures/fixtures.js';
import { BIN, MOBILENET_INT8, rpcError, type ServerHandle, startReadyServer, uri } from './server-client.js';

const shared = sharedDir();
const DEV = shared ? path.join(shared, 'datasets', 'curation-dev', 'dataset') : '';
const FILES = 34;

/** The CLI's `find` over every file of `root` (all 1000 classes per image). */
async function cliFind(
  noun: string,
  root: string,
): Promise<{ concept: { synset: string }; results: Array<{ file: string; mass: number }> }> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [BIN, 'find', noun, '--in', root, '--model', MOBILENET_INT8, '--top', '10000', '--format', 'json', '--no-progress'],
    { maxBuffer: 1 << 24 },
  );
  return JSON.parse(stdout);
}

describe('imageClassifier/find', { skip: shared ? false : SKIP_NO_SHARED }, () => {
  let work: string;
  let ws: string;
  let dataset: string;
  let srv: ServerHandle;

  before(async () => {
    work = mkdtempSync(path.join(tmpdir(), 'ic-find-'));
    ws = path.join(work, 'workspace');
    dataset = path.join(ws, 'dataset');
    for (const c of ['fish', 'instrument']) cpSync(path.join(DEV, c), path.join(dataset, c), { recursive: true });
    mkdirSync(path.join(ws, 'empty'));
    writeFileSync(path.join(ws, 'notes.txt'), 'not a folder');
    mkdirSync(path.join(work, 'outside'));
    srv = await startReadyServer({ cacheDir: path.join(work, 'cache'), roots: [ws] });
  });

  after(async () => {
    await srv?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  test('a search cancelled while it reads a folder never curated ends with CANCELLED', async () => {
    const cts = new CancellationTokenSource();
    const pending = srv.conn.sendRequest(FindRequest.type, { noun: 'fish', root: uri(dataset) }, cts.token);
    setTimeout(() => cts.cancel(), 50);
    const e = await rpcError(pending);
    assert.equal(e.data?.code, 'CANCELLED', e.message);
  });

  test('every file at ≥ 1 % ranks as the CLI ranks it, with its masses, also for images classified before (no output row cached)', async () => {
    // Five fish classified first: their cached results hold the top 10 classes only, so find must classify them again.
    const fishFiles = readdirSync(path.join(dataset, 'fish')).sort().slice(0, 5);
    for (const f of fishFiles) await srv.conn.sendRequest(ClassifyRequest.type, { uri: uri(path.join(dataset, 'fish', f)) });
    for (const noun of ['fish', 'animal', 'device']) {
      const r = await srv.conn.sendRequest(FindRequest.type, { noun, root: uri(dataset), top: 10_000 });
      assert.equal(r.searched, FILES);
      if (noun === 'fish') {
        assert.equal(r.concept.synset, 'n02512053');
        assert.ok(
          r.items.slice(0, 10).every((h) => h.file.startsWith('fish/')),
          r.items.map((h) => h.file).join(', '),
        );
      }
      const cli = await cliFind(noun, dataset);
      assert.equal(r.concept.synset, cli.concept.synset, noun);
      const board = r.items.filter((h) => h.mass >= 0.01);
      const exact = cli.results.filter((h) => h.mass >= 0.01);
      assert.ok(exact.length >= 10, `${noun}: only ${exact.length} files at ≥ 1 %`);
      console.log(`find ${noun}: ${exact.length} files at ≥ 1 % (CLI), ${board.length} (server)`);
      assert.deepEqual(
        board.map((h) => h.file),
        exact.map((h) => h.file),
        noun,
      );
      for (const [i, h] of board.entries())
        assert.ok(Math.abs(h.mass - exact[i]!.mass) <= 1e-4, `${noun}: ${h.file}: ${h.mass} vs the CLI's ${exact[i]!.mass}`);
    }
    // The output rows are cached: one float32 row per image, in its own log.
    const log = path.join(work, 'cache', 'results', 'outputs-v1.log');
    const lines = readFileSync(log, 'utf8')
      .split('\n')
      .filter((l) => l.includes('"t":"r"'));
    // One row per distinct image content (the folders hold exact duplicates).
    const contents = new Set(
      ['fish', 'instrument'].flatMap((c) =>
        readdirSync(path.join(dataset, c)).map((f) =>
          createHash('sha256')
            .update(readFileSync(path.join(dataset, c, f)))
            .digest('hex'),
        ),
      ),
    );
    assert.equal(new Set(lines.map((l) => /"k":"([^"]+)"/.exec(l)![1])).size, contents.size);
    const perImage = statSync(log).size / lines.length;
    console.log(`output cache: ${lines.length} rows, ${statSync(log).size} bytes, ${Math.round(perImage)} bytes per image`);
    // clearCache empties the output rows too: the next search classifies again, with the same answer.
    await srv.conn.sendRequest(ClearCacheRequest.type);
    assert.equal(
      readFileSync(log, 'utf8')
        .split('\n')
        .filter((l) => l.includes('"t":"r"')).length,
      0,
    );
    const again = await srv.conn.sendRequest(FindRequest.type, { noun: 'fish', root: uri(dataset), top: 10_000 });
    const cli = await cliFind('fish', dataset);
    assert.deepEqual(
      again.items.map((h) => [h.file, h.mass]).filter(([, m]) => (m as number) >= 0.01),
      cli.results.map((h) => [h.file, h.mass]).filter(([, m]) => (m as number) >= 0.01),
    );
    assert.ok(perImage > 4000 && perImage < 6000, `${perImage} bytes per cached output row`);
  });

  test('a noun with several senses takes the one holding the dataset’s mass and lists the others', async () => {
    const r = await srv.conn.sendRequest(FindRequest.type, { noun: 'instrument', root: uri(dataset), top: 15 });
    assert.equal(r.concept.synset, 'n03800933', JSON.stringify(r.senses));
    assert.equal(r.concept.name, 'musical instrument');
    assert.deepEqual(
      r.senses.map((s) => s.synset),
      ['n03800933', 'n03574816'],
    );
    const inInstrument = r.items.filter((h) => h.file.startsWith('instrument/')).length;
    assert.ok(inInstrument >= 12, `${inInstrument} of the top 15 in instrument/: ${r.items.map((h) => h.file).join(', ')}`);
  });

  test('an empty folder answers with no files, not an error', async () => {
    const r = await srv.conn.sendRequest(FindRequest.type, { noun: 'fish', root: uri(path.join(ws, 'empty')) });
    assert.equal(r.searched, 0);
    assert.deepEqual(r.items, []);
    assert.equal(r.concept.synset, 'n02512053');
  });

  test('refused with a code and a sentence: unknown nouns (close matches), an empty noun, bad roots, bad top, bad params', async () => {
    const refused = async (params: unknown, code: string, message: RegExp) => {
      const e = await rpcError(srv.conn.sendRequest(FindRequest.type, params as never));
      assert.equal(e.data?.code, code, `${JSON.stringify(params)}: ${e.message}`);
      assert.match(e.message, message);
    };
    const root = uri(dataset);
    await refused(
      { noun: 'qwertyzzz', root },
      'INVALID_ARGUMENT',
      /^'qwertyzzz' is not a noun with ImageNet classes below it in WordNet; close matches: /,
    );
    await refused({ noun: 'fsh', root }, 'INVALID_ARGUMENT', /close matches: (\w+, )*fish\b/);
    await refused({ noun: 'wale', root }, 'INVALID_ARGUMENT', /close matches: (\w+, )*whale\b/);
    await refused({ noun: '', root }, 'INVALID_ARGUMENT', /^Give a noun to find, for example fish, fruit or vehicle\.$/);
    await refused({ noun: '   ', root }, 'INVALID_ARGUMENT', /^Give a noun to find/);
    await refused({ noun: 'fish', root: uri(path.join(ws, 'missing')) }, 'FILE_NOT_FOUND', /^Dataset folder not found: .*missing\.$/);
    await refused({ noun: 'fish', root: uri(path.join(work, 'outside')) }, 'OUTSIDE_WORKSPACE', /is outside the workspace folders/);
    await refused({ noun: 'fish', root: uri(path.join(ws, 'notes.txt')) }, 'NOT_A_FILE', /notes\.txt is not a folder\.$/);
    for (const top of [0, 1.5, 10_001, '5'])
      await refused({ noun: 'fish', root, top }, 'INVALID_ARGUMENT', /^top must be an integer from 1 to 10000 \(got /);
    await refused({ root }, 'INVALID_ARGUMENT', /^find needs one params object \{noun, root, top\?\}\.$/);
  });
});
