/**
 * The platform rules of src/platform.ts and launch.ts with Windows, macOS and musl simulated (path.win32, case
 * folding, a `glibc` flag), so that they hold on the machines CI does not have.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { engineProcessEnv, mallocTuningMissing } from '../src/launch.js';
import {
  caseCollisions,
  caseInsensitiveFs,
  fileUriToPath,
  isCaseOnlyMove,
  isInside,
  pathKey,
  renameReplacing,
  runsOnGlibc,
  samePath,
  shutdownSignals,
} from '../src/platform.js';

test('Windows paths: drive letters in any case, backslashes or slashes, another drive or a sibling folder is outside', () => {
  const root = 'C:\\Users\\Me\\ws';
  assert.equal(isInside('C:\\Users\\Me\\ws\\cats\\a.jpg', root, 'win32'), true);
  assert.equal(isInside('c:\\users\\me\\WS\\cats\\a.jpg', root, 'win32'), true, 'NTFS names compare without case');
  assert.equal(isInside('C:/Users/Me/ws/cats/a.jpg', root, 'win32'), true, 'forward slashes are separators too');
  assert.equal(isInside('c:\\users\\me\\ws', root, 'win32'), true, 'the root itself, in another case');
  assert.equal(isInside('C:\\Users\\Me\\ws2\\a.jpg', root, 'win32'), false);
  assert.equal(isInside('D:\\Users\\Me\\ws\\a.jpg', root, 'win32'), false, 'another drive');
  assert.equal(isInside('C:\\Users\\Me\\ws\\..\\secret.jpg', root, 'win32'), false);
  assert.equal(isInside('C:\\Users\\Me\\ws\\..foo\\a.jpg', root, 'win32'), true, '..foo is a name');
  assert.equal(isInside('\\\\server\\share\\ws\\a.jpg', '\\\\server\\share\\ws', 'win32'), true, 'UNC paths');
  assert.equal(isInside('\\\\server\\other\\a.jpg', '\\\\server\\share', 'win32'), false);
  // On Linux the same names are case-sensitive.
  assert.equal(isInside('/home/me/WS/a.jpg', '/home/me/ws', 'linux'), false);
  assert.equal(isInside('/home/me/ws/a.jpg', '/home/me/ws', 'linux'), true);
});

test('file URIs as VS Code writes them on Windows (lower-case drive, escaped colon) become Windows paths', () => {
  assert.equal(fileUriToPath('file:///c%3A/Users/Me/ws/a%20b.jpg', 'win32'), 'c:\\Users\\Me\\ws\\a b.jpg');
  assert.equal(fileUriToPath('file:///C:/Users/Me/ws/x.png', 'win32'), 'C:\\Users\\Me\\ws\\x.png');
  assert.equal(fileUriToPath('file://server/share/ws/x.png', 'win32'), '\\\\server\\share\\ws\\x.png');
  assert.equal(fileUriToPath('file:///home/me/a%20b.jpg', 'linux'), '/home/me/a b.jpg');
  // The server's roots check then accepts it against the root as the realpath spells it.
  assert.equal(isInside(fileUriToPath('file:///c%3A/users/me/ws/a.jpg', 'win32'), 'C:\\Users\\Me\\ws', 'win32'), true);
  assert.throws(() => fileUriToPath('file:///c%3A/a%2Fb.jpg', 'win32'), /must not include encoded/);
});

test('case folding: NTFS and APFS find a name in any case and Unicode form, Linux does not', () => {
  assert.equal(caseInsensitiveFs('win32'), true);
  assert.equal(caseInsensitiveFs('darwin'), true);
  assert.equal(caseInsensitiveFs('linux'), false);
  assert.equal(samePath('/ws/Cats/IMG_1.JPG', '/ws/cats/img_1.jpg', 'darwin'), true);
  assert.equal(samePath('/ws/Cats/IMG_1.JPG', '/ws/cats/img_1.jpg', 'linux'), false);
  assert.equal(samePath('C:\\ws\\a.jpg', 'c:/WS/A.JPG', 'win32'), true);
  const nfd = 'cafe\u0301.jpg';
  const nfc = 'caf\u00e9.jpg';
  assert.equal(pathKey(`/ws/${nfd}`, 'darwin'), pathKey(`/ws/${nfc}`, 'darwin'));
});

test('a dataset with two files that differ only in case: found, whatever this machine is', () => {
  const files = ['cats/IMG_1.jpg', 'cats/img_1.JPG', 'dogs/a.jpg', 'Dogs/b.jpg', 'birds/caf\u00e9.png', 'birds/cafe\u0301.png'];
  assert.deepEqual(caseCollisions(files), [['cats/IMG_1.jpg', 'cats/img_1.JPG'], ['birds/caf\u00e9.png', 'birds/cafe\u0301.png'].sort()]);
  assert.deepEqual(caseCollisions(['a.jpg', 'b.jpg', 'a.jpg']), [], 'the same path twice is no collision');
});

test('moves on case-insensitive file systems: a case-only rename targets the file itself', () => {
  assert.equal(isCaseOnlyMove('/ws/cats/A.jpg', '/ws/cats/a.jpg', 'darwin'), true);
  assert.equal(isCaseOnlyMove('C:\\ws\\Cats\\x.jpg', 'C:\\ws\\cats\\x.jpg', 'win32'), true);
  assert.equal(isCaseOnlyMove('/ws/cats/A.jpg', '/ws/cats/a.jpg', 'linux'), false, 'two names on ext4');
  assert.equal(isCaseOnlyMove('/ws/cats/a.jpg', '/ws/dogs/a.jpg', 'darwin'), false);
  assert.equal(isCaseOnlyMove('/ws/a.jpg', '/ws/a.jpg', 'darwin'), false, 'no move at all');
});

test('stop signals: Windows has no SIGTERM (SIGINT and SIGBREAK come from its console)', () => {
  assert.deepEqual(shutdownSignals('linux'), ['SIGTERM', 'SIGINT', 'SIGHUP']);
  assert.deepEqual(shutdownSignals('darwin'), ['SIGTERM', 'SIGINT', 'SIGHUP']);
  const win = shutdownSignals('win32');
  assert.equal(win.includes('SIGTERM'), false);
  assert.ok(win.includes('SIGINT') && win.includes('SIGBREAK'));
});

test('GLIBC_TUNABLES only on glibc Linux: not on musl (Alpine), macOS or Windows', () => {
  assert.ok(engineProcessEnv({}, 'linux', true).GLIBC_TUNABLES);
  assert.equal(engineProcessEnv({}, 'linux', false).GLIBC_TUNABLES, undefined, 'musl');
  assert.equal(engineProcessEnv({}, 'darwin').GLIBC_TUNABLES, undefined);
  assert.equal(engineProcessEnv({}, 'win32').GLIBC_TUNABLES, undefined);
  assert.equal(engineProcessEnv({}, 'linux', false).ORT_DISABLE_TELEMETRY, '1');
  assert.equal(mallocTuningMissing({}, 'linux', true), true);
  assert.equal(mallocTuningMissing({}, 'linux', false), false, 'musl: nothing to re-run for');
  // This machine's own answer, from Node's report of the C library it runs on.
  const report = process.report.getReport() as { header?: { glibcVersionRuntime?: string } };
  const glibc = !!report.header?.glibcVersionRuntime;
  assert.equal(runsOnGlibc(), process.platform === 'linux' && glibc);
});

/** A rename that fails with `codes` in turn, then renames for real. */
function flaky(codes: string[]) {
  const calls: string[] = [];
  const fn = async (from: string, to: string) => {
    calls.push(`${from}->${to}`);
    const code = codes.shift();
    if (code) throw Object.assign(new Error(`${code}: operation not permitted, rename '${from}' -> '${to}'`), { code });
    await rename(from, to);
  };
  return { fn, calls };
}

test('cache renames on Windows: a target held open by another process (EPERM/EACCES/EBUSY) is retried, then replaced', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ic-rename-'));
  try {
    const target = path.join(dir, 'model.ort');
    writeFileSync(target, 'old');
    const tmp = path.join(dir, 'model.ort.tmp');
    writeFileSync(tmp, 'new');
    const waits: number[] = [];
    const sleep = async (ms: number) => {
      waits.push(ms);
    };
    const r = flaky(['EPERM', 'EACCES', 'EBUSY']);
    await renameReplacing(r.fn, tmp, target, { platform: 'win32', sleep, delayMs: 10 });
    assert.equal(r.calls.length, 4);
    assert.deepEqual(waits, [10, 20, 40]);
    assert.equal(readFileSync(target, 'utf8'), 'new');

    // Not on Linux or macOS (there the error means something else), and never other errors.
    writeFileSync(tmp, 'newer');
    const posix = flaky(['EPERM']);
    await assert.rejects(renameReplacing(posix.fn, tmp, target, { platform: 'linux', sleep }), { code: 'EPERM' });
    assert.equal(posix.calls.length, 1);
    const enoent = flaky(['ENOENT']);
    await assert.rejects(renameReplacing(enoent.fn, tmp, target, { platform: 'win32', sleep }), { code: 'ENOENT' });
    assert.equal(enoent.calls.length, 1);
    // A file that stays locked: the last error, after the attempts.
    const locked = flaky(['EPERM', 'EPERM', 'EPERM']);
    await assert.rejects(renameReplacing(locked.fn, tmp, target, { platform: 'win32', sleep, attempts: 3 }), { code: 'EPERM' });
    assert.equal(locked.calls.length, 3);
    assert.equal(readFileSync(target, 'utf8'), 'new', 'the cached file is kept as it was');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
