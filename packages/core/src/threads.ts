/**
 * What the engine's worker threads share: finding a compiled worker script, and moving typed arrays between threads
 * without copying them.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { ClassifierError } from './errors.js';

/** This package's root: the folder above `src` or `dist` (bundles have none). */
const PACKAGE_ROOT = path.resolve(__dirname, '..');

/**
 * The compiled worker script `distPath` (relative to core's dist, e.g. `engine/inference-worker.js`): beside
 * `besides` (a bundled build names one worker, the others sit next to it), next to this module (bundles put every
 * worker beside the server), or in core's dist (builds, and tests that run from src).
 */
export function findWorkerScript(distPath: string, besides?: string): string {
  const fileName = path.basename(distPath);
  const candidates = [
    ...(besides ? [path.join(path.dirname(besides), fileName)] : []),
    path.join(__dirname, fileName),
    path.join(PACKAGE_ROOT, 'dist', distPath),
  ];
  for (const c of candidates) if (existsSync(c)) return c;
  throw new ClassifierError('INTERNAL', `${fileName} not found next to ${__dirname}; run the build first.`);
}

/** The array spans its whole buffer, so transferring the buffer moves exactly it. */
export function ownsBuffer(a: ArrayBufferView): boolean {
  return a.byteOffset === 0 && a.byteLength === a.buffer.byteLength;
}

/** `postMessage`'s transfer list for `a`: its buffer when it owns it (else it is copied). */
export function transferList(a: ArrayBufferView): ArrayBuffer[] {
  return ownsBuffer(a) ? [a.buffer as ArrayBuffer] : [];
}
