/**
 * The server over the transport the extension uses: vscode-languageclient's `TransportKind.ipc` forks the server
 * module with `--node-ipc --clientProcessId=<pid>`, `silent: true` (stdio piped) and a Node IPC channel, and talks
 * JSON-RPC through `process.send`. This suite starts the real `image-classifier serve` the same way and sends what
 * the stream transports' guard refuses (frame-guard.ts and serve.ts's decoder): values that are not JSON-RPC 2.0
 * messages and a message over the 64 MiB frame limit. Each gets a −32600 answer (with the request's id where it
 * has one) and the server keeps serving: initialize, a request and shutdown/exit still work (exit code 0).
 */
import { strict as assert } from 'node:assert';
import { type ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { engineProcessEnv } from '@image-classifier/protocol/launch';
import { MAX_FRAME_BYTES } from '../src/frame-guard.js';
import { checkIpcMessage, jsonSizeOver } from '../src/message-check.js';
import { BIN } from './server-client.js';

interface Answer {
  id?: unknown;
  result?: unknown;
  error?: { code: number; message: string; data?: { code?: string } };
}

/** The server forked as the extension's language client forks it, with the messages it sends back. */
function forkServer(): {
  child: ChildProcess;
  received: Answer[];
  next: (pred: (m: Answer) => boolean) => Promise<Answer>;
  stderr: () => string;
} {
  const child = fork(BIN, ['serve', '--node-ipc', `--clientProcessId=${process.pid}`], {
    silent: true,
    env: engineProcessEnv(process.env),
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  child.stdout!.resume();
  const received: Answer[] = [];
  const waiters: Array<() => void> = [];
  child.on('message', (m: Answer) => {
    received.push(m);
    for (const w of waiters.splice(0)) w();
  });
  child.on('exit', () => {
    for (const w of waiters.splice(0)) w();
  });
  const next = async (pred: (m: Answer) => boolean): Promise<Answer> => {
    for (;;) {
      const i = received.findIndex(pred);
      if (i >= 0) return received.splice(i, 1)[0]!;
      if (child.exitCode !== null || child.signalCode !== null)
        throw new Error(`the server exited (${child.exitCode ?? child.signalCode}):\n${err}`);
      await new Promise<void>((r) => waiters.push(r));
    }
  };
  return { child, received, next, stderr: () => err };
}

const byId = (id: unknown) => (m: Answer) => m.id === id;

describe('IPC message check (unit)', () => {
  test('jsonSizeOver counts strings, keys and nesting up to the limit, iteratively', () => {
    assert.equal(jsonSizeOver({ uri: 'file:///a.jpg', topK: 5 }, 1000), undefined);
    assert.ok((jsonSizeOver({ pad: 'x'.repeat(2000) }, 1000) ?? 0) > 1000);
    let deep: unknown = 1;
    for (let i = 0; i < 200_000; i++) deep = [deep];
    assert.ok((jsonSizeOver(deep, 100_000) ?? 0) > 100_000);
    assert.equal(jsonSizeOver(deep, 10_000_000), undefined);
  });

  test('checkIpcMessage refuses what is not JSON-RPC 2.0 and what is over the limit', () => {
    assert.equal(checkIpcMessage({ jsonrpc: '2.0', id: 1, method: 'imageClassifier/modelInfo', params: {} }), undefined);
    assert.equal(checkIpcMessage({ jsonrpc: '2.0', id: 1, result: null }), undefined);
    assert.match(checkIpcMessage('garbage') ?? '', /must be a JSON object/);
    assert.match(checkIpcMessage([1, 2]) ?? '', /batch messages/);
    assert.match(checkIpcMessage({ jsonrpc: '1.0', id: 1, method: 'x' }) ?? '', /"jsonrpc" must be "2.0"/);
    assert.match(checkIpcMessage({ jsonrpc: '2.0', id: 1, method: 42 }) ?? '', /"method" must be a string/);
    assert.match(
      checkIpcMessage({ jsonrpc: '2.0', id: 1, method: 'x', params: { p: 'y'.repeat(200) } }, 100) ?? '',
      /larger than the limit of 100 bytes/,
    );
  });
});

describe('the server over node-ipc (the extension transport)', () => {
  const work = mkdtempSync(path.join(tmpdir(), 'ic-ipc-'));
  after(() => rmSync(work, { recursive: true, force: true }));

  test('malformed and oversized messages get a -32600 answer and the server keeps serving', async () => {
    const s = forkServer();
    try {
      // Not JSON-RPC at all, with no id to answer to.
      s.child.send('this is not a JSON-RPC message');
      const garbage = await s.next((m) => m.id === null);
      assert.equal(garbage.error?.code, -32600);
      assert.match(garbage.error!.message, /Invalid Request: a message must be a JSON object/);
      s.child.send([1, 2, 3]);
      assert.match((await s.next((m) => m.id === null)).error!.message, /batch messages are not supported/);
      // A request whose method is not a string: answered with its id (vscode-jsonrpc alone would drop it unanswered).
      s.child.send({ jsonrpc: '2.0', id: 7, method: 42 });
      const badMethod = await s.next(byId(7));
      assert.equal(badMethod.error?.code, -32600);
      assert.match(badMethod.error!.message, /"method" must be a string/);
      s.child.send({ jsonrpc: '1.0', id: 8, method: 'imageClassifier/modelInfo' });
      assert.match((await s.next(byId(8))).error!.message, /"jsonrpc" must be "2.0"/);
      // Over the frame limit: refused as a whole, before any handler sees its params.
      s.child.send({ jsonrpc: '2.0', id: 9, method: 'imageClassifier/modelInfo', params: { pad: 'x'.repeat(MAX_FRAME_BYTES + 1) } });
      const big = await s.next(byId(9));
      assert.equal(big.error?.code, -32600);
      assert.match(big.error!.message, new RegExp(`larger than the limit of ${MAX_FRAME_BYTES} bytes`));
      assert.match(s.stderr(), /Invalid Request/, 'each refused message is logged');

      // Still serving: initialize, a request, shutdown and exit.
      s.child.send({
        jsonrpc: '2.0',
        id: 10,
        method: 'initialize',
        params: {
          processId: process.pid,
          rootUri: null,
          capabilities: {},
          initializationOptions: { model: path.join(work, 'no-such-model.onnx'), cacheDir: path.join(work, 'cache') },
        },
      });
      const init = await s.next(byId(10));
      assert.ok(init.result && typeof init.result === 'object' && 'capabilities' in init.result, JSON.stringify(init));
      s.child.send({ jsonrpc: '2.0', id: 11, method: 'imageClassifier/nope', params: {} });
      assert.equal((await s.next(byId(11))).error?.code, -32601);
      s.child.send({ jsonrpc: '2.0', id: 12, method: 'shutdown' });
      await s.next(byId(12));
      const exited = new Promise<number | null>((r) => s.child.on('exit', (code) => r(code)));
      s.child.send({ jsonrpc: '2.0', method: 'exit' });
      assert.equal(await exited, 0, s.stderr());
    } finally {
      if (s.child.exitCode === null) s.child.kill('SIGKILL');
    }
  });
});
