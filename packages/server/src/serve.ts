/**
 * `image-classifier serve [--stdio | --node-ipc | --pipe=<name> | --socket=<port>] [--worker=<path>]`
 *
 * Starts the JSON-RPC inference server on the chosen transport; stdio by default (the command line, other editors,
 * the tests). The extension forks it with `--node-ipc` (vscode-languageclient's TransportKind.ipc). The transports
 * are built here rather than by vscode-languageserver's argv parsing so that a malformed message gets a JSON-RPC
 * error answer (parse error −32700 / invalid request −32600) instead of being dropped, and the server keeps serving.
 * On a stream (stdio, pipe, socket: LSP framing) a malformed frame ends the server instead, see frame-guard.ts; on
 * IPC Node frames the messages, and each one is checked for shape and size, see message-check.ts.
 */
import * as net from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { format, parseArgs } from 'node:util';
import {
  createConnection,
  ExitNotification,
  IPCMessageReader,
  IPCMessageWriter,
  StreamMessageReader,
  StreamMessageWriter,
  type ContentTypeDecoder,
  type Message,
  type MessageReader,
  type MessageWriter,
} from 'vscode-languageserver/node';
import { noteClientProcess, onClientProcessGone } from './client-process.js';
import { environment } from './environment.js';
import { FrameGuard } from './frame-guard.js';
import { createShutdown, shutdownOnSignals } from './lifecycle.js';
import { checkIpcMessage, idOf, invalidReason } from './message-check.js';
import { InferenceServer } from './server.js';

export { WORKER_ENV } from './environment.js';

const INVALID_MESSAGE = '$/imageClassifier/invalidMessage';

interface InvalidMessageParams {
  id: string | number | null;
  code: number;
  message: string;
}

export interface ServeArgs {
  transport: 'stdio' | 'node-ipc' | 'pipe' | 'socket';
  pipe?: string;
  port?: number;
  worker?: string;
}

const SERVE_USAGE = `Usage: image-classifier serve [--stdio | --node-ipc | --pipe=<name> | --socket=<port>] [--worker=<inference-worker.js>]
Speaks JSON-RPC 2.0 with LSP framing (see packages/protocol/src/methods.ts). Logs go to stderr.`;

const SERVE_OPTIONS = {
  stdio: { type: 'boolean' },
  'node-ipc': { type: 'boolean' },
  pipe: { type: 'string' },
  socket: { type: 'string' },
  worker: { type: 'string' },
  // Read by vscode-languageserver from process.argv.
  clientProcessId: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** One parsed option token → `out`; the options apply in command-line order (the last transport wins). */
function applyServeOption(out: ServeArgs, name: string, raw: string, value: string | undefined): void {
  const needValue = () => {
    if (value === undefined || value === '') throw new Error(`--${name} needs a value.\n${SERVE_USAGE}`);
    return value;
  };
  if (name === 'stdio' || name === 'node-ipc') {
    if (value !== undefined) throw new Error(`Unknown serve option '${raw}=${value}'.\n${SERVE_USAGE}`);
    out.transport = name;
  } else if (name === 'pipe') {
    out.transport = 'pipe';
    out.pipe = needValue();
  } else if (name === 'socket') {
    out.transport = 'socket';
    const port = Number(needValue());
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`--socket needs a port number.\n${SERVE_USAGE}`);
    out.port = port;
  } else if (name === 'worker') {
    out.worker = needValue();
  } else if (name === 'help') {
    process.stderr.write(`${SERVE_USAGE}\n`);
    process.exit(0);
  } else if (name !== 'clientProcessId') {
    throw new Error(`Unknown serve option '${raw}'.\n${SERVE_USAGE}`);
  }
}

export function parseServeArgs(args: string[]): ServeArgs {
  const out: ServeArgs = { transport: 'stdio' };
  const { tokens } = parseArgs({ args, options: SERVE_OPTIONS, strict: false, allowPositionals: true, tokens: true });
  for (const t of tokens) {
    if (t.kind === 'option') applyServeOption(out, t.name, t.rawName, t.value);
    else if (t.kind === 'positional') throw new Error(`Unknown serve option '${t.value}'.\n${SERVE_USAGE}`);
  }
  return out;
}

/** JSON decoding that turns garbage into a notification the server answers with a JSON-RPC error. */
const tolerantJson: ContentTypeDecoder = {
  name: 'application/json',
  decode(buffer: Uint8Array, options: { charset: BufferEncoding | string }): Promise<Message> {
    let value: unknown;
    try {
      value = JSON.parse(Buffer.from(buffer.buffer, buffer.byteOffset, buffer.byteLength).toString(options.charset as BufferEncoding));
    } catch (e) {
      return Promise.resolve(invalid(null, -32700, `Parse error: the message is not valid JSON (${(e as Error).message}).`));
    }
    const why = invalidReason(value);
    if (why) return Promise.resolve(invalid(idOf(value), -32600, `Invalid Request: ${why}.`));
    takeInitializeProcessId(value as Record<string, unknown>);
    return Promise.resolve(value as Message);
  },
};

/** initialize's `processId` is watched here, not by vscode-languageserver (see client-process.ts). */
function takeInitializeProcessId(m: Record<string, unknown>): void {
  const params = m.params as { processId?: unknown } | null | undefined;
  if (m.method !== 'initialize' || !params || typeof params !== 'object' || typeof params.processId !== 'number') return;
  noteClientProcess(params.processId);
  params.processId = null;
}

function invalid(id: string | number | null, code: number, message: string): Message {
  const params: InvalidMessageParams = { id, code, message };
  return { jsonrpc: '2.0', method: INVALID_MESSAGE, params } as Message;
}

/**
 * IPC messages arrive decoded by Node (no frames, no tolerantJson): each is checked here instead (message-check.ts),
 * a refused one becomes the same error answer as on a stream, and initialize's processId is taken out.
 */
class IpcReader extends IPCMessageReader {
  override listen(callback: Parameters<IPCMessageReader['listen']>[0]) {
    return super.listen((m) => {
      const why = checkIpcMessage(m);
      if (why) return callback(invalid(idOf(m), -32600, `Invalid Request: ${why}.`));
      takeInitializeProcessId(m as unknown as Record<string, unknown>);
      callback(m);
    });
  }
}

/** `input` through a FrameGuard: a malformed frame calls `onViolation` and nothing after it reaches the reader. */
function guarded(input: NodeJS.ReadableStream, onViolation: (reason: string) => void): FrameGuard {
  const stallMs = environment.frameStallMs();
  const guard = new FrameGuard({ onViolation, ...(stallMs ? { stallMs } : {}) });
  input.on('error', (e: Error) => guard.destroy(e));
  return input.pipe(guard);
}

function transport(a: ServeArgs, onViolation: (reason: string) => void): [MessageReader, MessageWriter] {
  const readerOptions = { charset: 'utf-8' as const, contentTypeDecoder: tolerantJson };
  switch (a.transport) {
    case 'node-ipc':
      if (!process.send) throw new Error('--node-ipc needs the server to be started with an IPC channel (child_process.fork).');
      return [new IpcReader(process), new IPCMessageWriter(process)];
    case 'pipe':
    case 'socket': {
      const socket = a.transport === 'pipe' ? net.createConnection(a.pipe!) : net.createConnection(a.port!, '127.0.0.1');
      return [new StreamMessageReader(guarded(socket, onViolation), readerOptions), new StreamMessageWriter(socket)];
    }
    default:
      return [new StreamMessageReader(guarded(process.stdin, onViolation), readerOptions), new StreamMessageWriter(process.stdout)];
  }
}

/** Keeps stdout for the protocol: anything printed with console goes to stderr. */
function protectStdout(): void {
  const toStderr = (...args: unknown[]) => {
    process.stderr.write(format(...args) + '\n');
  };
  console.log = toStderr;
  console.info = toStderr;
  console.debug = toStderr;
  console.warn = toStderr;
}

/**
 * Every way the server ends goes through one orderly shutdown (lifecycle.ts): the client closing the stream, the
 * `exit` notification (code 0 after `shutdown`, 1 without, as LSP says), SIGTERM/SIGINT/SIGHUP (0), and a
 * malformed frame or a reader error (1, logged: the client sees the server stop and restarts it).
 */
export async function serve(args: string[]): Promise<void> {
  const a = parseServeArgs(args);
  scavengeInOneThread();
  if (a.transport === 'stdio') protectStdout();
  const log = (m: string) => process.stderr.write(`[image-classifier] ${m}\n`);
  let server: InferenceServer | undefined;
  const shutdown = createShutdown({ log, close: () => server?.close() ?? Promise.resolve() });
  const [reader, writer] = transport(a, (reason) => void shutdown(`malformed message frame: ${reason}`, 1));
  const connection = createConnection(reader, writer);
  connection.onNotification(INVALID_MESSAGE, (p: InvalidMessageParams) => {
    log(p.message);
    void writer.write({ jsonrpc: '2.0', id: p.id, error: { code: p.code, message: p.message } } as Message).catch(() => undefined);
  });
  reader.onClose(() => void shutdown('the client closed the connection', 0));
  // An IPC reader never reports a close: the channel's end is the process's 'disconnect'.
  if (a.transport === 'node-ipc') process.on('disconnect', () => void shutdown('the client closed the IPC channel', 0));
  reader.onError((e) => void shutdown(`reading messages failed: ${e.message}`, 1));
  shutdownOnSignals(shutdown);
  onClientProcessGone((pid) => void shutdown(`the client process ${pid} is gone`, 0));
  const workerScript = a.worker ?? environment.workerScript();
  server = new InferenceServer(connection, workerScript ? { workerScript } : {});
  if (environment.debugLoop()) debugEventLoop();
  server.listen();
  // Replaces vscode-languageserver's own `exit` handler, which calls process.exit at once.
  const s = server;
  connection.onNotification(ExitNotification.type, () => void shutdown('exit notification', s.shutdownRequested ? 0 : 1));
}

/**
 * Young-generation garbage collections in the thread that needs them, not spread over V8's helper threads: a parallel
 * scavenge ends when every helper that took a share of it has finished, and on a busy host a helper waits for a
 * core (scavenges of the server's ~10 MB heap measured 10–140 ms, with the event loop stopped, at load 15–25). The
 * server's young generation holds little that survives (requests, answers, decoder messages), which one thread
 * copies in about a millisecond. This flag is one V8 reads at each scavenge, so it is safe to set at run time
 * (unlike `--single-threaded-gc`, whose implications are fixed at start-up).
 */
function scavengeInOneThread(): void {
  setFlagsFromString('--no-parallel-scavenge');
}

/** Diagnostics (env IMAGE_CLASSIFIER_DEBUG_LOOP=1): GC pauses over 2 ms as they happen, event-loop delay at exit. */
function debugEventLoop(): void {
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  new PerformanceObserver((list) => {
    for (const e of list.getEntries())
      if (e.duration > 2)
        process.stderr.write(
          `[image-classifier] gc ${e.duration.toFixed(1)} ms kind ${(e as unknown as { detail?: { kind?: number } }).detail?.kind}\n`,
        );
  }).observe({ entryTypes: ['gc'] });
  process.on('exit', () => {
    const ms = (ns: number) => (ns / 1e6).toFixed(1);
    process.stderr.write(
      `[image-classifier] event-loop delay: p50 ${ms(h.percentile(50))} p99 ${ms(h.percentile(99))} max ${ms(h.max)} ms\n`,
    );
  });
}
