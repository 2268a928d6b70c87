/**
 * Which decoded values the server dispatches as JSON-RPC 2.0 messages, on every transport.
 *
 * On a byte stream (stdio, pipe, socket) frame-guard.ts checks the LSP framing first and serve.ts's JSON decoder
 * calls `invalidReason` on each parsed body. On `--node-ipc`, the transport the extension uses
 * (vscode-languageclient's `TransportKind.ipc` forks the server with a Node IPC channel), Node frames and parses
 * each message itself (one JSON value per line, written by the parent's `process.send`), so there is no header to
 * check and one bad message cannot misalign the next: `checkIpcMessage` refuses a value that is not a JSON-RPC
 * message or that is larger than the stream's frame limit, the server answers it with a JSON-RPC error (−32600)
 * and keeps serving. Node has read such a message in full before it gets here, so on IPC the size limit stops a
 * message from being handled, not from being read; the channel's only peer is the process that forked the server.
 */
import { MAX_FRAME_BYTES } from './frame-guard.js';

/** The request id of a value, when it has a usable one (an error answer carries it). */
export function idOf(v: unknown): string | number | null {
  const id = (v as { id?: unknown } | null)?.id;
  return typeof id === 'string' || typeof id === 'number' ? id : null;
}

/** Why a parsed value is not a JSON-RPC 2.0 message the server can dispatch, or undefined when it is one. */
export function invalidReason(v: unknown): string | undefined {
  if (Array.isArray(v)) return 'batch messages are not supported';
  if (!v || typeof v !== 'object') return 'a message must be a JSON object';
  const m = v as Record<string, unknown>;
  if (m.jsonrpc !== '2.0') return `"jsonrpc" must be "2.0"`;
  if ('id' in m && m.id !== null && typeof m.id !== 'string' && typeof m.id !== 'number') return '"id" must be a string, a number or null';
  if ('method' in m) {
    if (typeof m.method !== 'string') return '"method" must be a string';
    if ('params' in m && m.params !== null && typeof m.params !== 'object') return '"params" must be an object or an array';
    return undefined;
  }
  if ('id' in m && ('result' in m || 'error' in m)) return undefined; // a response
  return 'a message needs a "method" (request or notification) or a "result"/"error" (response)';
}

/**
 * A lower bound of `v`'s size as JSON text in bytes (the characters of its strings and keys, one per other value),
 * counted until it passes `limit`: the count when it does, undefined when `v` is within it. Iterative, so a deeply
 * nested value does not exhaust the stack.
 */
export function jsonSizeOver(v: unknown, limit: number): number | undefined {
  let size = 0;
  const stack: unknown[] = [v];
  while (stack.length > 0) {
    const x = stack.pop();
    if (typeof x === 'string') size += x.length + 2;
    else if (Array.isArray(x)) {
      size += 2;
      for (const item of x) stack.push(item);
    } else if (x && typeof x === 'object') {
      size += 2;
      for (const [k, item] of Object.entries(x)) {
        size += k.length + 3;
        stack.push(item);
      }
    } else size += 1;
    if (size > limit) return size;
  }
  return undefined;
}

/** Why an IPC message is refused (not JSON-RPC 2.0, or larger than `maxBytes`), or undefined when it is dispatched. */
export function checkIpcMessage(v: unknown, maxBytes = MAX_FRAME_BYTES): string | undefined {
  const size = jsonSizeOver(v, maxBytes);
  if (size !== undefined) return `the message is larger than the limit of ${maxBytes} bytes (at least ${size})`;
  return invalidReason(v);
}
