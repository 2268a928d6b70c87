/**
 * The persistent result cache: classifications keyed by (image content hash, model + preprocessing + labels), so a
 * restarted editor does not classify the same images again, and a changed file is classified anew.
 *
 * On disk it is one append-only log, `<cacheDir>/results/results-v1.log`, one record a line:
 *
 *     <crc32 of the JSON, 8 hex digits> <JSON>\n
 *
 * records: `{"t":"h","v":1}` (header, first line), `{"t":"r","k":key,"v":value}` (a result), and
 * `{"t":"f","p":path,"s":size,"m":mtimeMs,"h":contentHash}` (the (path, size, mtime) → hash index that saves rehashing
 * unchanged files), and `{"t":"m","k":modelSignature,"v":{...}}` (what a model file + settings resolved to when it was
 * last loaded, so results can be served from the cache while the model is still loading). Later records win.
 *
 * - Loading reads the log once; a line whose checksum or JSON is wrong is dropped (never a wrong answer), a torn
 *   last line (the process was killed mid-write) is cut off, and a log with dropped lines is compacted: the live
 *   records are written to a temp file, fsynced and renamed over the log.
 * - Memory holds only keys and file offsets; a hit reads its line back (one pread, verified again), so tens of
 *   thousands of entries (and, later, larger values such as embeddings) cost little RAM.
 * - Appends are buffered for a few milliseconds and written with one write(2); sync file calls on purpose: they
 *   take microseconds and do not queue behind image decoding in libuv's thread pool.
 * - Two servers sharing a cache directory append to the same file; a record read back is verified (checksum and
 *   key), so a stale offset is a miss, not a wrong answer.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { type FileEntry, type FileStamp, fileEntryOf, fileRecord, sameStamp } from './file-stamp.js';

const FILE_NAME = 'results-v1.log';
const VERSION = 1;
const FLUSH_DELAY_MS = 20;
const FLUSH_BYTES = 256 * 1024;

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

function encodeLine(record: object): Buffer {
  const json = JSON.stringify(record);
  const body = Buffer.from(json, 'utf8');
  const crc = crc32(body).toString(16).padStart(8, '0');
  return Buffer.concat([Buffer.from(crc + ' ', 'latin1'), body, Buffer.from('\n', 'latin1')]);
}

/** Parses one line (without its newline); undefined when the checksum or JSON is wrong. */
function decodeLine(line: Buffer): Record<string, unknown> | undefined {
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
interface Line {
  buf: Buffer;
  key?: string;
}

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
}

export class ResultCache<V = unknown> {
  readonly file: string;
  private fd: number;
  private size = 0;
  /** key → where its line is in the log. */
  private readonly results = new Map<string, { off: number; len: number }>();
  /** Results appended but not yet written. */
  private readonly pendingValues = new Map<string, V>();
  private readonly files = new Map<string, FileEntry>();
  /** Model signature → what a loaded model was (so cached results can be served before the model loads). */
  private readonly models = new Map<string, Record<string, unknown>>();
  private pending: Line[] = [];
  private pendingBytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  readonly stats: CacheStats = { results: 0, files: 0, droppedLines: 0, truncatedBytes: 0, compacted: false, bytes: 0, loadMs: 0 };

  private constructor(
    readonly dir: string,
    private readonly log: (msg: string) => void,
    fileName: string,
  ) {
    this.file = path.join(dir, fileName);
    this.fd = -1;
  }

  /**
   * Opens (creating, repairing or rebuilding) the cache in `dir`. Never throws for a corrupt log. `fileName` names
   * another log of the same format beside it (the server keeps embeddings apart from the results: they are 30×
   * larger and only loaded when asked for).
   */
  static open<V>(dir: string, log: (msg: string) => void = () => {}, fileName = FILE_NAME): ResultCache<V> {
    const c = new ResultCache<V>(dir, log, fileName);
    c.load();
    return c;
  }

  private load(): void {
    const t0 = performance.now();
    fs.mkdirSync(this.dir, { recursive: true });
    let buf: Buffer;
    try {
      buf = fs.readFileSync(this.file);
    } catch {
      buf = Buffer.alloc(0);
    }
    let pos = 0;
    let goodEnd = 0;
    let headerOk = false;
    let dropped = 0;
    let records = 0;
    while (pos < buf.length) {
      const nl = buf.indexOf(0x0a, pos);
      if (nl < 0) break; // a torn last line: cut below
      const rec = decodeLine(buf.subarray(pos, nl));
      if (!headerOk) {
        if (rec?.t !== 'h' || rec.v !== VERSION) break; // not our log (or another version): rebuild
        headerOk = true;
      } else if (!rec) {
        dropped++;
      } else if (rec.t === 'r' && typeof rec.k === 'string') {
        this.results.set(rec.k, { off: pos, len: nl - pos });
        records++;
      } else if (rec.t === 'm' && typeof rec.k === 'string' && rec.v && typeof rec.v === 'object') {
        this.models.set(rec.k, rec.v as Record<string, unknown>);
        records++;
      } else if (
        rec.t === 'f' &&
        typeof rec.p === 'string' &&
        typeof rec.h === 'string' &&
        typeof rec.s === 'number' &&
        typeof rec.m === 'number'
      ) {
        this.files.set(rec.p, fileEntryOf(rec, rec.s, rec.m, rec.h));
        records++;
      } else {
        dropped++;
      }
      pos = nl + 1;
      goodEnd = pos;
    }
    this.stats.droppedLines = dropped;
    if (!headerOk) {
      if (buf.length > 0) this.log(`result cache ${this.file} is not a version-${VERSION} log; starting a new one`);
      this.rewrite([]);
    } else {
      if (goodEnd < buf.length) {
        this.stats.truncatedBytes = buf.length - goodEnd;
        this.log(`result cache: cut ${buf.length - goodEnd} bytes of a torn last record`);
      }
      const live = this.results.size + this.files.size + this.models.size;
      if (dropped > 0 || records > 2 * live + 1000) {
        if (dropped > 0) this.log(`result cache: dropped ${dropped} corrupt record(s); compacting`);
        this.compact(buf);
      } else {
        this.fd = fs.openSync(this.file, 'r+');
        if (goodEnd < buf.length) fs.ftruncateSync(this.fd, goodEnd);
        this.size = goodEnd;
      }
    }
    this.stats.loadMs = Math.round(performance.now() - t0);
    this.updateStats();
  }

  /** Writes the live records of `old` (the log's bytes) to a new log, atomically. */
  private compact(old: Buffer): void {
    const lines: Line[] = [];
    for (const [k, v] of this.models) lines.push({ buf: encodeLine({ t: 'm', k, v }) });
    for (const [p, f] of this.files) lines.push({ buf: encodeLine(fileRecord(p, f)) });
    for (const [key, { off, len }] of this.results)
      lines.push({ buf: Buffer.concat([old.subarray(off, off + len), Buffer.from('\n')]), key });
    this.rewrite(lines);
    this.stats.compacted = true;
  }

  private rewrite(lines: Line[]): void {
    if (this.fd >= 0) fs.closeSync(this.fd);
    const header = encodeLine({ t: 'h', v: VERSION });
    const tmp = `${this.file}.${process.pid}.tmp`;
    const fd = fs.openSync(tmp, 'w');
    let off = 0;
    const write = (b: Buffer) => {
      fs.writeSync(fd, b);
      off += b.length;
    };
    write(header);
    // Rebuild the offsets from what is written.
    this.results.clear();
    const chunk: Buffer[] = [];
    let chunkBytes = 0;
    const flushChunk = () => {
      if (chunk.length) fs.writeSync(fd, Buffer.concat(chunk));
      chunk.length = 0;
      chunkBytes = 0;
    };
    for (const { buf: line, key } of lines) {
      if (key !== undefined) this.results.set(key, { off, len: line.length - 1 });
      chunk.push(line);
      chunkBytes += line.length;
      off += line.length;
      if (chunkBytes > 1 << 20) flushChunk();
    }
    flushChunk();
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fs.renameSync(tmp, this.file);
    this.fd = fs.openSync(this.file, 'r+');
    this.size = off;
  }

  /** The content hash recorded for this file when it had this size, mtime and stamp (ctime, inode, device). */
  hashFor(file: string, size: number, mtimeMs: number, stamp: FileStamp = {}): string | undefined {
    const f = this.files.get(file);
    return f && f.size === size && f.mtimeMs === mtimeMs && sameStamp(f, stamp) ? f.hash : undefined;
  }

  setHash(file: string, size: number, mtimeMs: number, hash: string, stamp: FileStamp = {}): void {
    const f = this.files.get(file);
    if (f && f.size === size && f.mtimeMs === mtimeMs && f.hash === hash && sameStamp(f, stamp)) return;
    const entry = { size, mtimeMs, hash, ctimeMs: stamp.ctimeMs, ino: stamp.ino, dev: stamp.dev };
    this.files.set(file, entry);
    this.append({ buf: encodeLine(fileRecord(file, entry)) });
  }

  /** What was recorded for a model signature (see `setModel`). */
  getModel(signature: string): Record<string, unknown> | undefined {
    return this.models.get(signature);
  }

  setModel(signature: string, value: Record<string, unknown>): void {
    if (JSON.stringify(this.models.get(signature)) === JSON.stringify(value)) return;
    this.models.set(signature, value);
    this.append({ buf: encodeLine({ t: 'm', k: signature, v: value }) });
  }

  get(key: string): V | undefined {
    const p = this.pendingValues.get(key);
    if (p !== undefined) return p;
    const loc = this.results.get(key);
    if (!loc || this.fd < 0) return undefined;
    const buf = Buffer.allocUnsafe(loc.len);
    let n = 0;
    try {
      n = fs.readSync(this.fd, buf, 0, loc.len, loc.off);
    } catch {
      n = 0;
    }
    const rec = n === loc.len ? decodeLine(buf) : undefined;
    if (rec?.t !== 'r' || rec.k !== key) {
      // Another process compacted or appended under us, or the disk changed: a miss, never a wrong answer.
      this.results.delete(key);
      return undefined;
    }
    return rec.v as V;
  }

  put(key: string, value: V): void {
    if (this.closed) return;
    this.pendingValues.set(key, value);
    this.append({ buf: encodeLine({ t: 'r', k: key, v: value }), key });
  }

  private append(line: Line): void {
    if (this.closed) return;
    this.pending.push(line);
    this.pendingBytes += line.buf.length;
    if (this.pendingBytes >= FLUSH_BYTES) this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), FLUSH_DELAY_MS);
      this.timer.unref();
    }
  }

  /** Writes buffered records now (sync). */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0 || this.fd < 0) return;
    const lines = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    try {
      // Appending at the real end of the file keeps offsets right even if another server appended meanwhile.
      let off = fs.fstatSync(this.fd).size;
      const buf = Buffer.concat(lines.map((l) => l.buf));
      let written = 0;
      while (written < buf.length) written += fs.writeSync(this.fd, buf, written, buf.length - written, off + written);
      for (const { buf: line, key } of lines) {
        if (key !== undefined) {
          this.results.set(key, { off, len: line.length - 1 });
          this.pendingValues.delete(key);
        }
        off += line.length;
      }
      this.size = off;
    } catch (e) {
      this.log(`result cache: write failed (${(e as Error).message}); results stay in memory only`);
    }
    this.updateStats();
  }

  /** Forgets every result (the file index too). Returns how many results there were. */
  clear(): number {
    this.pending = [];
    this.pendingBytes = 0;
    const n = new Set([...this.results.keys(), ...this.pendingValues.keys()]).size;
    this.pendingValues.clear();
    this.files.clear();
    this.models.clear();
    this.rewrite([]);
    this.updateStats();
    return n;
  }

  get entries(): number {
    return this.results.size + this.pendingValues.size;
  }

  private updateStats(): void {
    this.stats.results = this.results.size;
    this.stats.files = this.files.size;
    this.stats.bytes = this.size;
  }

  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
  }
}
