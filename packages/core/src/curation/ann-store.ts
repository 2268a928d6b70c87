/**
 * The neighbour graph on disk, so that find-similar (another thread) and the next curation run (after files changed)
 * reuse it: `<file>` is usearch's own format; `<file>.f32` holds the projection basis, the projected vector per graph
 * key and the graph key per row; `<file>.json` the content id per key and the options; `<file>.sum.json` (the
 * manifest) the size and SHA-256 of each of the three. Each part is written beside and renamed into place; the
 * manifest goes first (removed) and last (written to a temporary file, fsynced, renamed), so a set torn by a crash
 * or overwritten since has no manifest or one that does not match.
 *
 * Reading verifies every part against the manifest before anything is parsed, and before the native library sees a
 * byte of the graph: the graph's verified bytes can be written to a private copy (`copyTo`) that the caller loads,
 * so a file replaced after the check is never the one loaded. A set that does not add up reads as absent with the
 * reason (the graph is then built anew, and the run says why).
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import * as path from 'node:path';
import { threadId } from 'node:worker_threads';
import type { AnnIndex, AnnOptions, AnnSnapshot } from './ann.js';

/** The layout of the saved set: 2 added the manifest. */
export const ANN_STORE_VERSION = 2;

interface Meta {
  version: number;
  d: number;
  dims: number;
  rows: number;
  keys: number;
  options: AnnOptions;
  ids: string[];
  graphBytes: number;
}

interface PartSum {
  bytes: number;
  sha256: string;
}

interface Manifest {
  version: number;
  graph: PartSum;
  f32: PartSum;
  json: PartSum;
}

const PARTS = ['graph', 'f32', 'json'] as const;
type Part = (typeof PARTS)[number];

/** The files of the set saved at `file`: the graph, its two sidecars, then the manifest. */
export function annStoreFiles(file: string): { graph: string; f32: string; json: string; manifest: string } {
  return { graph: file, f32: `${file}.f32`, json: `${file}.json`, manifest: `${file}.sum.json` };
}

function sum(buf: Uint8Array): PartSum {
  return { bytes: buf.byteLength, sha256: createHash('sha256').update(buf).digest('hex') };
}

/** Writes `data` to `file` durably: a temporary file beside, fsynced, renamed over `file`. */
function writeDurably(file: string, data: string): void {
  const tmp = `${file}.${process.pid}-${threadId}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  try {
    const dir = openSync(path.dirname(file), 'r');
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
  } catch {
    // Folders cannot be opened for fsync everywhere (Windows): the rename is as durable as the platform makes it.
  }
}

/** Saves `ann` (a graph index) to `file` and its sidecars; undefined for an exact index or when writing fails. */
export function persistAnnIndex(ann: AnnIndex, file: string, d: number): AnnSnapshot | undefined {
  const out = annStoreFiles(file);
  const tmp = `${file}.${process.pid}-${threadId}.tmp`;
  const parts = [tmp, `${tmp}.f32`, `${tmp}.json`];
  try {
    const snap = ann.save(tmp);
    if (!snap) return undefined;
    const f32 = Buffer.concat([
      Buffer.from(snap.basis.buffer, snap.basis.byteOffset, snap.basis.byteLength),
      Buffer.from(snap.reduced.buffer, snap.reduced.byteOffset, snap.reduced.byteLength),
      Buffer.from(snap.rowKeys.buffer, snap.rowKeys.byteOffset, snap.rowKeys.byteLength),
    ]);
    writeFileSync(parts[1]!, f32);
    const graph = sum(readFileSync(tmp));
    const meta: Meta = {
      version: ANN_STORE_VERSION,
      d,
      dims: snap.dims,
      rows: snap.rows,
      keys: snap.ids.length,
      options: snap.options,
      ids: snap.ids,
      graphBytes: graph.bytes,
    };
    const json = Buffer.from(JSON.stringify(meta));
    writeFileSync(parts[2]!, json);
    const manifest: Manifest = { version: ANN_STORE_VERSION, graph, f32: sum(f32), json: sum(json) };
    // Without a manifest, the parts being replaced read as torn, never as a mix of two saves.
    rmSync(out.manifest, { force: true });
    renameSync(tmp, out.graph);
    renameSync(parts[1]!, out.f32);
    renameSync(parts[2]!, out.json);
    writeDurably(out.manifest, JSON.stringify(manifest));
    return { ...snap, file, sha256: graph.sha256, graphBytes: graph.bytes };
  } catch {
    for (const p of parts) rmSync(p, { force: true });
    return undefined;
  }
}

/** A saved graph read and verified, or why not: `reason` undefined when nothing was saved at all. */
export type AnnStoreRead = { snapshot: AnnSnapshot; reason?: undefined } | { snapshot?: undefined; reason?: string };

function validSum(x: unknown): x is PartSum {
  const s = x as PartSum;
  return Boolean(s) && Number.isSafeInteger(s.bytes) && s.bytes >= 0 && typeof s.sha256 === 'string' && /^[0-9a-f]{64}$/.test(s.sha256);
}

/** The manifest at `file`, or why it cannot be used. */
function readManifest(file: string): Manifest | string {
  let manifest: Manifest;
  try {
    manifest = JSON.parse(readFileSync(file, 'utf8')) as Manifest;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT'
      ? 'the saved graph has no checksum manifest (torn or written by an older version)'
      : 'the saved graph’s checksum manifest is unreadable';
  }
  if (!manifest || typeof manifest !== 'object' || manifest.version !== ANN_STORE_VERSION)
    return 'the saved graph was written by another version';
  if (!PARTS.every((p) => validSum(manifest[p]))) return 'the saved graph’s checksum manifest is unreadable';
  return manifest;
}

const PART_NAMES: Record<Part, string> = { graph: 'graph file', f32: 'vector sidecar', json: 'key sidecar' };

/** Why `buf` is not the part the manifest describes, or undefined when it is. */
function mismatch(part: Part, buf: Uint8Array, want: PartSum): string | undefined {
  if (buf.byteLength !== want.bytes)
    return `the saved graph is torn: its ${PART_NAMES[part]} holds ${buf.byteLength} bytes, its manifest says ${want.bytes}`;
  if (sum(buf).sha256 !== want.sha256)
    return `the saved graph failed its checksum: its ${PART_NAMES[part]} was changed since it was written`;
  return undefined;
}

/**
 * The graph saved at `file` for d-dimensional rows, every part verified against the manifest; otherwise the reason
 * (torn, changed, another version or width), or neither when nothing is saved there. With `copyTo`, the graph's
 * verified bytes are written to that new file (created, never overwritten) and the snapshot points at it: load
 * that copy, then remove it.
 */
export function checkAnnSnapshot(file: string, d: number, o: { copyTo?: string; verifiedGraph?: VerifiedGraph } = {}): AnnStoreRead {
  const f = annStoreFiles(file);
  if (![f.graph, f.f32, f.json, f.manifest].some((p) => existsSync(p))) return {};
  const read = readManifest(f.manifest);
  if (typeof read === 'string') return { reason: read };
  const manifest = read;
  if (o.verifiedGraph && (o.verifiedGraph.sha256 !== manifest.graph.sha256 || o.verifiedGraph.bytes !== manifest.graph.bytes))
    return { reason: 'the saved graph was replaced while this run read it' };
  const bufs = {} as Record<Part, Buffer>;
  for (const p of PARTS) {
    if (p === 'graph' && o.verifiedGraph) continue;
    try {
      bufs[p] = readFileSync(f[p]);
    } catch {
      return { reason: `the saved graph is torn: its ${PART_NAMES[p]} is missing or unreadable` };
    }
    const bad = mismatch(p, bufs[p], manifest[p]);
    if (bad) return { reason: bad };
  }
  let meta: Meta;
  try {
    meta = JSON.parse(bufs.json.toString('utf8')) as Meta;
  } catch {
    return { reason: 'the saved graph’s key sidecar is unreadable' };
  }
  if (meta.version !== ANN_STORE_VERSION) return { reason: 'the saved graph was written by another version' };
  if (meta.d !== d) return { reason: `the saved graph is for ${meta.d}-d embeddings, not ${d}-d` };
  const buf = bufs.f32;
  const floats = meta.dims * d + meta.keys * meta.dims;
  if (
    !Array.isArray(meta.ids) ||
    meta.ids.length !== meta.keys ||
    meta.graphBytes !== manifest.graph.bytes ||
    !Number.isSafeInteger(floats) ||
    buf.byteLength !== 4 * (floats + meta.rows)
  )
    return { reason: 'the saved graph’s parts do not add up' };
  let graphFile = o.verifiedGraph?.file ?? file;
  if (o.copyTo && !o.verifiedGraph) {
    try {
      writeFileSync(o.copyTo, bufs.graph, { flag: 'wx', mode: 0o600 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') rmSync(o.copyTo, { force: true });
      return { reason: `the saved graph could not be copied for loading (${(e as Error).message})` };
    }
    graphFile = o.copyTo;
  }
  const all = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + 4 * floats));
  const rowKeys = new Int32Array(buf.buffer.slice(buf.byteOffset + 4 * floats, buf.byteOffset + buf.byteLength));
  return {
    snapshot: {
      file: graphFile,
      rows: meta.rows,
      rowKeys,
      dims: meta.dims,
      basis: all.subarray(0, meta.dims * d),
      options: meta.options,
      ids: meta.ids,
      reduced: all.subarray(meta.dims * d),
      sha256: manifest.graph.sha256,
      graphBytes: manifest.graph.bytes,
    },
  };
}

/** A copy of a saved graph's file, verified against the manifest when it was made (copyManifestGraph). */
export interface VerifiedGraph {
  file: string;
  sha256: string;
  bytes: number;
  /** The graph's dimensions and options, from its verified key sidecar (to configure usearch for loading it). */
  dims: number;
  options: AnnOptions;
}

/**
 * Copies the graph saved at `file` to the new file `copyTo` if it matches its manifest: the copy and the hash it was
 * verified against (give it to checkAnnSnapshot as `verifiedGraph`), else why not; `{}` when nothing is saved.
 */
export function copyManifestGraph(file: string, copyTo: string): { graph?: VerifiedGraph; reason?: string } {
  const f = annStoreFiles(file);
  if (!existsSync(f.manifest) && !existsSync(f.graph)) return {};
  const manifest = readManifest(f.manifest);
  if (typeof manifest === 'string') return { reason: manifest };
  let meta: Meta;
  try {
    const json = readFileSync(f.json);
    const bad = mismatch('json', json, manifest.json);
    if (bad) return { reason: bad };
    meta = JSON.parse(json.toString('utf8')) as Meta;
  } catch {
    return { reason: 'the saved graph is torn: its key sidecar is missing or unreadable' };
  }
  if (meta.version !== ANN_STORE_VERSION) return { reason: 'the saved graph was written by another version' };
  const bad = copyVerifiedGraph(file, manifest.graph.sha256, manifest.graph.bytes, copyTo);
  return bad ? { reason: bad } : { graph: { file: copyTo, ...manifest.graph, dims: meta.dims, options: meta.options } };
}

/** The graph saved at `file` for d-dimensional rows, verified, or undefined (absent, torn, changed, another version). */
export function readAnnSnapshot(file: string, d: number): AnnSnapshot | undefined {
  return checkAnnSnapshot(file, d).snapshot;
}

/**
 * Copies the graph file `source` to the new file `copyTo` if its bytes are still the ones saved (`sha256`, `bytes`:
 * the snapshot's); undefined when copied, else why not (nothing is left at `copyTo` then).
 */
export function copyVerifiedGraph(source: string, sha256: string, bytes: number, copyTo: string): string | undefined {
  let buf: Buffer;
  try {
    buf = readFileSync(source);
  } catch {
    return 'the saved graph is missing or unreadable';
  }
  const bad = mismatch('graph', buf, { sha256, bytes });
  if (bad) return bad;
  try {
    writeFileSync(copyTo, buf, { flag: 'wx', mode: 0o600 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') rmSync(copyTo, { force: true });
    return `the saved graph could not be copied for loading (${(e as Error).message})`;
  }
  return undefined;
}
