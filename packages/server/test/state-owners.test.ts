/**
 * The server state's parts (src/rpc/state.ts) and their owners: each part is written by its one module, and the
 * model host's `generation` rule holds (a load made stale by a newer load or an unload is dropped: no status, no
 * state, no error of its own).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import type { StatusParams } from '@image-classifier/protocol';
import { unload } from '../src/rpc/model-host.js';
import { applySettings } from '../src/rpc/settings.js';
import { createContext, type LifecycleState } from '../src/rpc/state.js';

const RPC = path.join(__dirname, '..', 'src', 'rpc');

/** Part → the mutable type its owner casts to → the owner. */
const OWNERS: Record<string, { type: string; owner: string }> = {
  lifecycle: { type: 'LifecycleState', owner: 'connection.ts' },
  config: { type: 'ConfigState', owner: 'settings.ts' },
  caches: { type: 'CacheState', owner: 'caches.ts' },
  model: { type: 'ModelHostState', owner: 'model-host.ts' },
};

describe('server state: one writer per part', () => {
  const files = readdirSync(RPC).filter((f) => f.endsWith('.ts'));
  const src = new Map(files.map((f) => [f, readFileSync(path.join(RPC, f), 'utf8')]));

  test('only the owner casts a part to its mutable type', () => {
    for (const [part, { type, owner }] of Object.entries(OWNERS)) {
      const casting = files.filter((f) => new RegExp(`ctx\\.\\w+ as ${type}\\b`).test(src.get(f)!));
      assert.deepEqual(casting, [owner], `${part} (${type}) is written by ${owner} alone`);
      assert.match(src.get(owner)!, new RegExp(`ctx\\.${part} as ${type}\\b`), `${owner} writes ctx.${part}`);
    }
  });

  test('no module assigns to a part of the context directly', () => {
    const direct = /\bctx\.(lifecycle|config|caches|model)\.\w+\s*(=(?!=)|\+\+|--|\+=|-=)/;
    for (const f of files) assert.doesNotMatch(src.get(f)!, direct, f);
  });
});

describe('model host: the generation rule', () => {
  function setup() {
    const dir = mkdtempSync(path.join(tmpdir(), 'ic-generation-'));
    const statuses: StatusParams[] = [];
    const logs: string[] = [];
    const conn = {
      sendNotification: async (_t: unknown, s: StatusParams) => {
        statuses.push(s);
      },
    };
    const ctx = createContext(conn as never, { log: (m) => logs.push(m) });
    (ctx.lifecycle as LifecycleState).initialized = true;
    return { dir, ctx, statuses, logs, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
  }

  test('a load made stale by a newer load is dropped: only the newer one reports and sets the state', async (t) => {
    const { dir, ctx, statuses, logs, cleanup } = setup();
    t.after(cleanup);
    const a = path.join(dir, 'first-missing.onnx');
    const b = path.join(dir, 'second-missing.onnx');
    applySettings(ctx, { model: a, cacheDir: dir }, true);
    const first = ctx.model.loading;
    assert.equal(ctx.model.generation, 1);
    const sentBefore = statuses.length;
    applySettings(ctx, { model: b, cacheDir: dir });
    const second = ctx.model.loading;
    assert.equal(ctx.model.generation, 2, 'the second load bumps the generation');
    assert.notEqual(first, second);
    await Promise.all([first, second]);
    const errors = statuses.filter((s) => s.state === 'error');
    assert.equal(errors.length, 1, `one error status: ${JSON.stringify(errors)}`);
    assert.match(errors[0]!.message ?? '', /second-missing/);
    assert.ok(
      !statuses.slice(sentBefore).some((s) => /first-missing/.test(JSON.stringify(s))),
      'the stale load sent nothing once the newer one started',
    );
    assert.ok(!logs.some((l) => /first-missing/.test(l) && /model failed/.test(l)), 'nor logged its failure');
    assert.equal(ctx.model.state, 'error');
    assert.match(ctx.model.loadError?.message ?? '', /second-missing/);
  });

  test('a load made stale by an unload is dropped: the unload says why the model is not ready', async (t) => {
    const { dir, ctx, statuses, cleanup } = setup();
    t.after(cleanup);
    applySettings(ctx, { model: path.join(dir, 'missing.onnx'), cacheDir: dir }, true);
    const loading = ctx.model.loading;
    await unload(ctx, 'The server is shutting down.');
    assert.equal(ctx.model.generation, 2, 'unload bumps the generation');
    await loading;
    assert.equal(ctx.model.state, 'error');
    assert.equal(ctx.model.loadError?.code, 'MODEL_NOT_READY');
    assert.equal(ctx.model.loadError?.message, 'The server is shutting down.');
    assert.deepEqual(
      statuses.map((s) => s.state),
      ['loading'],
      'the stale load reported nothing after it started',
    );
  });
});
