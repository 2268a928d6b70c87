/**
 * The inference server's lifecycle: a vscode-languageclient LanguageClient that forks the bundled server
 * (`dist/server/server.js`) with the editor's own Node over IPC, starts it on first need, pushes settings,
 * restarts it when it crashes (a bounded number of times), and turns its status notifications into events.
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
  ErrorAction,
  LanguageClient,
  RevealOutputChannelOn,
  State,
  TransportKind,
  type CloseHandlerResult,
  type ErrorHandler,
  type ErrorHandlerResult,
  type LanguageClientOptions,
  type RequestType,
  type ServerOptions,
  WorkDoneProgress,
} from 'vscode-languageclient/node';
import {
  ClassifyBatchRequest,
  ClassifyRequest,
  ClearCacheRequest,
  ModelInfoRequest,
  CurateRequest,
  SimilarRequest,
  StatusNotification,
  ThumbnailsRequest,
  type CurateResult,
  type SimilarParams,
  type SimilarResult,
  type ClassifyBatchResult,
  type ClassifyResult,
  type ClearCacheResult,
  type ModelInfoResult,
  type StatusParams,
  type ThumbnailsResult,
} from '@image-classifier/protocol';
import { engineProcessEnv } from '@image-classifier/protocol/launch';
import type { BatchOptions, ClientModule, CurateOptions, RequestOptions, ServerConnection, ServerPhase } from './serverTypes';
import { remoteSecretEnv } from '../secrets';
import { serverSettings } from '../settings';

/** At most this many automatic restarts within RESTART_WINDOW_MS; after that the user restarts by hand. */
const MAX_RESTARTS = 5;
const RESTART_WINDOW_MS = 3 * 60_000;

let tokenCounter = 0;
function newToken(kind: string): string {
  return `imageClassifier/${kind}/${Date.now().toString(36)}-${(tokenCounter++).toString(36)}`;
}

/** The language client of the inference server: starts, restarts and talks to the forked server process. */
export class ServerClient implements ServerConnection {
  private client: LanguageClient | undefined;
  private starting: Promise<LanguageClient> | undefined;
  private readonly restarts: number[] = [];
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
      run: { module, transport: TransportKind.ipc, options: { env } },
      debug: { module, transport: TransportKind.ipc, options: { env, execArgv: ['--nolazy', '--inspect=6019'] } },
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
      errorHandler: this.errorHandler(),
      initializationFailedHandler: (error) => {
        this.output.error(`The server failed to initialize: ${error instanceof Error ? error.message : String(error)}`);
        return false;
      },
    };
    const client = new LanguageClient('imageClassifier', 'Image Classifier', serverOptions, clientOptions);
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

  private errorHandler(): ErrorHandler {
    return {
      error: (_error, _message, count): ErrorHandlerResult => {
        // A broken pipe or garbled message: keep going unless it happens repeatedly, then let `closed` decide.
        return { action: count !== undefined && count <= 3 ? ErrorAction.Continue : ErrorAction.Shutdown, handled: true };
      },
      closed: (): CloseHandlerResult => {
        const now = Date.now();
        while (this.restarts.length && now - this.restarts[0]! > RESTART_WINDOW_MS) this.restarts.shift();
        if (this.restarts.length >= MAX_RESTARTS) {
          this.setPhase('failed');
          this.lastStatus = {
            state: 'error',
            error: { code: 'SERVER_CRASHED', message: 'The server keeps stopping.' },
            message: 'The server keeps stopping.',
          };
          this.statusEmitter.fire(this.lastStatus);
          void vscode.window
            .showErrorMessage(
              `The Image Classifier server stopped ${MAX_RESTARTS + 1} times in ${RESTART_WINDOW_MS / 60_000} minutes and will not be restarted automatically. ` +
                'Look at the output for the reason (often a model that does not load, or memory), then run "Image Classifier: Restart Server".',
              'Show Output',
              'Restart Server',
            )
            .then((a) => {
              if (a === 'Show Output') this.output.show(true);
              if (a === 'Restart Server') void vscode.commands.executeCommand('imageClassifier.restartServer');
            });
          return { action: CloseAction.DoNotRestart, handled: true };
        }
        this.restarts.push(now);
        this.output.warn('The server process stopped unexpectedly; restarting it.');
        void vscode.window.setStatusBarMessage(
          '$(sync~spin) Image Classifier: the server stopped unexpectedly and is being restarted…',
          5000,
        );
        this.lastStatus = { state: 'loading', message: 'Restarting the server…' };
        this.statusEmitter.fire(this.lastStatus);
        return { action: CloseAction.Restart, handled: true };
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

  async restart(): Promise<void> {
    this.restarts.length = 0;
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

  async classify(uri: vscode.Uri, opts: RequestOptions = {}): Promise<ClassifyResult> {
    const c = await this.ensureStarted();
    const params = { uri: uri.toString(), topK: opts.topK, force: opts.force };
    return opts.token ? c.sendRequest(ClassifyRequest.type, params, opts.token) : c.sendRequest(ClassifyRequest.type, params);
  }

  /**
   * classifyBatch with partial results. On cancellation the server answers with what it finished
   * (`cancelled: true`); if it answers with an error instead, the partial results already delivered stand.
   */
  async classifyBatch(uris: vscode.Uri[], opts: BatchOptions = {}): Promise<ClassifyBatchResult> {
    const c = await this.ensureStarted();
    const partialResultToken = newToken('partial');
    const onPartial = opts.onPartial;
    const sub = onPartial ? c.onProgress(ClassifyBatchRequest.partialResult, partialResultToken, (items) => onPartial(items)) : undefined;
    try {
      const params = {
        uris: uris.map((u) => u.toString()),
        topK: opts.topK,
        force: opts.force,
        ...(opts.cachedOnly ? { cachedOnly: true } : {}),
        partialResultToken,
      };
      return await (opts.token
        ? c.sendRequest(ClassifyBatchRequest.type, params, opts.token)
        : c.sendRequest(ClassifyBatchRequest.type, params));
    } finally {
      sub?.dispose();
    }
  }

  async modelInfo(): Promise<ModelInfoResult> {
    const c = await this.ensureStarted();
    return c.sendRequest(ModelInfoRequest.type, {});
  }

  async clearCache(): Promise<ClearCacheResult> {
    const c = await this.ensureStarted();
    return c.sendRequest(ClearCacheRequest.type, {});
  }

  /** curate with partial results and work-done progress; on cancellation the server answers `cancelled: true`. */
  async curate(root: vscode.Uri, opts: CurateOptions = {}): Promise<CurateResult> {
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
      return await this.request(CurateRequest.type, { root: root.toString(), partialResultToken, workDoneToken }, opts.token);
    } finally {
      for (const s of subs) s?.dispose();
    }
  }

  async similar(params: SimilarParams): Promise<SimilarResult> {
    return this.request(SimilarRequest.type, params);
  }

  async request<P, R>(type: RequestType<P, R, void>, params: P, token?: vscode.CancellationToken): Promise<R> {
    const c = await this.ensureStarted();
    // The protocol's request types carry their params' type; the client's overloads cannot see through a generic P.
    const send = c.sendRequest.bind(c) as (t: RequestType<P, R, void>, p: P, tok?: vscode.CancellationToken) => Promise<R>;
    return token ? send(type, params, token) : send(type, params);
  }

  async thumbnails(uris: string[], size: number, token?: vscode.CancellationToken): Promise<ThumbnailsResult> {
    const c = await this.ensureStarted();
    const params = { uris, size };
    return token ? c.sendRequest(ThumbnailsRequest.type, params, token) : c.sendRequest(ThumbnailsRequest.type, params);
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
