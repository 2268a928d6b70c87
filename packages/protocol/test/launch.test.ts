import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import {
  CLI_MALLOC_TUNABLES,
  cliMayConnect,
  cliRerunEnv,
  engineProcessEnv,
  MALLOC_TUNABLES,
  mallocTuningMissing,
  SERVER_EXEC_ARGV,
  withMallocTunables,
} from '../src/launch.js';

test('malloc tunables: added to an empty or unrelated GLIBC_TUNABLES; a user setting for the same tunable wins', () => {
  assert.equal(withMallocTunables(undefined), MALLOC_TUNABLES);
  assert.equal(withMallocTunables('glibc.pthread.rseq=0'), `glibc.pthread.rseq=0:${MALLOC_TUNABLES}`);
  const mine = withMallocTunables('glibc.malloc.arena_max=4');
  assert.match(mine, /^glibc\.malloc\.arena_max=4:/);
  assert.equal(mine.match(/arena_max/g)?.length, 1);
  assert.match(mine, /glibc\.malloc\.hugetlb=1/);
});

test('engine process env: telemetry off everywhere, tunables on Linux only, opt-out honoured', () => {
  const linux = engineProcessEnv({ PATH: '/bin' }, 'linux');
  assert.equal(linux.ORT_DISABLE_TELEMETRY, '1');
  assert.equal(linux.GLIBC_TUNABLES, MALLOC_TUNABLES);
  assert.equal(linux.PATH, '/bin');
  const mac = engineProcessEnv({}, 'darwin');
  assert.equal(mac.ORT_DISABLE_TELEMETRY, '1');
  assert.equal(mac.GLIBC_TUNABLES, undefined);
  assert.equal(engineProcessEnv({ IMAGE_CLASSIFIER_MALLOC_TUNING: '0' }, 'linux').GLIBC_TUNABLES, undefined);
  assert.equal(mallocTuningMissing({}, 'linux'), true);
  assert.equal(mallocTuningMissing({ GLIBC_TUNABLES: MALLOC_TUNABLES }, 'linux'), false);
  assert.equal(mallocTuningMissing({}, 'win32'), false);
});

test("the CLI's tunables: the heap settings without huge pages; present or missing by name, the C library asked last", () => {
  assert.equal(CLI_MALLOC_TUNABLES, 'glibc.malloc.mmap_threshold=33554432:glibc.malloc.arena_max=1');
  assert.match(MALLOC_TUNABLES, /^glibc\.malloc\.hugetlb=1:/);
  assert.ok(MALLOC_TUNABLES.endsWith(CLI_MALLOC_TUNABLES), "the server's set is the CLI's plus huge pages");
  const cli = engineProcessEnv({}, 'linux', true, CLI_MALLOC_TUNABLES);
  assert.equal(cli.GLIBC_TUNABLES, CLI_MALLOC_TUNABLES);
  assert.doesNotMatch(cli.GLIBC_TUNABLES!, /hugetlb/);
  // A user's own huge-page setting stays; nothing of ours is added twice.
  assert.equal(withMallocTunables('glibc.malloc.hugetlb=1', CLI_MALLOC_TUNABLES), `glibc.malloc.hugetlb=1:${CLI_MALLOC_TUNABLES}`);
  assert.equal(withMallocTunables(CLI_MALLOC_TUNABLES, CLI_MALLOC_TUNABLES), CLI_MALLOC_TUNABLES);
  // The CLI's re-run has them all: nothing missing. The server's set has them too (a superset).
  assert.equal(mallocTuningMissing({ GLIBC_TUNABLES: CLI_MALLOC_TUNABLES }, 'linux', true, CLI_MALLOC_TUNABLES), false);
  assert.equal(mallocTuningMissing({ GLIBC_TUNABLES: MALLOC_TUNABLES }, 'linux', true, CLI_MALLOC_TUNABLES), false);
  // One of them missing (a user's arena setting alone): re-run to add the other.
  assert.equal(mallocTuningMissing({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=4' }, 'linux', true, CLI_MALLOC_TUNABLES), true);
  // Without huge pages the server's set is missing something; the CLI's is not.
  assert.equal(mallocTuningMissing({ GLIBC_TUNABLES: CLI_MALLOC_TUNABLES }, 'linux', true), true);
  assert.equal(mallocTuningMissing({}, 'linux', true, CLI_MALLOC_TUNABLES), true);
  assert.equal(mallocTuningMissing({}, 'linux', false, CLI_MALLOC_TUNABLES), false, 'musl');
  assert.equal(mallocTuningMissing({ IMAGE_CLASSIFIER_MALLOC_TUNING: '0' }, 'linux', true, CLI_MALLOC_TUNABLES), false);
});

test('a command line that may connect: a model by URL, --model-url, --remote, or no --model (the default download)', () => {
  assert.equal(cliMayConnect(['classify', '--model', '/m/resnet.onnx', 'a.jpg']), false);
  assert.equal(cliMayConnect(['classify', '--model=/m/resnet.onnx', '--threads', '2', 'dir']), false);
  assert.equal(cliMayConnect(['model', 'info', '--model', 'rel/m.onnx']), false);
  assert.equal(cliMayConnect(['classify', 'a.jpg']), true, 'the default model may be downloaded');
  assert.equal(cliMayConnect(['classify', '--model=', 'a.jpg']), true, 'an empty --model is the default model');
  assert.equal(cliMayConnect(['classify', '--model', ' ', 'a.jpg']), true, 'a blank --model is the default model');
  assert.equal(cliMayConnect(['classify', '--model', 'https://example.org/m.onnx', 'a.jpg']), true);
  assert.equal(cliMayConnect(['classify', '--model=HTTP://example.org/m.onnx', 'a.jpg']), true);
  assert.equal(cliMayConnect(['classify', '--model', '/m.onnx', '--model-url', 'https://x/m.onnx', 'a.jpg']), true);
  assert.equal(cliMayConnect(['classify', '--model', '/m.onnx', '--remote', 'http://127.0.0.1:8000', 'a.jpg']), true);
  assert.equal(cliMayConnect(['classify', '--model', '/m.onnx', '--remote=http://h', 'a.jpg']), true);
  assert.equal(cliMayConnect(['classify', '--model', 'https://x/m.onnx', '--model', '/m.onnx', 'a.jpg']), false, 'the last --model wins');
  assert.equal(cliMayConnect(['classify', '--', '--model', '/m.onnx']), true, 'after --, a file named --model');
  assert.equal(cliMayConnect(['classify', '--model']), true, '--model without a value');
});

test("the CLI's re-run: its tunables, and NODE_EXTRA_CA_CERTS only when it may connect", () => {
  const base = { PATH: '/bin', NODE_EXTRA_CA_CERTS: '/etc/ssl/certs/ca-certificates.crt' };
  const local = cliRerunEnv(base, ['classify', '--model', '/m.onnx', 'a.jpg'], 'linux');
  assert.equal(local.NODE_EXTRA_CA_CERTS, undefined);
  assert.equal(local.PATH, '/bin');
  assert.equal(local.ORT_DISABLE_TELEMETRY, '1');
  assert.equal(base.NODE_EXTRA_CA_CERTS, '/etc/ssl/certs/ca-certificates.crt', "the caller's environment is not changed");
  const remote = cliRerunEnv(base, ['classify', '--model', '/m.onnx', '--remote', 'https://h', 'a.jpg'], 'linux');
  assert.equal(remote.NODE_EXTRA_CA_CERTS, '/etc/ssl/certs/ca-certificates.crt');
  assert.equal(cliRerunEnv(base, ['classify', 'a.jpg'], 'linux').NODE_EXTRA_CA_CERTS, '/etc/ssl/certs/ca-certificates.crt');
  if (process.platform === 'linux') {
    const tuned = cliRerunEnv({}, ['classify', '--model', '/m.onnx'], 'linux');
    assert.ok(tuned.GLIBC_TUNABLES === undefined || tuned.GLIBC_TUNABLES === CLI_MALLOC_TUNABLES);
  }
});

test('a process started with the engine env really runs with the tunables (glibc reads them at start)', {
  skip: process.platform !== 'linux' && 'Linux only',
}, () => {
  const out = execFileSync(process.execPath, ['-e', 'console.log(process.env.GLIBC_TUNABLES || "")'], {
    env: engineProcessEnv({ PATH: process.env.PATH }),
    encoding: 'utf8',
  });
  assert.equal(out.trim(), MALLOC_TUNABLES);
});

test('the server V8 flags are command-line flags node accepts at start (NODE_OPTIONS refuses them: launchers pass execArgv)', () => {
  assert.ok(SERVER_EXEC_ARGV.length > 0);
  const out = execFileSync(process.execPath, [...SERVER_EXEC_ARGV, '-e', 'console.log(JSON.stringify(process.execArgv))'], {
    encoding: 'utf8',
  });
  assert.deepEqual(JSON.parse(out).slice(0, SERVER_EXEC_ARGV.length), [...SERVER_EXEC_ARGV]);
  assert.throws(() =>
    execFileSync(process.execPath, ['-e', '0'], { env: { ...process.env, NODE_OPTIONS: SERVER_EXEC_ARGV.join(' ') }, stdio: 'pipe' }),
  );
});
