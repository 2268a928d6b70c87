/**
 * The restart policy of the server's client (server/client.ts): vscode-languageclient's own default error handler,
 * `createDefaultErrorHandler(MAX_RESTARTS)`, decides, wrapped as vscode-eslint wraps it; the wrapper only says what
 * happens (a restart notice, or the give-up message with its actions and the `failed` phase). The client is built for
 * real (a LanguageClient) with a stand-in `vscode` module; no server process is started.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { StatusParams } from '@image-classifier/protocol';
import { installVscodeStub } from './vscode-stub';

const shown = installVscodeStub();

interface Harness {
  handler: {
    error: (...a: unknown[]) => Promise<{ action: number; handled?: boolean }>;
    closed: () => Promise<{ action: number; handled?: boolean }>;
  };
  statuses: StatusParams[];
  phases: string[];
  warnings: string[];
  lc: typeof import('vscode-languageclient/node');
  MAX_RESTARTS: number;
}

async function harness(): Promise<Harness> {
  // Required here, once the stand-in `vscode` is installed.
  const lc = require('vscode-languageclient/node') as typeof import('vscode-languageclient/node');
  const { ServerClient, MAX_RESTARTS } = require('../src/server/client') as typeof import('../src/server/client');
  const statuses: StatusParams[] = [];
  const phases: string[] = [];
  const warnings: string[] = [];
  const log: Record<string, unknown> = { warn: (m: string) => warnings.push(m) };
  // Any other LogOutputChannel method (info, appendLine, …) does nothing.
  const output = new Proxy(log, { get: (o, p: string) => o[p] ?? (() => undefined) });
  const context = { asAbsolutePath: (p: string) => `/ext/${p}`, secrets: { get: async () => undefined } };
  const emitter = <T>(list: T[]) => ({ fire: (v: T) => list.push(v), event: () => ({ dispose: () => undefined }) });
  const sc = new ServerClient(context as never, output as never, emitter(statuses) as never, emitter(phases) as never);
  const client = (sc as unknown as { createClient(): { clientOptions: { errorHandler: Harness['handler'] } } }).createClient();
  return { handler: client.clientOptions.errorHandler, statuses, phases, warnings, lc, MAX_RESTARTS };
}

test('a server that stops is restarted up to 5 times in 3 minutes; the 6th stop leaves it stopped, with Show Output and Restart Server offered', async (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: 1_000_000 });
  const h = await harness();
  assert.equal(h.MAX_RESTARTS, 5);
  shown.errors.length = 0;
  for (let i = 0; i < 5; i++) {
    t.mock.timers.tick(10_000);
    const r = await h.handler.closed();
    assert.deepEqual(r, { action: h.lc.CloseAction.Restart, handled: true }, `stop ${i + 1} restarts`);
  }
  assert.equal(h.warnings.length, 5);
  assert.equal(h.statuses.at(-1)?.message, 'Restarting the server…');
  assert.equal(shown.errors.length, 0, 'no message while restarting');
  t.mock.timers.tick(10_000);
  const r = await h.handler.closed();
  assert.deepEqual(r, { action: h.lc.CloseAction.DoNotRestart, handled: true });
  assert.equal(h.phases.at(-1), 'failed');
  assert.equal(h.statuses.at(-1)?.error?.code, 'SERVER_CRASHED');
  assert.equal(shown.errors.length, 1);
  assert.match(
    shown.errors[0]!.message,
    /^The Image Classifier server stopped 6 times in 3 minutes and will not be restarted automatically\./,
  );
  assert.deepEqual(shown.errors[0]!.actions, ['Show Output', 'Restart Server']);
});

test('stops more than 3 minutes apart keep being restarted', async (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: 1_000_000 });
  const h = await harness();
  for (let i = 0; i < 12; i++) {
    t.mock.timers.tick(61_000);
    const r = await h.handler.closed();
    assert.equal(r.action, h.lc.CloseAction.Restart, `stop ${i + 1} (one a minute) restarts`);
  }
  assert.equal(h.phases.includes('failed'), false);
});

test('connection errors: the first three keep the connection, the next shuts it down; the log has them, the output does not pop up', async () => {
  const h = await harness();
  for (const count of [1, 2, 3]) {
    assert.deepEqual(await h.handler.error(new Error('pipe'), undefined, count), { action: h.lc.ErrorAction.Continue, handled: true });
  }
  assert.deepEqual(await h.handler.error(new Error('pipe'), undefined, 4), { action: h.lc.ErrorAction.Shutdown, handled: true });
});
