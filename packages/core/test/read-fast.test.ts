/**
 * `readOpenedFileFast`: small files read in the calling thread, larger ones through libuv's pool; the same bytes as
 * `readOpenedFile` either way, and the same answer for a file that changed size after its fstat.
 */
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { appendFileSync, closeSync, mkdtempSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { openRegularFileSync, readOpenedFile, readOpenedFileFast, SYNC_READ_MAX_BYTES } from '../src/index.js';

const dir = mkdtempSync(path.join(tmpdir(), 'ic-read-fast-'));

function withOpened<T>(file: string, f: (fd: number, size: number) => Promise<T>): Promise<T> {
  const { fd, stat } = openRegularFileSync(file);
  return f(fd, stat.size).finally(() => closeSync(fd));
}

describe('readOpenedFileFast', () => {
  test('the bytes readOpenedFile gives, below, at and above the in-thread limit', async () => {
    for (const size of [0, 1, 4095, 50_000, SYNC_READ_MAX_BYTES, SYNC_READ_MAX_BYTES + 1, 3 * SYNC_READ_MAX_BYTES]) {
      const file = path.join(dir, `f${size}`);
      const bytes = randomBytes(size);
      writeFileSync(file, bytes);
      const fast = await withOpened(file, readOpenedFileFast);
      const pooled = await withOpened(file, readOpenedFile);
      assert.equal(fast.length, size, `${size}: length`);
      assert.ok(fast.equals(bytes), `${size}: same bytes as written`);
      assert.ok(fast.equals(pooled), `${size}: same bytes as readOpenedFile`);
    }
  });

  test('a file that shrank after its fstat gives what is there; one that grew is cut at the fstat size', async () => {
    const file = path.join(dir, 'changing');
    writeFileSync(file, randomBytes(10_000));
    const shrunk = await withOpened(file, (fd, size) => {
      truncateSync(file, 4_000);
      return readOpenedFileFast(fd, size);
    });
    assert.equal(shrunk.length, 4_000);
    writeFileSync(file, randomBytes(10_000));
    const grown = await withOpened(file, (fd, size) => {
      appendFileSync(file, randomBytes(5_000));
      return readOpenedFileFast(fd, size);
    });
    assert.equal(grown.length, 10_000);
  });
});
