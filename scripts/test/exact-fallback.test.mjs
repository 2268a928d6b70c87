// Where usearch has no build (win32-arm64), curation searches exactly and says so. Simulated on this machine: the
// extension's server bundle (packages/extension/dist/server, this machine's target) is copied without
// node_modules/usearch; its Model Info says `neighbourSearch: 'exact'`, and curating the dev set with the graph
// threshold lowered (IMAGE_CLASSIFIER_CURATION_EXACT_ROWS=10) gives the label issues and duplicate groups that the
// bundle with usearch gives through its graph. Skips loudly without ../shared or a build.
//   node --test scripts/test/exact-fallback.test.mjs
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);
const SHARED = process.env.IMAGE_CLASSIFIER_SHARED_DIR ?? path.resolve(ROOT, '..', 'shared');
// A real model: the seed-0 ResNet50's random features make near-ties that graph and exact search break differently.
const MODEL = path.join(SHARED, 'models', 'mobilenetv2-12-int8.onnx');
const DATASET = path.join(SHARED, 'datasets', 'curation-dev', 'dataset');
const BUILT = path.join(ROOT, 'packages', 'extension', 'dist', 'server');
const skip = !existsSync(path.join(BUILT, 'node_modules', 'usearch'))
  ? 'SKIPPED: packages/extension/dist/server with usearch not built (run `npm run build` on a target usearch has a build for)'
  : (!existsSync(MODEL) || !existsSync(DATASET)) && `SKIPPED: ../shared not found at ${SHARED}`;
const work = mkdtempSync(path.join(tmpdir(), 'ic-exact-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** Runs a copy of the server bundle (without usearch when `withoutUsearch`): its Model Info and dev-set report. */
async function run(withoutUsearch) {
  const dir = path.join(work, withoutUsearch ? 'no-usearch' : 'usearch');
  cpSync(BUILT, dir, { recursive: true });
  if (withoutUsearch) rmSync(path.join(dir, 'node_modules', 'usearch'), { recursive: true });
  const rpc = require('vscode-jsonrpc/node');
  const child = spawn(process.execPath, [path.join(dir, 'server.js'), '--stdio'], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, ORT_DISABLE_TELEMETRY: '1', IMAGE_CLASSIFIER_CURATION_EXACT_ROWS: '10' },
  });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const exited = new Promise((r) => child.on('exit', r));
  const conn = rpc.createMessageConnection(new rpc.StreamMessageReader(child.stdout), new rpc.StreamMessageWriter(child.stdin));
  conn.listen();
  try {
    const initializationOptions = { model: MODEL, cacheDir: path.join(work, `cache-${withoutUsearch}`), roots: [DATASET] };
    await conn.sendRequest('initialize', { processId: process.pid, rootUri: null, capabilities: {}, initializationOptions });
    await conn.sendNotification('initialized', {});
    const info = await conn.sendRequest('imageClassifier/modelInfo', {});
    const report = await conn.sendRequest('imageClassifier/curate', { root: pathToFileURL(DATASET).href });
    return { info, report };
  } catch (e) {
    throw new Error(`${e.message}\n${stderr.slice(-2000)}`);
  } finally {
    await conn.sendRequest('shutdown').catch(() => {});
    await conn.sendNotification('exit').catch(() => {});
    await exited;
    conn.dispose();
  }
}

test('without usearch: Model Info says exact, and curation finds what the graph finds', { skip, timeout: 600_000 }, async () => {
  const graph = await run(false);
  const exact = await run(true);
  assert.equal(graph.info.neighbourSearch, 'graph');
  assert.equal(exact.info.neighbourSearch, 'exact');
  assert.equal(graph.report.run.neighbourIndex?.kind, 'built');
  assert.equal(exact.report.run.neighbourIndex?.kind ?? 'exact', 'exact');
  const issues = (r) => r.labelIssues.map((i) => `${i.file} ${i.label}→${i.suggestedLabel}`).sort();
  const groups = (r) => r.duplicateGroups.map((g) => `${g.kind}: ${[...g.files].sort().join(' ')}`).sort();
  assert.ok(graph.report.labelIssues.length > 0 && graph.report.duplicateGroups.length > 0);
  assert.deepEqual(issues(exact.report), issues(graph.report));
  assert.deepEqual(groups(exact.report), groups(graph.report));
});
