// Every platform VSIX, built from this checkout on this machine (`npm run package:all`'s script, into a temporary
// folder), passes the native-file check: the manifest's target, every native file of that target by its header,
// nothing of another target, ≤ 70 MB. Needs `npm run build` and the npm registry (sharp's per-platform packages, on
// first use, into .cache/natives; vsce from e2e/ or into .cache/tools).
//   node --test e2e/vsix-platforms.test.mjs
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { checkVsix, MAX_VSIX_BYTES, readZip } from '../packages/extension/scripts/check-vsix.mjs';
import { nativeKind } from '../packages/extension/scripts/native-headers.mjs';
import { hostTarget, TARGETS } from '../packages/extension/scripts/targets.mjs';
import { collect } from '../scripts/ci/collect-vsix.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const EXT = path.join(REPO, 'packages', 'extension');
const built = existsSync(path.join(REPO, 'packages', 'core', 'dist', 'index.js'));
const out = mkdtempSync(path.join(tmpdir(), 'ic-vsix-all-'));
after(() => rmSync(out, { recursive: true, force: true }));

test('npm run package:all: a VSIX per target, each of its own target only, each ≤ 70 MB', {
  skip: !built && 'SKIPPED: run `npm run build` first',
  timeout: 900_000,
}, () => {
  execFileSync(process.execPath, ['scripts/package.mjs', '--all', `--out-dir=${out}`], { cwd: EXT, stdio: 'pipe', maxBuffer: 64 << 20 });
  const files = readdirSync(out).filter((f) => f.endsWith('.vsix'));
  assert.deepEqual(files.map((f) => /^image-classifier-(.+)-\d+\.\d+\.\d+\.vsix$/.exec(f)?.[1]).sort(), Object.keys(TARGETS).sort());
  for (const f of files) {
    const target = /^image-classifier-(.+)-\d+\.\d+\.\d+\.vsix$/.exec(f)[1];
    const r = checkVsix(path.join(out, f), { target });
    // The server's scripts ride along: the server, its workers and the saved-graph probe (rpc/ann-guard.ts).
    const entries = new Set(readZip(readFileSync(path.join(out, f))).map((e) => e.name));
    for (const js of ['server.js', 'inference-worker.js', 'preprocess-worker.js', 'curate-worker.js', 'ann-probe.js']) {
      assert.ok(entries.has(`extension/dist/server/${js}`), `${f} holds dist/server/${js}`);
    }
    assert.equal(entries.has('extension/dist/server/cli.js'), false, `${f}: the CLI bundle stays out of the VSIX`);
    assert.deepEqual(r.problems, [], f);
    assert.ok(r.bytes <= MAX_VSIX_BYTES, `${f}: ${r.bytes} bytes`);
    console.log(`${f}: ${(r.bytes / 1e6).toFixed(1)} MB, native files: ${r.natives.map((n) => path.basename(n.name)).join(', ')}`);
    // The ORT binding, sharp's binding and (where usearch has a build) usearch's are among them.
    const names = r.natives.map((n) => path.basename(n.name));
    assert.ok(names.includes('onnxruntime_binding.node'), f);
    assert.ok(
      names.some((n) => n.startsWith(`sharp-${TARGETS[target].sharp}`)),
      f,
    );
    assert.equal(names.includes('usearch.node'), TARGETS[target].usearch !== null, f);
  }
  // The release job's collection step on the same folder: every target there, each passing.
  const collected = collect(out);
  assert.equal(collected.ok, true, collected.lines.join('\n'));
  // package:all builds this machine's target last: dist/ is left as this machine runs it.
  const host = hostTarget();
  if (TARGETS[host]) {
    const binding = path.join(EXT, 'dist', 'server', 'node_modules', 'onnxruntime-node', 'bin', 'napi-v6', TARGETS[host].ort);
    assert.ok(existsSync(binding), `dist/ holds ${host}'s onnxruntime`);
    assert.equal(nativeKind(readFileSync(path.join(binding, 'onnxruntime_binding.node')))?.archs[0], TARGETS[host].cpu);
  }
});
