/**
 * The user's `imageClassifier.*` settings → the server's `ServerSettings` (sent as initializationOptions and in
 * `workspace/didChangeConfiguration` as `settings.imageClassifier`), plus what only the extension decides:
 * the cache directory (the extension's global storage) and the roots (the workspace folders).
 */
import * as vscode from 'vscode';
import type { PreprocessingMode, ServerSettings } from '@image-classifier/protocol';
import { PREPROCESSING_MODES, SETTING_DEFAULTS, SETTING_LIMITS } from '@image-classifier/protocol/settings';

export const SECTION = 'imageClassifier';

export type AutoClassify = 'off' | 'onHover' | 'visibleFiles';

/** Settings that only the workspace's owner should control: in an untrusted workspace only user values count. */
const RESTRICTED = new Set(['model', 'labels', 'executionProviders', 'backend', 'remote.url']);

function read<T>(key: string, fallback: T): T {
  const cfg = vscode.workspace.getConfiguration(SECTION);
  if (!vscode.workspace.isTrusted && RESTRICTED.has(key)) {
    const i = cfg.inspect<T>(key);
    return (i?.globalValue ?? i?.defaultValue ?? fallback) as T;
  }
  return cfg.get<T>(key, fallback);
}

export function autoClassify(): AutoClassify {
  const v = read<string>('autoClassify', 'onHover');
  return v === 'off' || v === 'visibleFiles' ? v : 'onHover';
}

export function topK(): number {
  const k = read<number>('topK', SETTING_DEFAULTS.topK);
  return Number.isInteger(k) && k >= 1 ? Math.min(k, SETTING_LIMITS.topK[1]) : SETTING_DEFAULTS.topK;
}

export function minConfidence(): number {
  const v = read<number>('minConfidence', 0);
  return Number.isFinite(v) ? Math.min(Math.max(v, 0), 1) : 0;
}

/** Resolves `~` and `${workspaceFolder}` in a path setting; URLs pass through. */
export function expandPath(p: string): string {
  let s = p.trim();
  if (!s || /^https?:\/\//i.test(s)) return s;
  const home = process.env.HOME ?? process.env.USERPROFILE;
  if (home && (s === '~' || s.startsWith('~/'))) s = home + s.slice(1);
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  if (folder) s = s.replace(/\$\{workspaceFolder\}/g, folder);
  return s;
}

export function serverSettings(context: vscode.ExtensionContext): ServerSettings {
  const preprocessing = read<string>('preprocessing', SETTING_DEFAULTS.preprocessing);
  const threads = read<number>('threads', SETTING_DEFAULTS.threads);
  const providers = read<unknown>('executionProviders', ['cpu']);
  const maxImagePixels = read<number>('maxImagePixels', SETTING_DEFAULTS.maxImagePixels);
  return {
    model: expandPath(read<string>('model', '')),
    labels: expandPath(read<string>('labels', '')),
    topK: topK(),
    preprocessing: (PREPROCESSING_MODES.includes(preprocessing as PreprocessingMode)
      ? preprocessing
      : SETTING_DEFAULTS.preprocessing) as PreprocessingMode,
    threads: Number.isInteger(threads) && threads > 0 ? threads : SETTING_DEFAULTS.threads,
    executionProviders:
      Array.isArray(providers) && providers.every((p) => typeof p === 'string') && providers.length ? (providers as string[]) : ['cpu'],
    maxImagePixels: Number.isFinite(maxImagePixels) && maxImagePixels > 0 ? maxImagePixels : SETTING_DEFAULTS.maxImagePixels,
    cacheDir: context.globalStorageUri.fsPath,
    roots: (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => f.uri.fsPath),
    ...remoteSettings(),
  };
}

/** The inference-server settings (the server checks them again; credentials are not settings: see secrets.ts). */
function remoteSettings(): ServerSettings {
  const backend = read<string>('backend', 'local') === 'remote' ? 'remote' : 'local';
  const protocol = read<string>('remote.protocol', 'auto');
  const int = (key: string, fallback: number) => {
    const v = read<number>(key, fallback);
    return Number.isInteger(v) && v > 0 ? v : fallback;
  };
  return {
    backend,
    remoteUrl: read<string>('remote.url', '').trim(),
    remoteModel: read<string>('remote.model', '').trim(),
    remoteVersion: read<string>('remote.version', '').trim(),
    remoteTimeoutMs: int('remote.timeoutMs', SETTING_DEFAULTS.remoteTimeoutMs),
    remoteInflight: int('remote.inflight', SETTING_DEFAULTS.remoteInflight),
    remoteProtocol: protocol === 'binary' || protocol === 'json' ? protocol : 'auto',
    fallbackToLocal: read<boolean>('remote.fallbackToLocal', false) === true,
  };
}

/** Settings whose change makes earlier results stale (a different model or preprocessing gives other labels). */
export const RESULT_AFFECTING = ['model', 'labels', 'preprocessing', 'topK', 'backend', 'remote'].map((k) => `${SECTION}.${k}`);
