/**
 * The inference server's lifecycle: a vscode-languageclient LanguageClient that forks the bundled server
 * (`dist/server/server.js`) with the editor's own Node over IPC, starts it on first need, pushes settings,
 * restarts it when it crashes (vscode-languageclient's default policy, see `restartPolicy`), and turns its status
 * notifications into events. Requests go through `sendRequest` with the protocol's request types; classifyBatch
 * and curate add the progress tokens they listen to.
 *
 * Bundled separately as dist/client.js and loaded on first need by ServerManager (server.ts), so that
 * vscode-languageclient is not evaluated during activation. The two share only the types in serverTypes.ts.
 *
 * Classify Folder's progress comes from the batch's partial results (the items themselves, so the count matches the
 * view); the server's work-done progress is not asked for (it would be a second, less frequent count of the same).
 */
import * as path from 'node:path';
import * as readline from 'node:readline';
import * as vscode from 'vscode';
import {
  CloseAction,
  DidChangeConfigurationNotification,
  LanguageClient,
  RevealOutputChannelOn,
  State,
  TransportKind,
  type CloseHandlerResult,
  type ErrorHandler,
  type LanguageClientOptions,
  type RequestType,
  type ServerOptions,
  WorkDoneProgress,
} from 'vscode-languageclient/node';
import {
  ClassifyBatchRequest,
  CurateRequest,
  StatusNotification,
  type ClassifyBatchParams,
  type ClassifyBatchResult,
  type CurateParams,
  type CurateResult,
  type StatusParams,
} from '@image-classifier/protocol';
import { engineProcessEnv, SERVER_EXEC_ARGV } from '@image-classifier/protocol/launch';
import type { BatchOptions, ClientModule, CurateOptions, ServerConnection, ServerPhase } from './serverTypes';
import { remoteSecretEnv } from '../secrets';
import { serverSettings } from '../settings';

/**
 * Automatic restarts: vscode-languageclient's default error handler restarts a server that stopped up to this many
 * times; the next stop within 3 minutes of the first of them leaves it stopped (the user restarts it by hand).
 */
export const MAX_RESTARTS = 5;

/** What the client shows when the server stopped unexpectedly. */
export interface RestartNotices {
  /** The server is being restarted. */
  restarting(): void;
  /** The server stopped MAX_RESTARTS + 1 times within 3 minutes and stays stopped. */
  gaveUp(): void;
}

/**
 * The restart policy, wrapped the way vscode-eslint wraps it: `defaults` (the client's
 * `createDefaultErrorHandler(MAX_RESTARTS)`) decides; this only adds the notices (the give-up one with actions, in
 * place of the default's plain message) and keeps the output channel from popping up (`handled`: the log has it).
 */
export function restartPolicy(defaults: () => ErrorHandler, notices: RestartNotices): ErrorHandler {
  return {
    error: async (error, message, count) => ({ ...(await defaults().error(error, message, count)), handled: true }),
    closed: async (): Promise<CloseHandlerResult> => {
      const r = await defaults().closed();
      if (r.action === CloseAction.DoNotRestart) {
        notices.gaveUp();
        return { action: CloseAction.DoNotRestart, handled: true };
      }
      notices.restarting();
      return { action: r.action, handled: true };
    },
  };
}

let tokenCounter = 0;
function newToken(kind: string): string {
  return `imageClassifier/${kind}/${Date.now().toString(36)}-${(tokenCounter++).toString(36)}`;
}

/** The language client of the inference server: starts, restarts and talks to the forked server process. */
export class ServerClient implements ServerConnection {
  private client: LanguageClient | undefined;
  private starting: Promise<LanguageClient> | undefined;
  private lastStatus: StatusParams | undefined;
  /** The server process's environment (the remote credentials are added from the secret storage at each start). */
  private serverEnv: NodeJS.ProcessEnv | undefined;
  private _phase: ServerPhase = 'stopped';
  /** How many times the server process was started (1 = first start); tests use it to see a restart. */
  starts = 0;

  readonly onStatus: vscode.Event<StatusParams>;

  constructor(
    private readonly context: vscode.ExtensionContext,
    readonly output: vscode.LogOutputChannel,
    private readonly statusEmitter: vscode.EventEmitter<StatusParams>,
    private readonly phaseEmitter: vscode.EventEmitter<ServerPhase>,
  ) {
    this.onStatus = statusEmitter.event;
  }

  get phase(): ServerPhase {
    return this._phase;
  }
  get status(): StatusParams | undefined {
    return this.lastStatus;
  }
  get pid(): number | undefined {
    return this.client?.serverProcess?.pid;
  }
  get started(): boolean {
    return this.client !== undefined;
  }

  private setPhase(p: ServerPhase): void {
    if (this._phase === p) return;
    this._phase = p;
    this.phaseEmitter.fire(p);
  }

  private serverModule(): string {
    return this.context.asAbsolutePath(path.join('dist', 'server', 'server.js'));
  }

  private createClient(): LanguageClient {
    const module = this.serverModule();
    // Telemetry off and glibc's malloc tuned for ONNX Runtime (a cold ResNet50 session starts in ~0.1 s, not ~0.8 s).
    const env: NodeJS.ProcessEnv = { ...engineProcessEnv(process.env), ELECTRON_RUN_AS_NODE: '1' };
    this.serverEnv = env;
    const serverOptions: ServerOptions = {
      run: { module, transport: TransportKind.ipc, options: { env, execArgv: [...SERVER_EXEC_ARGV] } },
      debug: { module, transport: TransportKind.ipc, options: { env, execArgv: [...SERVER_EXEC_ARGV, '--nolazy', '--inspect=6019'] } },
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: [],
      outputChannel: this.output,
      revealOutputChannelOn: RevealOutputChannelOn.Never,
      // The server logs to stderr; only lines that report a failure are errors in the output channel.
      stdioOptions: {
        stdout: (input, out) => {
          readline.createInterface({ input, crlfDelay: Infinity, terminal: false }).on('line', (l) => out.info(l));
        },
        stderr: (input, out) => {
          readline
            .createInterface({ input, crlfDelay: Infinity, terminal: false })
            .on('line', (l) => (/\b(error|failed|fatal|crash(ed)?|exception)\b/i.test(l) ? out.error(l) : out.info(l)));
        },
      },
      initializationOptions: () => serverSettings(this.context),
      // The client's own default handler, made below once the client exists (as vscode-eslint does).
      errorHandler: restartPolicy(() => defaults, this.restartNotices()),
      initializationFailedHandler: (error) => {
        this.output.error(`The server failed to initialize: ${error instanceof Error ? error.message : String(error)}`);
        return false;
      },
    };
    const client = new LanguageClient('imageClassifier', 'Image Classifier', serverOptions, clientOptions);
    const defaults = client.createDefaultErrorHandler(MAX_RESTARTS);
    client.onNotification(StatusNotification.type, (s) => {
      this.lastStatus = s;
      this.statusEmitter.fire(s);
    });
    client.onDidChangeState((e) => {
      if (e.newState === State.Running) {
        this.starts++;
        this.output.info(`Server running (pid ${client.serverProcess?.pid ?? '?'}, start #${this.starts}).`);
        this.setPhase('running');
      } else if (e.newState === State.Starting) {
        this.setPhase('starting');
      } else if (e.newState === State.Stopped) {
        this.setPhase(this._phase === 'failed' ? 'failed' : 'stopped');
      }
    });
    return client;
  }

  private restartNotices(): RestartNotices {
    return {
      gaveUp: () => {
        this.setPhase('failed');
        this.lastStatus = {
          state: 'error',
          error: { code: 'SERVER_CRASHED', message: 'The server keeps stopping.' },
          message: 'The server keeps stopping.',
        };
        this.statusEmitter.fire(this.lastStatus);
        void vscode.window
          .showErrorMessage(
            `The Image Classifier server stopped ${MAX_RESTARTS + 1} times in 3 minutes and will not be restarted automatically. ` +
              'Look at the output for the reason (often a model that does not load, or memory), then run "Image Classifier: Restart Server".',
            'Show Output',
            'Restart Server',
          )
          .then((a) => {
            if (a === 'Show Output') this.output.show(true);
            if (a === 'Restart Server') void vscode.commands.executeCommand('imageClassifier.restartServer');
          });
      },
      restarting: () => {
        this.output.warn('The server process stopped unexpectedly; restarting it.');
        void vscode.window.setStatusBarMessage(
          '$(sync~spin) Image Classifier: the server stopped unexpectedly and is being restarted…',
          5000,
        );
        this.lastStatus = { state: 'loading', message: 'Restarting the server…' };
        this.statusEmitter.fire(this.lastStatus);
      },
    };
  }

  /** Starts the server if it is not running; resolves once it answered `initialize`. */
  async ensureStarted(): Promise<LanguageClient> {
    if (this.client && this.client.state === State.Running) return this.client;
    if (this.starting) return this.starting;
    this.starting = (async () => {
      const client = this.client ?? (this.client = this.createClient());
      this.setPhase('starting');
      this.lastStatus = { state: 'loading', message: 'Starting the server…' };
      this.statusEmitter.fire(this.lastStatus);
      try {
        if (client.state !== State.Running) {
          if (this.serverEnv) Object.assign(this.serverEnv, await remoteSecretEnv(this.context));
          await client.start();
        }
        return client;
      } catch (e) {
        this.setPhase('failed');
        const msg = e instanceof Error ? e.message : String(e);
        this.output.error(`The server could not be started: ${msg}`);
        this.lastStatus = {
          state: 'error',
          message: 'The server could not be started.',
          error: { code: 'SERVER_START_FAILED', message: msg },
        };
        this.statusEmitter.fire(this.lastStatus);
        // Drop the failed client so that the next attempt starts from scratch.
        const failed = this.client;
        this.client = undefined;
        await failed?.dispose().catch(() => undefined);
        throw Object.assign(new Error(`The Image Classifier server could not be started (${msg}).`), { code: 'SERVER_START_FAILED' });
      } finally {
        this.starting = undefined;
      }
    })();
    return this.starting;
  }

  /** Stops the server and starts a new one (a new client, so the restart count starts again). */
  async restart(): Promise<void> {
    const old = this.client;
    this.client = undefined;
    this.lastStatus = undefined;
    if (old) {
      const proc = old.serverProcess;
      await old.stop(5000).catch(() => undefined);
      await old.dispose().catch(() => undefined);
      if (proc && proc.exitCode === null && proc.signalCode === null) proc.kill();
    }
    this.setPhase('stopped');
    await this.ensureStarted();
  }

  /** Sends the current settings (`workspace/didChangeConfiguration`), if the server is running. */
  async pushSettings(): Promise<void> {
    const c = this.client;
    if (!c || c.state !== State.Running) return;
    await c.sendNotification(DidChangeConfigurationNotification.type, { settings: { imageClassifier: serverSettings(this.context) } });
  }

  /**
   * Sent by the method's name, with `params` as one object (what the typed call sends): `type` may come from the
   * activation bundle, whose copy of vscode-jsonrpc is not this bundle's, and vscode-jsonrpc refuses a request type
   * whose parameter structure is another copy's ("Unknown parameter structure auto").
   */
  async sendRequest<P, R>(type: RequestType<P, R, void>, params: P, token?: vscode.CancellationToken): Promise<R> {
    const c = await this.ensureStarted();
    return (token ? c.sendRequest(type.method, params, token) : c.sendRequest(type.method, params)) as Promise<R>;
  }

  /**
   * classifyBatch with partial results. On cancellation the server answers with what it finished
   * (`cancelled: true`); if it answers with an error instead, the partial results already delivered stand.
   */
  async classifyBatch(
    params: Omit<ClassifyBatchParams, 'workDoneToken' | 'partialResultToken'>,
    opts: BatchOptions = {},
  ): Promise<ClassifyBatchResult> {
    const c = await this.ensureStarted();
    const partialResultToken = newToken('partial');
    const onPartial = opts.onPartial;
    const sub = onPartial ? c.onProgress(ClassifyBatchRequest.partialResult, partialResultToken, (items) => onPartial(items)) : undefined;
    try {
      return await this.sendRequest(ClassifyBatchRequest.type, { ...params, partialResultToken }, opts.token);
    } finally {
      sub?.dispose();
    }
  }

  /** curate with partial results and work-done progress; on cancellation the server answers `cancelled: true`. */
  async curate(params: Omit<CurateParams, 'workDoneToken' | 'partialResultToken'>, opts: CurateOptions = {}): Promise<CurateResult> {
    const c = await this.ensureStarted();
    const partialResultToken = newToken('curate-partial');
    const workDoneToken = newToken('curate-progress');
    const { onPartial, onProgress } = opts;
    const subs = [
      onPartial ? c.onProgress(CurateRequest.partialResult, partialResultToken, (items) => onPartial(items)) : undefined,
      onProgress
        ? c.onProgress(WorkDoneProgress.type, workDoneToken, (p) => {
            if (p.kind !== 'end') onProgress(p.message ?? '', p.percentage);
          })
        : undefined,
    ];
    try {
      return await this.sendRequest(CurateRequest.type, { ...params, partialResultToken, workDoneToken }, opts.token);
    } finally {
      for (const s of subs) s?.dispose();
    }
  }

  async stop(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    if (!c) return;
    const proc = c.serverProcess;
    await c.stop(3000).catch(() => undefined);
    if (proc && proc.exitCode === null && proc.signalCode === null) proc.kill();
  }

  dispose(): void {
    void this.stop();
  }
}

/** What server.ts loads from this bundle, checked by the compiler (server.ts only sees it through `require`). */
export const clientModule = { ServerClient } satisfies ClientModule;
