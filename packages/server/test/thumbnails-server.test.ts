/**
 * `imageClassifier/thumbnails` end to end: the real server child process, its decoder processes, and files of every
 * kind in a temporary workspace: JPEG, PNG, BMP (the engine's own decoder), SVG, broken and hostile files, a file
 * outside the workspace. The WebPs are decoded back with sharp.
 */
import { strict as assert } from 'node:assert';
import { cpSync, mkdirSync, mkdtempSync, existsSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CancellationTokenSource, ResponseError } from 'vscode-jsonrpc/node';
import { sharp } from '@image-classifier/core';
import { ClassifyRequest, ClearCacheRequest, ThumbnailsRequest, type ThumbnailsResult } from '@image-classifier/protocol';
import { FIXTURE_IMAGES, sharedDir, SKIP_NO_SHARED, writeBadInputs, type BadInputs } from '../../../test-fixtures/fixtures.js';
import { bmp } from '../../../test-fixtures/formats.js';
import { normalSvg, overLimitSvgs, slowSvg } from '../../../test-fixtures/svg-bombs.js';
import { type ServerHandle, uri, startReadyServer } from './server-client.js';

const shared = sharedDir();
const BUDGET_MS = 1000;
/** A 320×200 24-bit BMP with a gradient (rows of B, G, R bytes; 960 bytes each, no padding). */
function gradientBmp(): Uint8Array {
  const rows = Array.from({ length: 200 }, (_, y) => Uint8Array.from({ length: 960 }, (_, i) => (i % 3 === 0 ? y : (i * 7) & 0xff)));
  return bmp(320, 200, 24, rows);
}

async function webpInfo(file: string): Promise<{ format: string; width: number; height: number }> {
  const m = await sharp(file).metadata();
  const { data, info } = await sharp(file).raw().toBuffer({ resolveWithObject: true });
  assert.equal(data.length, info.width * info.height * info.channels, 'the WebP decodes to its full size');
  return { format: m.format ?? '', width: m.width ?? 0, height: m.height ?? 0 };
}

describe('imageClassifier/thumbnails (server process)', { skip: shared ? false : SKIP_NO_SHARED }, () => {
  let work: string;
  let ws: string;
  let bad: BadInputs;
  let srv: ServerHandle;
  const good: Record<string, string> = {};

  before(async () => {
    work = mkdtempSync(path.join(tmpdir(), 'ic-thumbs-'));
    ws = path.join(work, 'ws');
    mkdirSync(ws, { recursive: true });
    good.jpeg = path.join(ws, 'coffee.jpg');
    cpSync(path.join(FIXTURE_IMAGES, 'skimage_coffee.jpg'), good.jpeg);
    good.png = path.join(ws, 'cat.png');
    writeFileSync(good.png, await sharp(path.join(FIXTURE_IMAGES, 'skimage_chelsea_cat.jpg')).png().toBuffer());
    good.bmp = path.join(ws, 'gradient.bmp');
    writeFileSync(good.bmp, gradientBmp());
    good.svg = path.join(ws, 'drawing.svg');
    writeFileSync(good.svg, normalSvg());
    writeFileSync(path.join(ws, 'bomb.svg'), overLimitSvgs()[0]![1]);
    writeFileSync(path.join(ws, 'slow.svg'), slowSvg());
    writeFileSync(path.join(ws, 'slow-2.svg'), `${slowSvg()}<!-- 2 -->`);
    bad = await writeBadInputs(path.join(ws, 'bad'));
    writeFileSync(path.join(work, 'outside.png'), await sharp(good.png).toBuffer());
    srv = await startReadyServer(
      { cacheDir: path.join(work, 'cache'), roots: [ws] },
      { IMAGE_CLASSIFIER_DECODE_TIMEOUT_MS: String(BUDGET_MS) },
    );
  });

  after(async () => {
    await srv?.stop();
  });

  const request = (files: string[], size?: number): Promise<ThumbnailsResult> =>
    srv.conn.sendRequest(ThumbnailsRequest.type, { uris: files.map(uri), ...(size !== undefined ? { size } : {}) });

  test('JPEG, PNG, BMP and SVG: WebPs in the cache folder, longest side = the size asked, that decode', async () => {
    const files = [good.jpeg!, good.png!, good.bmp!, good.svg!];
    const r = await request(files, 128);
    assert.equal(r.dir, path.join(work, 'cache', 'thumbnails'));
    assert.equal(r.items.length, 4);
    assert.equal(r.made, 4);
    for (const [i, item] of r.items.entries()) {
      assert.equal(item.uri, uri(files[i]!));
      assert.equal(item.error, undefined, `${files[i]}: ${item.error?.message}`);
      assert.ok(item.path?.startsWith(r.dir + path.sep) && item.path.endsWith('.webp'), item.path);
      const info = await webpInfo(item.path!);
      assert.equal(info.format, 'webp');
      assert.deepEqual([info.width, info.height], [item.width, item.height]);
      assert.equal(Math.max(info.width, info.height), 128, `${files[i]}: ${info.width}×${info.height}`);
    }
    // Aspect ratios kept: coffee 600×400, the BMP 320×200, the SVG 4:3.
    assert.deepEqual([r.items[0]!.width, r.items[0]!.height], [128, 85]);
    assert.deepEqual([r.items[2]!.width, r.items[2]!.height], [128, 80]);
    assert.deepEqual([r.items[3]!.width, r.items[3]!.height], [128, 96]);
    // The default size is 192.
    const d = await request([good.jpeg!]);
    assert.deepEqual([d.items[0]!.width, d.items[0]!.height], [192, 128]);
  });

  test('a second call answers from disk: same paths, nothing decoded, files untouched, faster', async () => {
    const files = [good.jpeg!, good.png!, good.bmp!, good.svg!];
    const first = await request(files, 160);
    const mtimes = first.items.map((x) => statSync(x.path!).mtimeMs);
    const second = await request(files, 160);
    assert.equal(first.made, 4);
    assert.equal(second.made, 0, 'no re-decode');
    assert.deepEqual(
      second.items.map((x) => [x.path, x.width, x.height]),
      first.items.map((x) => [x.path, x.width, x.height]),
    );
    assert.deepEqual(
      second.items.map((x) => statSync(x.path!).mtimeMs),
      mtimes,
    );
    assert.ok(second.durationMs < first.durationMs, `${second.durationMs} ms vs ${first.durationMs} ms`);
  });

  test('a moved file keeps its thumbnail; a changed one gets a new one', async () => {
    const before = (await request([good.png!], 100)).items[0]!;
    const moved = path.join(ws, 'moved-cat.png');
    renameSync(good.png!, moved);
    good.png = moved;
    const after = await request([moved], 100);
    assert.equal(after.made, 0);
    assert.equal(after.items[0]!.path, before.path);
    writeFileSync(moved, await sharp(path.join(FIXTURE_IMAGES, 'skimage_coffee.jpg')).flip().png().toBuffer());
    const changed = await request([moved], 100);
    assert.equal(changed.made, 1);
    assert.notEqual(changed.items[0]!.path, before.path);
  });

  test('broken, hostile and outside files: an error item each, with its code, while the rest succeed', async () => {
    const names = Object.keys(bad.files) as Array<keyof BadInputs['files']>;
    const files = [good.jpeg!, ...names.map((n) => bad.files[n]), path.join(ws, 'bomb.svg'), path.join(work, 'outside.png'), good.bmp!];
    const r = await request(files, 96);
    assert.equal(r.items.length, files.length);
    assert.ok(r.items[0]!.path && !r.items[0]!.error);
    assert.ok(r.items.at(-1)!.path && !r.items.at(-1)!.error);
    for (const [i, n] of names.entries()) {
      const item = r.items[i + 1]!;
      assert.equal(item.path, undefined, n);
      assert.equal(item.error?.code, bad.expectedCodes[n], `${n}: ${item.error?.message}`);
      assert.ok((item.error?.message.length ?? 0) > 20, item.error?.message);
    }
    assert.equal(r.items[names.length + 1]!.error?.code, 'IMAGE_TOO_COMPLEX', r.items[names.length + 1]!.error?.message);
    assert.equal(r.items[names.length + 2]!.error?.code, 'OUTSIDE_WORKSPACE');
  });

  test('an SVG over the time budget: IMAGE_TOO_COMPLEX after the budget, the decoder replaced, the next image fine', async () => {
    const t = performance.now();
    // At 512 px the SVG renders at 256 px (its render budget), which takes seconds; small sizes render fast.
    const r = await request([path.join(ws, 'slow.svg'), good.jpeg!], 512);
    const ms = performance.now() - t;
    assert.equal(r.items[0]!.error?.code, 'IMAGE_TOO_COMPLEX', r.items[0]!.error?.message);
    assert.match(r.items[0]!.error!.message, /took longer than 1 s/);
    assert.ok(r.items[1]!.path, r.items[1]!.error?.message);
    assert.ok(ms < BUDGET_MS + 5000, `${ms.toFixed(0)} ms`);
  });

  test('cancelled while a slow SVG decodes: answered at once with what was done, cancelled: true', async () => {
    const cts = new CancellationTokenSource();
    const files = [good.jpeg!, path.join(ws, 'slow-2.svg'), good.bmp!];
    const pending = srv.conn.sendRequest(ThumbnailsRequest.type, { uris: files.map(uri), size: 500 }, cts.token);
    await new Promise((r) => setTimeout(r, 300));
    const t = performance.now();
    cts.cancel();
    const r = await pending;
    const ms = performance.now() - t;
    assert.equal(r.cancelled, true);
    assert.ok(ms < 500, `answered ${ms.toFixed(0)} ms after the cancellation`);
    assert.ok(
      r.items.every((x) => x.uri !== uri(files[1]!)),
      'the SVG still decoding is not in the answer',
    );
    assert.ok(r.items.every((x) => x.path && !x.error));
  });

  test('bad params are INVALID_ARGUMENT', async () => {
    for (const params of [{ uris: 'x' }, { uris: [], size: 4 }, { uris: [], size: 513 }, { uris: [], size: 100.5 }]) {
      await assert.rejects(srv.conn.sendRequest(ThumbnailsRequest.method, params), (e: unknown) => {
        assert.ok(e instanceof ResponseError);
        assert.equal((e.data as { code?: string }).code, 'INVALID_ARGUMENT', JSON.stringify(params));
        return true;
      });
    }
  });

  test('a cached classify stays fast while 300 thumbnails are made', async () => {
    const many = path.join(ws, 'many');
    mkdirSync(many);
    const base = await sharp(path.join(FIXTURE_IMAGES, 'skimage_chelsea_cat.jpg')).resize(640).toBuffer();
    const files: string[] = [];
    for (let i = 0; i < 300; i++) {
      files.push(path.join(many, `cat-${i}.jpg`));
      writeFileSync(
        files[i]!,
        await sharp(base)
          .modulate({ brightness: 0.5 + i / 600 })
          .jpeg({ quality: 80 })
          .toBuffer(),
      );
    }
    await srv.conn.sendRequest(ClassifyRequest.type, { uri: uri(good.jpeg!) });
    let done = false;
    const pending = request(files, 128).finally(() => {
      done = true;
    });
    const latencies: number[] = [];
    while (!done) {
      const t0 = performance.now();
      const c = await srv.conn.sendRequest(ClassifyRequest.type, { uri: uri(good.jpeg!) });
      latencies.push(performance.now() - t0);
      assert.equal(c.cached, true);
      await new Promise((res) => setTimeout(res, 10));
    }
    const r = await pending;
    assert.equal(r.made, 300);
    assert.ok(r.items.every((x) => x.path));
    const sorted = [...latencies].sort((a, b) => a - b);
    const p50 = sorted[Math.floor(sorted.length / 2)]!;
    const p95 = sorted[Math.floor(sorted.length * 0.95)]!;
    process.stderr.write(
      `300 thumbnails in ${r.durationMs.toFixed(0)} ms; cached classify meanwhile: n=${sorted.length} p50 ${p50.toFixed(1)} ms, p95 ${p95.toFixed(1)} ms\n`,
    );
    assert.ok(sorted.length >= 5, `${sorted.length} classifications`);
    assert.ok(p50 < 30, `p50 ${p50.toFixed(1)} ms`);
  });

  test('clearCache removes the thumbnails; the next call makes them again', async () => {
    const r = await request([good.jpeg!], 128);
    assert.ok(existsSync(r.items[0]!.path!));
    await srv.conn.sendRequest(ClearCacheRequest.type);
    assert.equal(existsSync(r.items[0]!.path!), false);
    assert.equal(existsSync(r.dir), false);
    const again = await request([good.jpeg!], 128);
    assert.equal(again.made, 1);
    assert.ok(existsSync(again.items[0]!.path!));
  });
});
