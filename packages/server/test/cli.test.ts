import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, statSync, cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { before, describe, test } from 'node:test';
import {
  FIXTURE_IMAGES,
  readF32,
  REPO_ROOT,
  sharedDir,
  SKIP_NO_SHARED,
  tinyPoolingModel,
  writeBadInputs,
  type BadInputs,
} from '../../../test-fixtures/fixtures.js';
import { CLI_MALLOC_TUNABLES } from '@image-classifier/protocol/launch';
import { MOBILENET_INT8, BIN } from './server-client.js';

const shared = sharedDir();

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { env: { ...process.env, IMAGE_CLASSIFIER_CACHE_DIR: cacheDir, ...env }, maxBuffer: 64 << 20 },
      (err, stdout, stderr) => {
        const code = err ? ((err as { code?: number }).code ?? 1) : 0;
        resolve({ code: typeof code === 'number' ? code : 1, stdout, stderr, ms: performance.now() - t0 });
      },
    );
  });
}
const cacheDir = mkdtempSync(path.join(tmpdir(), 'ic-cli-cache-'));

/** `image-classifier classify --model <MobileNetV2 int8> --format jsonl ...args`. */
function classifyJsonl(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return cli(['classify', '--model', MOBILENET_INT8, '--format', 'jsonl', ...args], env);
}

// biome-ignore lint/suspicious/noExplicitAny: parsed records are checked field by field
function jsonl(s: string): Array<Record<string, any>> {
  return s
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

describe('image-classifier classify', { skip: shared ? false : SKIP_NO_SHARED }, () => {
  let bad: BadInputs;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'ic-cli-'));
    bad = await writeBadInputs(path.join(dir, 'bad'));
    mkdirSync(path.join(dir, 'photos', 'nested'), { recursive: true });
    cpSync(path.join(FIXTURE_IMAGES, 'skimage_chelsea_cat.jpg'), path.join(dir, 'photos', 'cat.jpg'));
    cpSync(path.join(FIXTURE_IMAGES, 'skimage_coffee.jpg'), path.join(dir, 'photos', 'nested', 'coffee.jpg'));
    cpSync(path.join(FIXTURE_IMAGES, 'skimage_coffee.jpg'), path.join(dir, 'photos', 'nested', 'README.md')); // not walked
  });

  test('jsonl: one record per image, labels worded as synset.txt', async () => {
    const r = await classifyJsonl([path.join(dir, 'photos')]);
    assert.equal(r.code, 0, r.stderr);
    const recs = jsonl(r.stdout);
    assert.deepEqual(
      recs.map((x) => path.basename(x.file)),
      ['cat.jpg', 'coffee.jpg'],
    );
    assert.equal(recs[0]!.predictions.length, 5);
    assert.equal(recs[0]!.predictions[0].label, 'Egyptian cat');
    assert.equal(recs[0]!.predictions[0].index, 285);
    assert.ok(Math.abs(recs[0]!.predictions[0].probability - 0.7075) < 0.01);
    assert.equal(recs[1]!.predictions[0].label, 'espresso');
  });

  test('every bad input is a clear error record and the good files are still classified', async () => {
    const files = bad.files;
    const args = [
      files.empty,
      files.truncatedJpeg,
      path.join(dir, 'photos', 'cat.jpg'),
      files.randomPng,
      files.text,
      files.tiny,
      files.bomb,
      files.missing,
      path.join(dir, 'photos', 'nested', 'coffee.jpg'),
    ];
    const r = await classifyJsonl(args);
    assert.equal(r.code, 1, 'exit 1 when some image failed');
    const recs = jsonl(r.stdout);
    assert.equal(recs.length, args.length);
    const byFile = new Map(recs.map((x) => [x.file, x]));
    for (const [k, f] of Object.entries(files)) {
      const rec = byFile.get(f)!;
      assert.ok(rec.error, `${k} should fail`);
      assert.equal(rec.error.code, bad.expectedCodes[k as keyof typeof files], `${k}: ${rec.error.message}`);
      assert.ok(rec.error.message.length > 20 && !/\n\s+at /.test(rec.error.message), `${k}: a sentence, not a stack`);
    }
    assert.match(byFile.get(files.text)!.error.message, /text file/);
    assert.match(byFile.get(files.bomb)!.error.message, /50000×50000/);
    assert.equal(byFile.get(path.join(dir, 'photos', 'cat.jpg'))!.predictions[0].index, 285);
    assert.equal(byFile.get(path.join(dir, 'photos', 'nested', 'coffee.jpg'))!.predictions[0].index, 967);
  });

  test('the 50000×50000 PNG header is refused without allocating it', async () => {
    const r = await classifyJsonl([bad.files.bomb]);
    assert.equal(jsonl(r.stdout)[0]!.error.code, 'IMAGE_TOO_LARGE');
    // 7.5 GB of RGB would be needed; the whole process must finish quickly and small.
    assert.ok(r.ms < 10_000, `took ${r.ms} ms`);
  });

  test('--max-pixels lowers the limit', async () => {
    const r = await classifyJsonl(['--max-pixels', '1000', path.join(FIXTURE_IMAGES, 'skimage_coffee.jpg')]);
    assert.equal(r.code, 1);
    assert.equal(jsonl(r.stdout)[0]!.error.code, 'IMAGE_TOO_LARGE');
  });

  test('--dump-tensor writes the reference naming and PyTorch-identical tensors; --logits adds the vector', async () => {
    const out = path.join(dir, 'tensors');
    const img = path.join(shared!, 'images', 'skimage_coffee.png');
    const r = await classifyJsonl(['--logits', '--top-k', '3', '--dump-tensor', out, img]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(readdirSync(out), ['skimage_coffee_png.f32']);
    const mine = readF32(readFileSync(path.join(out, 'skimage_coffee_png.f32')));
    const ref = readF32(readFileSync(path.join(shared!, 'reference', 'skimage_coffee_png.input.f32')));
    let max = 0;
    for (let i = 0; i < ref.length; i++) max = Math.max(max, Math.abs(mine[i]! - ref[i]!));
    assert.ok(max <= 1e-6, `max ${max}`);
    const rec = jsonl(r.stdout)[0]!;
    assert.equal(rec.predictions.length, 3);
    assert.equal(rec.logits.length, 1000);
  });

  test('--embedding adds the 1280-d feature vector; refused in csv and for a model without one', async () => {
    const cat = path.join(FIXTURE_IMAGES, 'skimage_chelsea_cat.jpg');
    const coffee = path.join(FIXTURE_IMAGES, 'skimage_coffee.jpg');
    const r = await cli(['classify', '--model', MOBILENET_INT8, '--embedding', cat, coffee, bad.files.text]);
    assert.equal(r.code, 1, r.stderr); // the text file fails, the images do not
    const [a, b, t] = jsonl(r.stdout);
    assert.equal(a!.embedding.length, 1280);
    assert.equal(b!.embedding.length, 1280);
    assert.equal(t!.error.code, 'UNSUPPORTED_FORMAT');
    assert.ok(
      a!.embedding.every((v: number) => Number.isFinite(v) && v >= 0),
      'pooled ReLU6 features',
    );
    assert.notDeepEqual(a!.embedding, b!.embedding);
    const csv = await cli(['classify', '--model', MOBILENET_INT8, '--embedding', '--format', 'csv', cat]);
    assert.equal(csv.code, 2);
    assert.match(csv.stderr, /--embedding .* --format jsonl/);
    const tiny = path.join(dir, 'tiny-pooling.onnx');
    writeFileSync(tiny, tinyPoolingModel());
    const none = await cli(['classify', '--model', tiny, '--embedding', cat]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /NO_EMBEDDING: tiny-pooling has no recognisable feature layer/);
    const info = await cli(['model', 'info', '--model', MOBILENET_INT8, '--format', 'text']);
    assert.match(info.stdout, /embedding\s+472_quantized__embedding \[1280\] \(DequantizeLinear/);
  });

  test('csv and text formats', async () => {
    const cat = path.join(FIXTURE_IMAGES, 'skimage_chelsea_cat.jpg');
    const csv = await cli(['classify', '--model', MOBILENET_INT8, '--format', 'csv', '--top-k', '2', cat, bad.files.text]);
    const lines = csv.stdout.trim().split('\n');
    assert.equal(lines[0], 'file,rank,index,label,probability,error_code,error_message');
    assert.match(lines[1]!, /,1,285,Egyptian cat,0\.7/);
    assert.match(lines[2]!, /,2,28[12],"?(tabby, tabby cat|tiger cat)"?,/);
    assert.match(lines[3]!, /notes\.txt,,,,,UNSUPPORTED_FORMAT,/);
    const text = await cli(['classify', '--model', MOBILENET_INT8, '--format', 'text', '--preprocess', 'fast', cat]);
    assert.match(text.stdout, /Egyptian cat/);
    assert.match(text.stdout, /%/);
  });

  test('fast mode agrees with exact on the top-1', async () => {
    const r = await classifyJsonl(['--preprocess', 'fast', '--batch', '1', '--threads', '1', path.join(dir, 'photos')]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      jsonl(r.stdout).map((x) => x.predictions[0].index),
      [285, 967],
    );
  });

  test('model info reports names, shapes, opset, provider and sha256', async () => {
    const r = await cli(['model', 'info', '--model', MOBILENET_INT8, '--format', 'jsonl']);
    assert.equal(r.code, 0, r.stderr);
    const info = JSON.parse(r.stdout);
    assert.equal(info.inputName, 'input');
    assert.equal(info.outputName, 'output');
    assert.equal(info.classes, 1000);
    assert.equal(info.activeProvider, 'cpu');
    assert.equal(info.sha256, 'cc028fe6cae7bc11a4ff53cfc9b79c920e8be65ce33a904ec3e2a8f66d77f95f');
    assert.ok(info.opsets.length > 0);
    const text = await cli(['model', 'info', '--model', MOBILENET_INT8, '--format', 'text']);
    assert.match(text.stdout, /sha256\s+cc028fe6/);
  });
});

describe('models from a URL (a server on 127.0.0.1)', { skip: shared ? false : SKIP_NO_SHARED }, () => {
  test('--model <url> downloads once into the cache, verified, then classifies; a wrong sha256 leaves nothing', async () => {
    const { createServer } = await import('node:http');
    const body = readFileSync(MOBILENET_INT8);
    let hits = 0;
    const server = createServer((_req, res) => {
      hits++;
      res.writeHead(200, { 'content-length': body.length });
      res.end(body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const own = mkdtempSync(path.join(tmpdir(), 'ic-url-cache-'));
    try {
      const url = `http://127.0.0.1:${port}/models/mobilenet.onnx`;
      const cat = path.join(FIXTURE_IMAGES, 'skimage_chelsea_cat.jpg');
      const r1 = await cli(['classify', '--model', url, '--format', 'jsonl', cat], { IMAGE_CLASSIFIER_CACHE_DIR: own });
      assert.equal(r1.code, 0, r1.stderr);
      assert.equal(jsonl(r1.stdout)[0]!.predictions[0].index, 285);
      assert.ok(readdirSync(path.join(own, 'models')).includes('mobilenet.onnx'));
      const r2 = await cli(['classify', '--model', url, '--format', 'jsonl', cat], { IMAGE_CLASSIFIER_CACHE_DIR: own });
      assert.equal(r2.code, 0);
      assert.equal(hits, 1, 'the cached, verified file is reused');
      const bad = await cli(['model', 'download', '--url', `http://127.0.0.1:${port}/other.onnx`, '--sha256', '0'.repeat(64)], {
        IMAGE_CLASSIFIER_CACHE_DIR: own,
      });
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /CHECKSUM_MISMATCH/);
      assert.ok(!readdirSync(path.join(own, 'models')).some((f) => f.startsWith('other')), 'no file that passes for a model');
    } finally {
      server.close();
    }
  });
});

describe('privacy', { skip: shared ? false : SKIP_NO_SHARED }, () => {
  test("onnxruntime's telemetry writes nothing into the home directory", async () => {
    const home = mkdtempSync(path.join(tmpdir(), 'ic-home-'));
    const r = await classifyJsonl([path.join(FIXTURE_IMAGES, 'skimage_coffee.jpg')], {
      HOME: home,
      XDG_CACHE_HOME: '',
    });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(readdirSync(home), [], 'nothing written under $HOME (no ~/.cache/Microsoft/DeveloperTools)');
  });
});

describe('usage errors exit 2', () => {
  test('unknown options, bad values, no inputs, unloadable model', async () => {
    assert.equal((await cli(['classify', '--bogus', 'x.jpg'])).code, 2);
    assert.equal((await cli(['classify', '--preprocess', 'slow', 'x.jpg'])).code, 2);
    assert.equal((await cli(['classify', '--top-k', '0', 'x.jpg'])).code, 2);
    assert.equal((await cli(['classify'])).code, 2);
    assert.equal((await cli(['frobnicate'])).code, 2);
    const missing = await cli(['classify', '--model', '/nonexistent/m.onnx', path.join(FIXTURE_IMAGES, 'skimage_coffee.jpg')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /MODEL_NOT_FOUND/);
    const notOnnx = await cli([
      'classify',
      '--model',
      path.join(FIXTURE_IMAGES, 'skimage_coffee.jpg'),
      path.join(FIXTURE_IMAGES, 'skimage_coffee.jpg'),
    ]);
    assert.equal(notOnnx.code, 2);
    assert.match(notOnnx.stderr, /MODEL_LOAD_FAILED/);
    assert.ok(statSync(cacheDir).isDirectory());
  });

  test('a usage error right at the start exits 2 every time (never aborts while the prestarted worker loads ORT)', async () => {
    // `classify` starts its inference thread first; an exit while that thread is inside ONNX Runtime's load used to
    // abort the process (SIGABRT) about one run in six once the usage error came before the load had finished.
    for (let i = 0; i < 24; i++) {
      const r = await cli(['classify']);
      assert.equal(r.code, 2, `run ${i + 1}: ${r.stderr.slice(-400)}`);
      assert.match(r.stderr, /classify needs at least one image file or folder/);
    }
  });
});

describe('start-up of classify', () => {
  test('re-runs itself with the heap tunables, no huge pages, no extra CA file for a local model, and loads no curation or remote modules', {
    skip: process.platform !== 'linux' && 'the re-run is for glibc Linux',
  }, async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ic-cli-start-'));
    const log = path.join(dir, 'processes.jsonl');
    const preload = path.join(dir, 'record.cjs');
    // Each process (and thread) records at its exit its GLIBC_TUNABLES and the modules classify should not load:
    // curation, the remote backend (remote/options.js parses --remote), the JSON-RPC server, the vector index.
    writeFileSync(
      preload,
      `const fs = require('node:fs');
process.on('exit', () => {
  const loaded = Object.keys(require.cache).filter((m) => /[\\/]curation[\\/]|[\\/]remote[\\/](?!options\\.js)|vscode-|[\\/]serve\\.js$|[\\/]usearch[\\/]/.test(m));
  fs.appendFileSync(${JSON.stringify(log)}, JSON.stringify({ pid: process.pid, tunables: process.env.GLIBC_TUNABLES ?? '', ca: process.env.NODE_EXTRA_CA_CERTS ?? '', loaded }) + '\\n');
});
`,
    );
    const r = await cli(['classify', '--model', path.join(dir, 'missing.onnx'), path.join(dir, 'missing.jpg')], {
      NODE_OPTIONS: `--require ${preload}`,
      GLIBC_TUNABLES: '',
      IMAGE_CLASSIFIER_MALLOC_TUNING: '',
      NODE_EXTRA_CA_CERTS: path.join(dir, 'extra-ca.pem'),
    });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /MODEL_NOT_FOUND/);
    const runs = readFileSync(log, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { pid: number; tunables: string; ca: string; loaded: string[] });
    assert.ok(new Set(runs.map((x) => x.pid)).size >= 2, `the command re-ran itself: ${JSON.stringify(runs)}`);
    const tuned = runs.filter((x) => x.tunables !== '');
    assert.ok(tuned.length > 0, 'a process ran with GLIBC_TUNABLES');
    for (const x of tuned) assert.equal(x.tunables, CLI_MALLOC_TUNABLES);
    // A local model: the re-run cannot connect anywhere, so it starts without the extra CA file Node would parse.
    for (const x of tuned) assert.equal(x.ca, '', 'the re-run starts without NODE_EXTRA_CA_CERTS');
    assert.ok(
      runs.some((x) => x.tunables === '' && x.ca !== ''),
      'the launcher had it',
    );
    for (const x of runs) assert.deepEqual(x.loaded, [], `process ${x.pid} loaded modules classify does not need`);
  });
});

test('`npx image-classifier` prints no npm warning (install settings live in package.json allowScripts, not .npmrc)', async () => {
  const out = await new Promise<{ code: number | null; stderr: string; stdout: string }>((resolve) => {
    execFile('npx', ['--no-install', 'image-classifier', '--help'], { cwd: REPO_ROOT, env: { ...process.env } }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
  assert.equal(out.code, 0, out.stderr);
  assert.match(out.stdout, /image-classifier classify/);
  assert.doesNotMatch(out.stderr, /npm warn/i);
});
