/**
 * `imageClassifier/find` over JSON-RPC on a folder that was never curated (the real server child process, MobileNetV2
 * int8, the fish/ and instrument/ folders of ../shared/datasets/curation-dev copied into a temporary workspace): its
 * answers beside the CLI's `find`, a noun with several senses, and every way a request is refused (typed error, code
 * and a sentence) or cancelled.
 */
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { CancellationTokenSource } from 'vscode-jsonrpc/node';
import { FindRequest } from '@image-classifier/protocol';
import { sharedDir, SKIP_NO_SHARED } from '../../../test-fixtures/fixtures.js';
import { BIN, MOBILENET_INT8, rpcError, type ServerHandle, startReadyServer, uri } from './server-client.js';

const shared = sharedDir();
const DEV = shared ? path.join(shared, 'datasets', 'curation-dev', 'dataset') : '';
const FILES = 34;

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

  test('a folder never curated is classified and ranked; the same files in the same order as the CLI', async () => {
    const r = await srv.conn.sendRequest(FindRequest.type, { noun: 'fish', root: uri(dataset), top: 10 });
    assert.equal(r.searched, FILES);
    assert.equal(r.concept.synset, 'n02512053');
    assert.ok(
      r.items.every((h) => h.file.startsWith('fish/')),
      r.items.map((h) => h.file).join(', '),
    );
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [BIN, 'find', 'fish', '--in', dataset, '--model', MOBILENET_INT8, '--top', '10', '--format', 'json', '--no-progress'],
      { maxBuffer: 1 << 24 },
    );
    const cli = JSON.parse(stdout) as { results: Array<{ file: string; mass: number }> };
    assert.deepEqual(
      r.items.map((h) => h.file),
      cli.results.map((h) => h.file),
    );
    // The server sums the classes under the synset among each image's top 10 (the result cache), the CLI all 1000.
    for (const [i, h] of r.items.entries())
      assert.ok(Math.abs(h.mass - cli.results[i]!.mass) < 0.01, `${h.file}: ${h.mass} vs ${cli.results[i]!.mass}`);
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
