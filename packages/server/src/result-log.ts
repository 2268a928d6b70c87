/**
 * The result cache's log (see result-cache.ts): encoding, verified decoding, one pass over a log's bytes, the atomic
 * rewrite. One record a line:
 *
 * On disk it is one append-only log, `<cacheDir>/results/results-v1.log`, one record a line:
 *
 *     <crc32 of the JSON, 8 hex digits> <JSON>\n
 *
 * records: `{"t":"h","v":1}` (header, first line), `{"t":"r","k":key,"v":value}` (a result), and
 * `{"t":"f","p":path,"s":size,"m":mtimeMs,"h":contentHash}` (the (path, size, mtime) → hash index that saves rehashing
 * unchanged files), and `{"t":"m","k":modelSignature,"v":{...}}` (what a model file + settings resolved to when it was
 * last loaded, so results can be served from the cache while the model is still loading). Later records win.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { type FileEntry, fileEntryOf, fileRecord } from './file-stamp.js';

export const VERSION = 1;

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (zlib's), from node:zlib where available (Node ≥ 20.15). */
export function crc32(data: Uint8Array | string): number {
  const native = (zlib as unknown as { crc32?: (d: Uint8Array | string) => number }).crc32;
  if (native) return native(data) >>> 0;
  const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  let c = 0xffffffff;
  for (let i = 0; i < buf.length; i++) c = CRC_TABLE[(c ^ buf[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export function encodeLine(record: object): Buffer {
  const json = JSON.stringify(record);
  const body = Buffer.from(json, 'utf8');
  const crc = crc32(body).toString(16).padStart(8, '0');
  return Buffer.concat([Buffer.from(crc + ' ', 'latin1'), body, Buffer.from('\n', 'latin1')]);
}

/** Parses one line (without its newline); undefined when the checksum or JSON is wrong. */
export function decodeLine(line: Buffer): Record<string, unknown> | undefined {
  if (line.length < 10 || line[8] !== 0x20) return undefined;
  const crc = parseInt(line.subarray(0, 8).toString('latin1'), 16);
  const body = line.subarray(9);
  if (!Number.isFinite(crc) || crc32(body) !== crc) return undefined;
  try {
    const v = JSON.parse(body.toString('utf8')) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** An encoded line (with its newline) and, for results, its key. */
export interface Line {
  buf: Buffer;
  key?: string;
}

export type { FileEntry };

export interface CacheStats {
  /** Results and file-index entries in memory. */
  results: number;
  files: number;
  /** Lines dropped at load (bad checksum or JSON), and bytes of torn tail cut off. */
  droppedLines: number;
  truncatedBytes: number;
  compacted: boolean;
  bytes: number;
  loadMs: number;
  /** 'read-only': results served, none saved; 'memory': no usable log, results kept in this process only. */
  mode: 'read-write' | 'read-only' | 'memory';
}

export function newStats(): CacheStats {
  return { results: 0, files: 0, droppedLines: 0, truncatedBytes: 0, compacted: false, bytes: 0, loadMs: 0, mode: 'read-write' };
}

/** What one pass over a log found. */
export interface ParsedLog {
  headerOk: boolean;
  /** End of the last whole line (a torn tail starts here). */
  goodEnd: number;
  dropped: number;
  records: number;
  results: Map<string, { off: number; len: number }>;
  files: Map<string, FileEntry>;
  models: Map<string, Record<string, unknown>>;
}

/** Reads a log's bytes: later records win, a bad line is dropped, parsing stops at a torn tail or a foreign header. */
export function parseLog(buf: Buffer): ParsedLog {
  const p: ParsedLog = { headerOk: false, goodEnd: 0, dropped: 0, records: 0, results: new Map(), files: new Map(), models: new Map() };
  let pos = 0;
  while (pos < buf.length) {
    const nl = buf.indexOf(0x0a, pos);
    if (nl < 0) break; // a torn last line: cut by the caller
    const rec = decodeLine(buf.subarray(pos, nl));
    if (!p.headerOk) {
      if (rec?.t !== 'h' || rec.v !== VERSION) break; // not our log (or another version): rebuild
      p.headerOk = true;
    } else if (!rec) {
      p.dropped++;
    } else if (rec.t === 'r' && typeof rec.k === 'string') {
      p.results.set(rec.k, { off: pos, len: nl - pos });
      p.records++;
    } else if (rec.t === 'm' && typeof rec.k === 'string' && rec.v && typeof rec.v === 'object') {
      p.models.set(rec.k, rec.v as Record<string, unknown>);
      p.records++;
    } else if (
      rec.t === 'f' &&
      typeof rec.p === 'string' &&
      typeof rec.h === 'string' &&
      typeof rec.s === 'number' &&
      typeof rec.m === 'number'
    ) {
      p.files.set(rec.p, fileEntryOf(rec, rec.s, rec.m, rec.h));
      p.records++;
    } else {
      p.dropped++;
    }
    pos = nl + 1;
    p.goodEnd = pos;
  }
  return p;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes `<fileName>.<pid>.tmp` files left in `dir` by processes that died mid-rewrite. */
export function removeStaleTemps(dir: string, fileName: string): void {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(`${fileName}.`) || !name.endsWith('.tmp')) continue;
    const pid = Number(name.slice(fileName.length + 1, -4));
    if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid || alive(pid)) continue;
    try {
      fs.rmSync(path.join(dir, name), { force: true });
    } catch {
      // not ours to remove (read-only folder): harmless
    }
  }
}

export function errorText(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  return err?.code ? `${err.code}: ${err.message}` : String((e as Error)?.message ?? e);
}

/** The log's bytes; empty when there is none yet. */
export function readLog(file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return Buffer.alloc(0);
    throw e;
  }
}

export function writeAll(fd: number, buf: Buffer, at?: number): void {
  let written = 0;
  while (written < buf.length) {
    written += fs.writeSync(fd, buf, written, buf.length - written, at === undefined ? null : at + written);
  }
}

/** Device + inode of an open log (fd) or of the file at a path now: a log renamed over another has another. */
export function identityOf(fdOrPath: number | string): string | undefined {
  try {
    const st = typeof fdOrPath === 'number' ? fs.fstatSync(fdOrPath) : fs.statSync(fdOrPath);
    return `${st.dev}:${st.ino}`;
  } catch {
    return undefined;
  }
}

export function closeQuietly(fd: number): void {
  if (fd < 0) return;
  try {
    fs.closeSync(fd);
  } catch {
    // already closed
  }
}

/**
 * Writes a header and `lines` to a temp file beside `file`, fsyncs it and renames it over `file`; returns where each
 * result landed. Throws on failure, with the temp file removed.
 */
export function writeLog(file: string, lines: Line[]): { offsets: Map<string, { off: number; len: number }>; size: number } {
  const tmp = `${file}.${process.pid}.tmp`;
  const offsets = new Map<string, { off: number; len: number }>();
  let fd = -1;
  try {
    fd = fs.openSync(tmp, 'w');
    const chunk: Buffer[] = [encodeLine({ t: 'h', v: VERSION })];
    let off = chunk[0]!.length;
    let chunkBytes = off;
    for (const { buf: line, key } of lines) {
      if (key !== undefined) offsets.set(key, { off, len: line.length - 1 });
      chunk.push(line);
      chunkBytes += line.length;
      off += line.length;
      if (chunkBytes > 1 << 20) {
        writeAll(fd, Buffer.concat(chunk.splice(0)));
        chunkBytes = 0;
      }
    }
    writeAll(fd, Buffer.concat(chunk));
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = -1;
    fs.renameSync(tmp, file);
    return { offsets, size: off };
  } catch (e) {
    if (fd >= 0) fs.closeSync(fd);
    try {
      fs.rmSync(tmp, { force: true });
    } catch {
      // it could not be created either
    }
    throw e;
  }
}

/** The live records (models, file index, results read from `old`, the log's bytes) as lines for a rewrite. */
export function liveLines(
  old: Buffer,
  models: Map<string, Record<string, unknown>>,
  files: Map<string, FileEntry>,
  results: Map<string, { off: number; len: number }>,
): Line[] {
  const lines: Line[] = [];
  for (const [k, v] of models) lines.push({ buf: encodeLine({ t: 'm', k, v }) });
  for (const [p, f] of files) lines.push({ buf: encodeLine(fileRecord(p, f)) });
  for (const [key, { off, len }] of results) lines.push({ buf: Buffer.concat([old.subarray(off, off + len), Buffer.from('\n')]), key });
  return lines;
}
