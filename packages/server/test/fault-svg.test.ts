/**
 * Decoding that cannot be taken over, end to end (the real `image-classifier serve --stdio` child, the real model):
 * SVG bombs are rendered at the size the model needs or refused with IMAGE_TOO_COMPLEX, a decode over its time
 * budget is stopped without holding up other images, cancellation and shutdown do not wait on it, and a JPEG whose
 * header claims more than the file holds is refused.
 */
import { strict as assert } from 'node:assert';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CancellationTokenSource, ResponseError } from 'vscode-jsonrpc/node';
import { ClassifyRequest, RPC_REQUEST_CANCELLED, RpcErrorCodes } from '@image-classifier/protocol';
import { FIXTURE_IMAGES, sharedDir, SKIP_NO_SHARED } from '../../../test-fixtures/fixtures.js';
import { filterBombSvg, normalSvg, overLimitSvgs, patchJpegSize, plainHugeSvg, slowSvg } from '../../../test-fixtures/svg-bombs.js';
import { type ServerHandle, uri, startReadyServer } from './server-client.js';

const shared = sharedDir();
/** The decode time budget the servers here run with (the default is 5 s). */
const BUDGET_MS = 1000;
const RSS_LIMIT_MB = 800;

/** The child's peak resident memory (VmHWM), in MB. */
function peakRssMb(pid: number | undefined): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

/** The largest peak resident memory among the server's child processes (its decoders), in MB. */
function decoderPeakRssMb(pid: number | undefined): number {
  let children: number[] = [];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return 0;
  }
  return Math.max(
    0,
    ...children.map((c) => {
      try {
        return peakRssMb(c);
      } catch {
        return 0; // gone
      }
    }),
  );
}

async function outcome(p: Promise<unknown>): Promise<{ ok: boolean; code?: string; rpc?: number; message: string; ms: number }> {
  const t = performance.now();
  try {
    await p;
    return { ok: true, message: 'classified', ms: performance.now() - t };
  } catch (e) {
    assert.ok(e instanceof ResponseError, `expected a ResponseError, got ${String(e)}`);
    const data = e.data as { code?: string } | undefined;
    return { ok: false, ...(data?.code ? { code: data.code } : {}), rpc: e.code, message: e.message, ms: performance.now() - t };
  }
}

describe('SVG bombs and hostile decodes (server process)', { skip: shared ? false : SKIP_NO_SHARED }, () => {
  let work: string;
  let ws: string;
  const files: Record<string, string> = {};
  let s: ServerHandle;

  async function ready(name: string): Promise<ServerHandle> {
    return startReadyServer({ cacheDir: path.join(work, name), roots: [ws] }, { IMAGE_CLASSIFIER_DECODE_TIMEOUT_MS: String(BUDGET_MS) });
  }

  before(async () => {
    work = mkdtempSync(path.join(tmpdir(), 'ic-svg-'));
    ws = path.join(work, 'ws');
    mkdirSync(ws, { recursive: true });
    const write = (name: string, data: string | Buffer) => {
      files[name] = path.join(ws, name);
      writeFileSync(files[name], data);
    };
    write('filter-bomb.svg', filterBombSvg(10));
    write('huge-plain.svg', plainHugeSvg());
    write('slow-1.svg', slowSvg());
    write('slow-2.svg', `${slowSvg()}<!-- 2 -->`);
    write('slow-3.svg', `${slowSvg()}<!-- 3 -->`);
    write('normal.svg', normalSvg());
    for (const [i, [, text]] of overLimitSvgs().entries()) write(`over-${i}.svg`, text);
    write('patched.jpg', patchJpegSize(readFileSync(path.join(FIXTURE_IMAGES, 'skimage_coffee.jpg'))));
    files['coffee.jpg'] = path.join(ws, 'coffee.jpg');
    cpSync(path.join(FIXTURE_IMAGES, 'skimage_coffee.jpg'), files['coffee.jpg']);
    s = await ready('cache');
  });
  after(async () => s?.stop());

  test('the filter bomb (9000×9000 feTurbulence + feGaussianBlur) and a 9999×9999 SVG: classified at 256 px, quickly, memory bounded', async () => {
    for (const name of ['filter-bomb.svg', 'huge-plain.svg']) {
      const t = performance.now();
      const r = await s.conn.sendRequest(ClassifyRequest.type, { uri: uri(files[name]!) });
      const ms = performance.now() - t;
      assert.ok(r.predictions.length > 0, name);
      assert.deepEqual([r.width, r.height], [256, 256], name);
      assert.ok(ms < 4000, `${name}: ${ms.toFixed(0)} ms`);
    }
    const peak = peakRssMb(s.child.pid);
    const decoders = decoderPeakRssMb(s.child.pid);
    process.stderr.write(`peak RSS after the bombs: server ${peak.toFixed(0)} MB, decoder processes ${decoders.toFixed(0)} MB\n`);
    assert.ok(peak < RSS_LIMIT_MB, `peak RSS ${peak.toFixed(0)} MB`);
    assert.ok(decoders > 0 && decoders < RSS_LIMIT_MB, `decoders' peak RSS ${decoders.toFixed(0)} MB`);
  });

  test('SVGs over the complexity limits: IMAGE_TOO_COMPLEX (1015) before rendering, with a message that says why', async () => {
    for (const [i, [what]] of overLimitSvgs().entries()) {
      const r = await outcome(s.conn.sendRequest(ClassifyRequest.type, { uri: uri(files[`over-${i}.svg`]!) }));
      assert.equal(r.code, 'IMAGE_TOO_COMPLEX', `${what}: ${r.message}`);
      assert.equal(r.rpc, RpcErrorCodes.IMAGE_TOO_COMPLEX);
      assert.ok(r.ms < 2000, `${what}: ${r.ms.toFixed(0)} ms`);
    }
  });

  test('two SVGs over the time budget at once: both IMAGE_TOO_COMPLEX, and an uncached JPEG meanwhile answers within seconds', async () => {
    const bombs = ['slow-1.svg', 'slow-2.svg'].map((f) => outcome(s.conn.sendRequest(ClassifyRequest.type, { uri: uri(files[f]!) })));
    await new Promise((r) => setTimeout(r, 200));
    const t = performance.now();
    const jpeg = await s.conn.sendRequest(ClassifyRequest.type, { uri: uri(files['coffee.jpg']!), force: true });
    const jpegMs = performance.now() - t;
    assert.equal(jpeg.cached, false);
    assert.ok(jpegMs < 4000, `the JPEG took ${jpegMs.toFixed(0)} ms`);
    for (const r of await Promise.all(bombs)) {
      assert.equal(r.code, 'IMAGE_TOO_COMPLEX', r.message);
      assert.match(r.message, /took longer than 1 s to decode/);
      assert.ok(r.ms < BUDGET_MS + 5000, `${r.ms.toFixed(0)} ms`);
    }
    assert.ok(peakRssMb(s.child.pid) < RSS_LIMIT_MB);
  });

  test('a classify of a slow SVG can be cancelled: answered RequestCancelled at once', async () => {
    const cts = new CancellationTokenSource();
    const p = outcome(s.conn.sendRequest(ClassifyRequest.type, { uri: uri(files['slow-3.svg']!) }, cts.token));
    await new Promise((r) => setTimeout(r, 300));
    const t = performance.now();
    cts.cancel();
    const r = await p;
    assert.equal(r.rpc, RPC_REQUEST_CANCELLED, r.message);
    assert.ok(performance.now() - t < 1000, `${(performance.now() - t).toFixed(0)} ms`);
  });

  test('a JPEG whose header claims 9999×9999 is refused as truncated (DECODE_FAILED); ordinary SVGs still classify', async () => {
    const bad = await outcome(s.conn.sendRequest(ClassifyRequest.type, { uri: uri(files['patched.jpg']!) }));
    assert.equal(bad.code, 'DECODE_FAILED', bad.message);
    assert.match(bad.message, /truncated|premature/i);
    const ok = await s.conn.sendRequest(ClassifyRequest.type, { uri: uri(files['normal.svg']!) });
    assert.ok(ok.predictions.length > 0);
    assert.deepEqual([ok.width, ok.height], [341, 256]);
  });

  test('shutdown while a slow SVG decodes: exit code 0 within a few seconds', async () => {
    const h = await ready('cache-shutdown');
    const pending = outcome(h.conn.sendRequest(ClassifyRequest.type, { uri: uri(files['slow-1.svg']!), force: true }));
    await new Promise((r) => setTimeout(r, 300));
    const t = performance.now();
    const code = await Promise.race([h.stop(), new Promise((r) => setTimeout(() => r('timeout'), 6000))]);
    const ms = performance.now() - t;
    if (code === 'timeout') h.child.kill('SIGKILL');
    assert.equal(code, 0, `exit ${String(code)} after ${ms.toFixed(0)} ms:\n${h.stderr()}`);
    assert.ok(ms < 5000, `${ms.toFixed(0)} ms`);
    assert.doesNotMatch(h.stderr(), /terminate called|Napi::Error|Aborted/);
    await Promise.race([pending, new Promise((r) => setTimeout(r, 100))]);
  });
});
