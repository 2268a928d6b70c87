/**
 * What the remote-inference tests share: the real Triton server (test-fixtures/remote-server.ts) with the shared
 * models exported for it, the CLI as a child process, and the comparison of remote against local results.
 */
import { strict as assert } from 'node:assert';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { sharedDir, tinyPoolingModel } from '../../../test-fixtures/fixtures.js';
import { exportForTriton, remotePython, startTriton, type TritonServer } from '../../../test-fixtures/remote-server.js';
import { BIN } from './server-client.js';

export const shared = sharedDir();
export const SEED0 = shared ? path.join(shared, 'models', 'resnet50-torchvision-seed0.onnx') : '';
export const MOBILENET = shared ? path.join(shared, 'models', 'mobilenetv2-12-int8.onnx') : '';
export const PHOTOS = shared
  ? readdirSync(path.join(shared, 'images'))
      .sort()
      .map((f) => path.join(shared, 'images', f))
  : [];
/** The token Triton requires (PyTriton's access restriction on inference and metadata), sent through the environment. */
export const TOKEN = 'remote-tests-7f3a';
export const AUTH_ENV = { IMAGE_CLASSIFIER_REMOTE_HEADERS: JSON.stringify({ 'triton-access-token': TOKEN }) };

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

export function cli(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  cacheDir = mkdtempSync(path.join(tmpdir(), 'ic-remote-cache-')),
): Promise<Run> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { env: { ...process.env, IMAGE_CLASSIFIER_CACHE_DIR: cacheDir, ...env }, maxBuffer: 256 << 20 },
      (err, stdout, stderr) => {
        const code = err ? ((err as { code?: number }).code ?? 1) : 0;
        resolve({ code: typeof code === 'number' ? code : 1, stdout, stderr, ms: performance.now() - t0 });
      },
    );
  });
}

/** Starts the CLI and calls `onLine` with each stdout line as it comes; resolves like `cli`. */
export function cliStreaming(args: string[], env: NodeJS.ProcessEnv, onLine: (line: string) => void): Promise<Run> {
  const t0 = performance.now();
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, IMAGE_CLASSIFIER_CACHE_DIR: mkdtempSync(path.join(tmpdir(), 'ic-remote-cache-')), ...env },
  });
  let stdout = '';
  let stderr = '';
  let pending = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    pending += d.toString();
    const lines = pending.split('\n');
    pending = lines.pop()!;
    for (const l of lines) if (l) onLine(l);
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr, ms: performance.now() - t0 })));
}

// biome-ignore lint/suspicious/noExplicitAny: parsed records are checked field by field
export type Rec = Record<string, any>;

export function jsonl(s: string): Rec[] {
  return s
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Rec);
}

export interface Predicted {
  predictions: Array<{ index: number; probability: number }>;
  embedding?: number[];
}

/** Same top-5 in the same order, probabilities within 1e-4, embeddings within 1e-4; returns the largest differences. */
export function assertSameResult(remote: Predicted, local: Predicted, what: string): { prob: number; emb: number } {
  assert.deepEqual(
    remote.predictions.map((p) => p.index),
    local.predictions.map((p) => p.index),
    `${what}: top-5 classes`,
  );
  let prob = 0;
  remote.predictions.forEach((p, i) => {
    prob = Math.max(prob, Math.abs(p.probability - local.predictions[i]!.probability));
  });
  assert.ok(prob <= 1e-4, `${what}: probabilities differ by ${prob}`);
  let emb = 0;
  if (local.embedding) {
    assert.ok(remote.embedding, `${what}: the remote result has no embedding`);
    assert.equal(remote.embedding.length, local.embedding.length, `${what}: embedding width`);
    remote.embedding.forEach((v, i) => {
      emb = Math.max(emb, Math.abs(v - local.embedding![i]!));
    });
    assert.ok(emb <= 1e-4, `${what}: embeddings differ by ${emb}`);
  }
  return { prob, emb };
}

export interface RemoteFixture {
  triton: TritonServer;
  /** The exported models (name → model.onnx) the server serves. */
  files: Record<string, string>;
  repo: string;
}

/**
 * Exports ResNet50 (seed 0) and MobileNetV2 int8 for Triton, writes a model with other input shapes (1 channel,
 * 64×64), and starts Triton with all three behind an access token. Undefined (skip) without the venv or ../shared.
 */
export async function startFixture(): Promise<RemoteFixture | undefined> {
  const python = remotePython();
  if (!python || !shared) return undefined;
  const repo = mkdtempSync(path.join(tmpdir(), 'ic-triton-repo-'));
  const files = {
    resnet50: exportForTriton(SEED0, 'resnet50', repo),
    mobilenet: exportForTriton(MOBILENET, 'mobilenet', repo),
    gray64: path.join(repo, 'gray64.onnx'),
  };
  writeFileSync(files.gray64, tinyPoolingModel(['batch', 1, 64, 64]));
  const triton = await startTriton(python, files, { accessToken: TOKEN });
  return { triton, files, repo };
}
