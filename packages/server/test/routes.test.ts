/**
 * The server's one routes table (src/rpc/routes.ts) against the protocol: every request and notification the
 * protocol exports for the server (`messageDirection: 'clientToServer'`) has a handler registered on the
 * connection, every handler registered has a protocol entry, and nothing the server sends to the client is handled.
 * Both lists come from code: the protocol's exports and the registrations `listen` makes on a recording connection.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as protocol from '@image-classifier/protocol';
import { CRASH_INFERENCE_WORKER } from '../src/environment.js';
import { listen } from '../src/rpc/connection.js';
import { ROUTES } from '../src/rpc/routes.js';
import { createContext, type LifecycleState } from '../src/rpc/state.js';

interface Declared {
  name: string;
  method: string;
  kind: 'request' | 'notification';
  messageDirection: unknown;
}

/** Every method namespace the protocol exports: an object with a `method` and a request or notification `type`. */
function declaredMethods(): Declared[] {
  const out: Declared[] = [];
  for (const [name, v] of Object.entries(protocol)) {
    if (!v || typeof v !== 'object' || typeof (v as { method?: unknown }).method !== 'string') continue;
    const ns = v as { method: string; type?: { constructor: { name: string } }; messageDirection?: unknown };
    const ctor = ns.type?.constructor.name ?? '';
    const kind = /^RequestType\d?$/.test(ctor) ? 'request' : /^NotificationType\d?$/.test(ctor) ? 'notification' : undefined;
    assert.ok(kind, `${name}.type is a RequestType or a NotificationType (got ${ctor || 'none'})`);
    out.push({ name, method: ns.method, kind, messageDirection: ns.messageDirection });
  }
  return out;
}

/** A connection that records what `listen` registers. */
function recordingConnection() {
  const requests = new Map<string, (...args: unknown[]) => unknown>();
  const notifications = new Set<string>();
  const conn = {
    onInitialize: () => undefined,
    onDidChangeConfiguration: () => undefined,
    onShutdown: () => undefined,
    onRequest: (method: unknown, h: (...args: unknown[]) => unknown) => {
      assert.equal(typeof method, 'string', 'handlers are registered by method name');
      requests.set(method as string, h);
    },
    onNotification: (method: unknown) => {
      notifications.add(typeof method === 'string' ? method : (method as { method: string }).method);
    },
    listen: () => undefined,
    sendNotification: async () => undefined,
  };
  return { conn, requests, notifications };
}

const token = { isCancellationRequested: false, onCancellationRequested: () => ({ dispose: () => undefined }) };

describe('routes: one table from the protocol', () => {
  const declared = declaredMethods();
  const { conn, requests, notifications } = recordingConnection();
  const ctx = createContext(conn as never, { log: () => undefined });
  listen(ctx);
  const handled = [...requests.keys()].filter((m) => m !== CRASH_INFERENCE_WORKER).sort();

  test('the protocol declares who sends each of its methods', () => {
    assert.ok(declared.length >= 9, `found the protocol's methods (${declared.map((d) => d.name).join(', ')})`);
    for (const d of declared) {
      assert.ok(
        d.messageDirection === 'clientToServer' || d.messageDirection === 'serverToClient',
        `${d.name}.messageDirection is 'clientToServer' or 'serverToClient' (got ${String(d.messageDirection)})`,
      );
    }
    assert.ok(
      declared.some((d) => d.messageDirection === 'serverToClient'),
      'the status notification goes to the client',
    );
  });

  test('every protocol request sent to the server has a handler, and every handler a protocol entry', () => {
    const served = declared.filter((d) => d.kind === 'request' && d.messageDirection === 'clientToServer').map((d) => d.method);
    assert.deepEqual(handled, [...served].sort());
    assert.deepEqual(ROUTES.map((r) => r.method).sort(), handled, 'the connection holds exactly the table');
  });

  test('every protocol notification sent to the server has a handler; none sent to the client is handled', () => {
    const served = declared.filter((d) => d.kind === 'notification' && d.messageDirection === 'clientToServer').map((d) => d.method);
    assert.deepEqual([...notifications].sort(), [...served].sort());
    for (const d of declared.filter((x) => x.messageDirection === 'serverToClient')) {
      assert.ok(!requests.has(d.method) && !notifications.has(d.method), `${d.method} is the server's to send, not to handle`);
    }
  });

  test("a malformed request is refused with the protocol's usage line for that method", async () => {
    (ctx.lifecycle as LifecycleState).initialized = true;
    for (const r of ROUTES.filter((x) => x.admit === 'params')) {
      const ns = Object.values(protocol).find((v) => (v as { method?: unknown })?.method === r.method) as { usage: string };
      const name = r.method.split('/').pop();
      await assert.rejects(Promise.resolve(requests.get(r.method)!('a', 'b', token)), (e: Error & { data?: { code?: string } }) => {
        assert.equal(e.data?.code, 'INVALID_ARGUMENT');
        assert.equal(e.message, `${name} needs one params object ${ns.usage} (got 2 positional values).`);
        return true;
      });
    }
    assert.equal(protocol.ClassifyRequest.usage, '{uri, topK?}');
    assert.equal(protocol.ClassifyBatchRequest.usage, '{uris: string[], topK?}');
  });
});
