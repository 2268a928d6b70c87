/**
 * Credentials for the remote inference server, kept in VS Code's SecretStorage (the OS keychain), never in
 * settings. They reach the server process through its environment (IMAGE_CLASSIFIER_REMOTE_HEADERS, read by core's
 * remote backend) when it starts; setting them restarts the server.
 */
import * as vscode from 'vscode';

const KEY = 'imageClassifier.remote.headers';

/** What the user typed → the headers' JSON: a JSON object as it is, anything else a bearer token. */
export function headersFromInput(input: string): string | undefined {
  const s = input.trim();
  if (!s) return undefined;
  if (s.startsWith('{')) {
    const o = JSON.parse(s) as unknown;
    if (!o || typeof o !== 'object' || Array.isArray(o) || !Object.values(o).every((v) => typeof v === 'string')) {
      throw new Error('Headers must be a JSON object of header names to string values, e.g. {"Authorization": "Bearer …"}.');
    }
    return JSON.stringify(o);
  }
  return JSON.stringify({ Authorization: /^bearer\s/i.test(s) ? s : `Bearer ${s}` });
}

/** The server process's environment entries for the stored credentials (none stored: none). */
export async function remoteSecretEnv(context: vscode.ExtensionContext): Promise<Record<string, string>> {
  const v = await context.secrets.get(KEY);
  return v ? { IMAGE_CLASSIFIER_REMOTE_HEADERS: v } : {};
}

/** Asks for a token or a headers object and stores it (an empty answer removes what is stored). */
export async function promptRemoteCredentials(context: vscode.ExtensionContext): Promise<boolean> {
  const input = await vscode.window.showInputBox({
    title: 'Image Classifier: remote server credentials',
    prompt: 'A bearer token, or a JSON object of headers (e.g. {"triton-access-token": "…"}). Empty: remove the stored credentials.',
    password: true,
    ignoreFocusOut: true,
    validateInput: (v) => {
      try {
        headersFromInput(v);
        return undefined;
      } catch (e) {
        return e instanceof Error ? e.message : String(e);
      }
    },
  });
  if (input === undefined) return false;
  const headers = headersFromInput(input);
  if (headers) await context.secrets.store(KEY, headers);
  else await context.secrets.delete(KEY);
  return true;
}
