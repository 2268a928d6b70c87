/**
 * The extension's handle on the inference server, as rust-analyzer's `Ctx` holds its language client: `client` is
 * the one ServerClient (client.ts), made on first use, and callers send the protocol's request types through it
 * (`server.client.sendRequest(ClassifyRequest.type, params, token)`). ServerClient is bundled as dist/client.js and
 * required only then: activation stays cheap because vscode-languageclient is not even evaluated until an image is
 * to be classified. The two know each other only through the types in serverTypes.ts.
 *
 * What this handle answers itself, without making the client: the phase, status and process while none was made,
 * and settings pushes and stops that have no server to go to.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { StatusParams } from '@image-classifier/protocol';
import type { ClientModule, ServerConnection, ServerPhase } from './serverTypes';

export type { ServerPhase } from './serverTypes';

export class ServerManager implements vscode.Disposable {
  private impl: ServerConnection | undefined;
  private readonly statusEmitter = new vscode.EventEmitter<StatusParams>();
  private readonly phaseEmitter = new vscode.EventEmitter<ServerPhase>();
  readonly onStatus = this.statusEmitter.event;
  readonly onPhase = this.phaseEmitter.event;

  constructor(
    private readonly context: vscode.ExtensionContext,
    readonly output: vscode.LogOutputChannel,
    /** Loads client.ts; the bundle's default is dist/client.js next to dist/extension.js. */
    private readonly loadModule: () => ClientModule = () => require(path.join(__dirname, 'client.js')) as ClientModule,
  ) {}

  /** The server's client, made (and its bundle loaded) on first use; it starts the server on its first request. */
  get client(): ServerConnection {
    if (!this.impl) {
      const m = this.loadModule();
      this.impl = new m.ServerClient(this.context, this.output, this.statusEmitter, this.phaseEmitter);
    }
    return this.impl;
  }

  get phase(): ServerPhase {
    return this.impl?.phase ?? 'stopped';
  }
  get status(): StatusParams | undefined {
    return this.impl?.status;
  }
  get pid(): number | undefined {
    return this.impl?.pid;
  }
  get started(): boolean {
    return this.impl?.started ?? false;
  }
  get starts(): number {
    return this.impl?.starts ?? 0;
  }

  /** Sends the current settings to a running server; a server not started yet gets them when it starts. */
  async pushSettings(): Promise<void> {
    await this.impl?.pushSettings();
  }
  /** Stops the server if a client was made. */
  async stop(): Promise<void> {
    await this.impl?.stop();
  }

  dispose(): void {
    this.impl?.dispose();
    this.statusEmitter.dispose();
    this.phaseEmitter.dispose();
  }
}
