/**
 * The server's and CLI's small parts without a model: serve's option parsing, the folder walk, the environment
 * module, settings normalization on configuration changes, and the one model-path function.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { DEFAULT_MODEL, modelFilePath } from '@image-classifier/core';
import { environment } from '../src/environment.js';
import { expandInputs, isImagePath } from '../src/files.js';
import { onConfigurationChange, readSettings } from '../src/rpc/settings.js';
import { createContext } from '../src/rpc/state.js';
import { parseServeArgs } from '../src/serve.js';
import { SERVER_VERSION } from '../src/version.js';

describe('serve options (util.parseArgs)', () => {
  test('transports, worker, clientProcessId', () => {
    assert.deepEqual(parseServeArgs([]), { transport: 'stdio' });
    assert.deepEqual(parseServeArgs(['--node-ipc', '--clientProcessId=12']), { transport: 'node-ipc' });
    assert.deepEqual(parseServeArgs(['--pipe', '/tmp/p', '--worker=w.js']), { transport: 'pipe', pipe: '/tmp/p', worker: 'w.js' });
    assert.deepEqual(parseServeArgs(['--clientProcessId', '5', '--socket=8080']), { transport: 'socket', port: 8080 });
  });
  test('errors keep their messages', () => {
    assert.throws(() => parseServeArgs(['--pipe']), /^Error: --pipe needs a value\./);
    assert.throws(() => parseServeArgs(['--pipe=']), /--pipe needs a value\./);
    assert.throws(() => parseServeArgs(['--socket=99999']), /--socket needs a port number\./);
    assert.throws(() => parseServeArgs(['--bogus']), /Unknown serve option '--bogus'\./);
    assert.throws(() => parseServeArgs(['stray']), /Unknown serve option 'stray'\./);
  });
});

describe('folder walk', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ic-walk-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  test('sorted, known formats only, hidden and node_modules skipped, symlinked folders not followed', async () => {
    mkdirSync(path.join(dir, 'sub'));
    mkdirSync(path.join(dir, '.hidden'));
    mkdirSync(path.join(dir, 'node_modules'));
    for (const f of ['b.jpg', 'a.PNG', 'c.txt', 'sub/d.heic', '.hidden/e.jpg', 'node_modules/f.jpg', '.g.jpg'])
      writeFileSync(path.join(dir, f), '');
    symlinkSync(dir, path.join(dir, 'sub', 'loop'));
    symlinkSync(path.join(dir, 'b.jpg'), path.join(dir, 'link.jpg'));
    const { entries, folders } = await expandInputs([dir, path.join(dir, 'missing.jpg')]);
    assert.equal(folders, 1);
    assert.deepEqual(
      entries.map((e) => [path.relative(dir, e.file), e.fromFolder]),
      [
        ['a.PNG', true],
        ['b.jpg', true],
        ['link.jpg', true],
        ['sub/d.heic', true],
        ['missing.jpg', false],
      ],
    );
    assert.ok(isImagePath('x.jfif') && isImagePath('x.bmp') && !isImagePath('x.xcf'));
  });
});

describe('environment and version', () => {
  test('variables are read with their defaults', () => {
    assert.equal(environment.helperNice({}), 10);
    assert.equal(environment.helperNice({ IMAGE_CLASSIFIER_HELPER_NICE: '5' }), 5);
    assert.equal(environment.helperNice({ IMAGE_CLASSIFIER_HELPER_NICE: 'x' }), 10);
    assert.equal(environment.ortSpinning({ IMAGE_CLASSIFIER_ORT_SPINNING: '0' }), false);
    assert.equal(environment.ortSpinning({}), true);
    assert.equal(environment.workerScript({ IMAGE_CLASSIFIER_WORKER: '' }), undefined);
    assert.equal(environment.debugLoop({ IMAGE_CLASSIFIER_DEBUG_LOOP: '1' }), true);
  });
  test('SERVER_VERSION is the package version', () => {
    assert.match(SERVER_VERSION, /^\d+\.\d+\.\d+/);
  });
});

describe('settings', () => {
  test('refused values are logged and replaced; a change applies over the initialization options', () => {
    const logs: string[] = [];
    const ctx = createContext({} as never, { log: (m) => logs.push(m) });
    assert.deepEqual(readSettings(ctx, { topK: 'x', maxQueue: 10 }), { maxQueue: 10 });
    assert.match(logs[0] ?? '', /^settings: topK: must be an integer/);
    // Not an object: logged, nothing applied.
    onConfigurationChange(ctx, { settings: { imageClassifier: 7 } });
    assert.match(logs[1] ?? '', /^settings: settings must be an object/);
    assert.deepEqual(ctx.config.settings, {});
  });
});

test('modelFilePath: a path, a URL in the cache, the default model', () => {
  assert.equal(modelFilePath('m.onnx', '/c'), path.resolve('m.onnx'));
  assert.equal(modelFilePath('https://h/x/y.onnx', '/c'), path.join('/c', 'models', 'y.onnx'));
  assert.equal(modelFilePath(undefined, '/c'), path.join('/c', 'models', DEFAULT_MODEL.fileName));
});
