// .github/workflows/platforms.yml: valid (actionlint, built from the Go module proxy on first use), a matrix over
// the five native runners, and every `run:` step a command of this repository that the Linux CI runs too (so only
// the runner differs). Skips the actionlint part loudly where Go is missing.
//   node --test scripts/test/workflow.test.mjs
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const WORKFLOW = path.join(ROOT, '.github', 'workflows', 'platforms.yml');
const text = readFileSync(WORKFLOW, 'utf8');
const rootScripts = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts;
const read = (rel) => readFileSync(path.join(ROOT, rel), 'utf8');

const goMissing = spawnSync('go', ['version']).status !== 0;
test('actionlint finds nothing wrong in .github/workflows', {
  skip: goMissing && 'SKIPPED: go is not installed (actionlint is built with it)',
  timeout: 600_000,
}, () => {
  const r = spawnSync('bash', [path.join(ROOT, 'scripts', 'ci', 'actionlint.sh')], { encoding: 'utf8' });
  assert.equal(r.status, 0, `actionlint:\n${r.stdout}${r.stderr}`);
});

test('actionlint fails a broken workflow (the check can fail)', {
  skip: goMissing && 'SKIPPED: go is not installed',
  timeout: 600_000,
}, () => {
  const expr = (e) => `\${{ ${e} }}`;
  const broken = text.replace(`runs-on: ${expr('matrix.os')}`, `runs-on: ${expr('matrix.no_such_key')}`);
  assert.notEqual(broken, text);
  const r = spawnSync('bash', [path.join(ROOT, 'scripts', 'ci', 'actionlint.sh'), '-'], { input: broken, encoding: 'utf8' });
  assert.notEqual(r.status, 0);
  assert.match(r.stdout + r.stderr, /no_such_key/);
});

test('the matrix covers the five native runners, one VS Code target each', () => {
  const pairs = [...text.matchAll(/- os: (\S+)\n\s+target: (\S+)/g)].map((m) => `${m[1]} ${m[2]}`);
  assert.deepEqual(pairs, [
    'windows-latest win32-x64',
    'windows-11-arm win32-arm64',
    'macos-14 darwin-arm64',
    'ubuntu-24.04 linux-x64',
    'ubuntu-24.04-arm linux-arm64',
  ]);
});

/**
 * Each command a workflow step may run, with the proof that the Linux CI (.ci/run → scripts/test-all.sh → npm test
 * → scripts/run-tests.mjs → the test files) runs it too: [file of that chain, text in it].
 */
const LINUX_CI_RUNS = {
  'node scripts/ci/ensure-npm.mjs': ['scripts/test-all.sh', 'node scripts/ci/ensure-npm.mjs'],
  'npm ci': ['scripts/test-all.sh', 'npm ci --no-audit --no-fund'],
  'npm run build': ['package.json', '"test": "npm run build'],
  'npm run lint': ['package.json', 'npm run lint && node scripts/run-tests.mjs'],
  // test:unit runs the package suites, which `npm test` runs with the rest.
  'npm run test:unit': ['scripts/run-tests.mjs', "for (const pkg of ['protocol', 'core', 'server', 'extension'])"],
  'npm run package': ['e2e/vsix-platforms.test.mjs', "'scripts/package.mjs', '--all'"],
  'npm run check-vsix': ['e2e/vsix-platforms.test.mjs', 'checkVsix('],
  'npm run pack:cli': ['scripts/test/cli-package.test.mjs', 'await packCli(host, work)'],
  'bash .ci/install-e2e.sh': ['scripts/test-all.sh', 'bash .ci/install-e2e.sh'],
  'node --test e2e/extension.test.mjs': ['scripts/run-tests.mjs', "if (f.endsWith('.test.mjs')) files.push(path.join('e2e', f))"],
  'node scripts/ci/collect-vsix.mjs': ['e2e/vsix-platforms.test.mjs', 'collect(out)'],
};

test('every run: step is a repository command that the Linux CI runs too', () => {
  assert.doesNotMatch(text, /run:\s*[|>]/, 'one command line per step (no block scalars)');
  const commands = [...text.matchAll(/^\s*run: (.+)$/gm)].flatMap((m) => m[1].split('&&').map((c) => c.trim()));
  assert.ok(commands.length >= 9, `${commands.length} run steps`);
  for (const cmd of commands) {
    const key = Object.keys(LINUX_CI_RUNS).find((k) => cmd === k || cmd.startsWith(`${k} `));
    assert.ok(key, `${cmd}: not a command the Linux CI runs`);
    const npmScript = /^npm run (\S+)/.exec(key)?.[1];
    if (npmScript) assert.ok(rootScripts[npmScript], `package.json has no script ${npmScript}`);
    const file = /^(?:node|bash)(?: --test)? (\S+)/.exec(key)?.[1];
    if (file) assert.ok(existsSync(path.join(ROOT, file)), `${file} exists`);
    const [where, proof] = LINUX_CI_RUNS[key];
    assert.ok(read(where).includes(proof), `${where} runs ${key} (looked for ${JSON.stringify(proof)})`);
  }
  // The chain itself: .ci/run runs test-all.sh, which runs npm test; npm test runs run-tests.mjs.
  assert.match(read('.ci/run'), /npm run test:all/);
  assert.match(rootScripts['test:all'], /scripts\/test-all\.sh/);
  assert.match(read('scripts/test-all.sh'), /^npm test$/m);
  assert.match(rootScripts.test, /node scripts\/run-tests\.mjs/);
});
