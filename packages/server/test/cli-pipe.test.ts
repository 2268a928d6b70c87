/**
 * `image-classifier classify … | head`: a reader that stops reading early. The CLI must stop writing, stop its
 * inference thread and decoder processes in order and exit 141 (128 + SIGPIPE, as the shell reports a tool that
 * SIGPIPE stopped), with nothing on stderr: no unhandled 'error' event's stack trace, no native abort from
 * ONNX Runtime's or libvips' threads torn down mid-run.
 */
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { before, describe, test } from 'node:test';
import { FIXTURE_IMAGES, sharedDir, SKIP_NO_SHARED } from '../../../test-fixtures/fixtures.js';
import { BIN, MOBILENET_INT8 } from './server-client.js';

const shared = sharedDir();
const BASH = '/bin/bash';

interface Piped {
  /** The CLI's exit status (PIPESTATUS[0]: 128 + n when a signal n ended it). */
  code: number;
  stderr: string;
  /** The bytes the reader took before it closed. */
  read: number;
}

/**
 * Runs `node BIN classify … | head -c <bytes>` through bash (a real pipe whose reader exits early); the CLI's stderr
 * goes to a file (`2>&1` puts it into the pipe too).
 */
function piped(cliArgs: string[], opts: { bytes: number; stderrIntoPipe?: boolean; env?: NodeJS.ProcessEnv }): Promise<Piped> {
  const dir = mkdtempSync(path.join(tmpdir(), 'ic-pipe-'));
  const err = path.join(dir, 'stderr');
  const got = path.join(dir, 'read');
  const quoted = [process.execPath, BIN, ...cliArgs].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
  const redirect = opts.stderrIntoPipe ? `2>'${err}' 2>&1` : `2>'${err}'`;
  const script = `${quoted} ${redirect} | head -c ${opts.bytes} > '${got}'; echo "\${PIPESTATUS[0]}"`;
  return new Promise((resolve, reject) => {
    execFile(
      BASH,
      ['-c', script],
      { env: { ...process.env, IMAGE_CLASSIFIER_CACHE_DIR: cacheDir, ...opts.env }, timeout: 120_000 },
      (e, stdout) => {
        if (e) return reject(e);
        resolve({
          code: Number(stdout.trim()),
          stderr: existsSync(err) ? readFileSync(err, 'utf8') : '',
          read: existsSync(got) ? readFileSync(got).length : 0,
        });
      },
    );
  });
}

const cacheDir = mkdtempSync(path.join(tmpdir(), 'ic-pipe-cache-'));

/** What a crash leaves on stderr: a stack trace, an unhandled error event, a native abort. */
function assertQuiet(stderr: string, what: string): void {
  assert.doesNotMatch(stderr, /Aborted|terminate called|core dumped/i, `${what}: a native abort\n${stderr}`);
  assert.doesNotMatch(stderr, /EPIPE|Unhandled 'error' event|^\s+at /m, `${what}: an error's stack trace\n${stderr}`);
}

describe('classify into a pipe whose reader goes away', { skip: shared ? false : SKIP_NO_SHARED }, () => {
  // 48 images (../shared/images 4 times over) with their embeddings: ~25 KB a record, so the records overflow the
  // pipe's 64 KB buffer after the reader has gone, however fast the model is: every run meets EPIPE mid-folder.
  let args: string[];
  before(() => {
    args = ['classify', '--model', MOBILENET_INT8, '--format', 'jsonl', '--embedding', '--batch', '4'];
    for (let i = 0; i < 4; i++) args.push(path.join(shared!, 'images'));
  });

  test('| head -c 100: exit 141, nothing on stderr (the CLI re-run with malloc tuning, as installed)', async () => {
    const r = await piped(args, { bytes: 100 });
    assert.equal(r.read, 100, 'the reader got its bytes');
    assertQuiet(r.stderr, 'piped');
    assert.equal(r.code, 141, `exit status\n${r.stderr}`);
    assert.equal(r.stderr, '');
  });

  test('| head -c 100 in the CLI process itself (no re-run), several times', async () => {
    for (let i = 0; i < 3; i++) {
      const r = await piped(args, { bytes: 100, env: { IMAGE_CLASSIFIER_MALLOC_TUNING: '0' } });
      assertQuiet(r.stderr, `run ${i + 1}`);
      assert.equal(r.code, 141, `run ${i + 1}: exit status\n${r.stderr}`);
    }
  });

  test('2>&1 | head -c 1000: stderr gone with stdout, still a clean exit', async () => {
    const r = await piped(args, { bytes: 1000, stderrIntoPipe: true });
    assertQuiet(r.stderr, '2>&1');
    assert.equal(r.code, 141);
  });

  test('a reader that takes everything: exit 0, every record (the watch changes nothing else)', async () => {
    const r = await piped(['classify', '--model', MOBILENET_INT8, '--format', 'jsonl', FIXTURE_IMAGES], { bytes: 10_000_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.ok(r.read > 400, `${r.read} bytes: both records`);
  });

  test('stdout on a full disk (/dev/full): a sentence and exit 1, no stack trace', { skip: !existsSync('/dev/full') }, async () => {
    const quoted = [process.execPath, BIN, ...args].map((a) => `'${a}'`).join(' ');
    const r = await new Promise<{ code: number; stderr: string }>((resolve) => {
      execFile(BASH, ['-c', `${quoted} > /dev/full`], { env: { ...process.env, IMAGE_CLASSIFIER_CACHE_DIR: cacheDir } }, (e, _o, stderr) =>
        resolve({ code: e ? Number((e as { code?: number }).code) : 0, stderr }),
      );
    });
    assertQuiet(r.stderr.replace(/ENOSPC[^\n]*/, ''), '/dev/full');
    assert.match(r.stderr, /^image-classifier: OUTPUT_FAILED: could not write the results to stdout: .*ENOSPC/m);
    assert.equal(r.code, 1);
  });
});
