/**
 * The neighbour graph on disk, so that find-similar (another thread) and the next curation run (after files changed)
 * reuse it: `<file>` is usearch's own format; `<file>.f32` holds the projection basis, the projected vector per graph
 * key and the graph key per row; `<file>.json` the content id per key and the options. Each is written beside and
 * renamed into place, the JSON last; a set that does not add up reads as absent (the graph is then built anew).
 */
import { existsSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type { AnnIndex, AnnOptions, AnnSnapshot } from './ann.js';

const VERSION = 1;

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

/** Saves `ann` (a graph index) to `file` and its sidecars; undefined for an exact index or when writing fails. */
export function persistAnnIndex(ann: AnnIndex, file: string, d: number): AnnSnapshot | undefined {
  const tmp = `${file}.${process.pid}.tmp`;
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
    const meta: Meta = {
      version: VERSION,
      d,
      dims: snap.dims,
      rows: snap.rows,
      keys: snap.ids.length,
      options: snap.options,
      ids: snap.ids,
      graphBytes: statSync(tmp).size,
    };
    writeFileSync(parts[2]!, JSON.stringify(meta));
    renameSync(tmp, file);
    renameSync(parts[1]!, `${file}.f32`);
    renameSync(parts[2]!, `${file}.json`);
    return { ...snap, file };
  } catch {
    for (const p of parts) rmSync(p, { force: true });
    return undefined;
  }
}

/** The graph saved at `file` for d-dimensional rows, or undefined (absent, torn, another version or width). */
export function readAnnSnapshot(file: string, d: number): AnnSnapshot | undefined {
  try {
    if (!existsSync(`${file}.json`)) return undefined;
    const meta = JSON.parse(readFileSync(`${file}.json`, 'utf8')) as Meta;
    if (meta.version !== VERSION || meta.d !== d || meta.ids.length !== meta.keys) return undefined;
    if (statSync(file).size !== meta.graphBytes) return undefined;
    const buf = readFileSync(`${file}.f32`);
    const floats = meta.dims * d + meta.keys * meta.dims;
    if (buf.byteLength !== 4 * (floats + meta.rows)) return undefined;
    const all = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + 4 * floats));
    const rowKeys = new Int32Array(buf.buffer.slice(buf.byteOffset + 4 * floats, buf.byteOffset + buf.byteLength));
    return {
      file,
      rows: meta.rows,
      rowKeys,
      dims: meta.dims,
      basis: all.subarray(0, meta.dims * d),
      options: meta.options,
      ids: meta.ids,
      reduced: all.subarray(meta.dims * d),
    };
  } catch {
    return undefined;
  }
}
