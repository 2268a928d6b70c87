/**
 * The persistent result cache: classifications keyed by (image content hash, model + preprocessing + labels), so a
 * restarted editor does not classify the same images again, and a changed file is classified anew.
 *
 * On disk it is one append-only log, `<cacheDir>/results/results-v1.log` (its format: result-log.ts).
 *
 * - Loading reads the log once; a line whose checksum or JSON is wrong is dropped (never a wrong answer), a torn
 *   last line (the process was killed mid-write) is cut off, and a log with dropped lines is compacted: the live
 *   records are written to a temp file, fsynced and renamed over the log.
 * - Memory holds only keys and file offsets; a hit reads its line back (one pread, verified again), so tens of
 *   thousands of entries (and, later, larger values such as embeddings) cost little RAM.
 * - Appends are buffered for a few milliseconds and written with one write(2); sync file calls on purpose: they
 *   take microseconds and do not queue behind image decoding in libuv's thread pool.
 * - Two servers sharing a cache directory append to the same file; a record read back is verified (checksum and
 *   key), so a stale offset is a miss, not a wrong answer. A log replaced under a server (another server's
 *   clearCache or compaction renames a new file over it) is noticed by its identity (device + inode, checked at
 *   most every 100 ms before a lookup or a write) and read again, so cleared results are not served and new ones
 *   go to the live file.
 * - The cache degrades, never breaks: a read-only log serves its results and writes none; a failed write (a full
 *   disk) keeps results in memory and tries the disk again later; a log that cannot be opened at all (its path is a
 *   folder, its folder cannot be created) leaves a memory-only cache. Temp files are removed on failure, and those
 *   of dead processes at open.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  type CacheStats,
  decodeLine,
  encodeLine,
  errorText,
  closeQuietly,
  identityOf,
  liveLines,
  newStats,
  type Line,
  type ParsedLog,
  parseLog,
  readLog,
  removeStaleTemps,
  VERSION,
  writeAll,
  writeLog,
} from './result-log.js';

import { type FileEntry, type FileStamp, fileRecord, sameStamp } from './file-stamp.js';

export { type CacheStats, crc32 } from './result-log.js';

const FILE_NAME = 'results-v1.log';
const FLUSH_DELAY_MS = 20;
const FLUSH_BYTES = 256 * 1024;
/** How often (at most) the log's identity is checked: another server's clearCache or compaction replaces it. */
const IDENTITY_CHECK_MS = 100;
/** After a failed write (a full disk), writes are tried again after this long; answers go on meanwhile. */
const WRITE_RETRY_MS = 10_000;
/** Results kept in memory only (unwritable cache) at most; the oldest are forgotten first. */
const MAX_MEMORY_ONLY = 10_000;

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
  readonly stats: CacheStats = newStats();
  /** The log is open for writing (not read-only, not memory-only). */
  private writable = false;
  /** Device + inode of the open log, to notice another server replacing it. */
  private identity: string | undefined;
  private lastIdentityCheck = 0;
  private writeBlockedUntil = 0;

  private constructor(
    readonly dir: string,
    private readonly log: (msg: string) => void,
    fileName: string,
  ) {
    this.file = path.join(dir, fileName);
    this.fd = -1;
  }

  /**
   * Opens (creating, repairing or rebuilding) the cache in `dir`. Never throws: a corrupt log is repaired, an
   * unwritable one is used read-only, one that cannot be opened leaves a memory-only cache (logged). `fileName`
   * names another log of the same format beside it (the server keeps embeddings apart from the results: they are
   * 30× larger and only loaded when asked for).
   */
  static open<V>(dir: string, log: (msg: string) => void = () => {}, fileName = FILE_NAME): ResultCache<V> {
    const c = new ResultCache<V>(dir, log, fileName);
    c.load();
    return c;
  }

  private load(): void {
    const t0 = performance.now();
    this.closeFd();
    this.results.clear();
    this.files.clear();
    this.models.clear();
    let buf: Buffer;
    try {
      fs.mkdirSync(this.dir, { recursive: true });
      removeStaleTemps(this.dir, path.basename(this.file));
      buf = readLog(this.file);
    } catch (e) {
      this.memoryOnly(`cannot read ${this.file} (${errorText(e)})`);
      return;
    }
    const parsed = parseLog(buf);
    for (const [k, v] of parsed.files) this.files.set(k, v);
    for (const [k, v] of parsed.models) this.models.set(k, v);
    for (const [k, v] of parsed.results) this.results.set(k, v);
    this.stats.droppedLines = parsed.dropped;
    if (!parsed.headerOk) {
      if (buf.length > 0) this.log(`result cache ${this.file} is not a version-${VERSION} log; starting a new one`);
      this.results.clear();
      this.files.clear();
      this.models.clear();
      if (!this.rewrite([])) this.memoryOnly(`cannot write ${this.file}`);
    } else {
      this.openParsed(buf, parsed);
    }
    this.stats.loadMs = Math.round(performance.now() - t0);
    this.updateStats();
  }

  /** Opens a log that parsed: compacted when it has dropped lines or mostly dead records, else appended to. */
  private openParsed(buf: Buffer, parsed: ParsedLog): void {
    const { goodEnd, dropped, records } = parsed;
    if (goodEnd < buf.length) {
      this.stats.truncatedBytes = buf.length - goodEnd;
      this.log(`result cache: cut ${buf.length - goodEnd} bytes of a torn last record`);
    }
    const live = this.results.size + this.files.size + this.models.size;
    if (dropped > 0 || records > 2 * live + 1000) {
      if (dropped > 0) this.log(`result cache: dropped ${dropped} corrupt record(s); compacting`);
      if (this.compact(buf)) return;
    }
    try {
      this.fd = fs.openSync(this.file, 'r+');
      if (goodEnd < buf.length) fs.ftruncateSync(this.fd, goodEnd);
      this.writable = true;
      this.size = goodEnd;
    } catch (e) {
      this.closeFd();
      try {
        // Read-only (a read-only mount, a folder shared read-only): serve what is there, write nothing.
        this.fd = fs.openSync(this.file, 'r');
        this.size = buf.length;
        this.stats.mode = 'read-only';
        this.log(`result cache ${this.file} is read-only (${errorText(e)}): serving its ${this.results.size} results, saving none`);
      } catch (e2) {
        this.memoryOnly(`cannot open ${this.file} (${errorText(e2)})`);
        return;
      }
    }
    this.identity = identityOf(this.fd);
  }

  /** No usable log: results live in this process's memory only. */
  private memoryOnly(why: string): void {
    this.closeFd();
    this.results.clear();
    this.stats.mode = 'memory';
    this.log(`result cache: ${why}; keeping results in memory only`);
    this.updateStats();
  }

  private closeFd(): void {
    closeQuietly(this.fd);
    this.fd = -1;
    this.writable = false;
    this.identity = undefined;
    this.stats.mode = 'read-write';
  }

  /** Writes the live records of `old` (the log's bytes) to a new log, atomically. False when it cannot be written. */
  private compact(old: Buffer): boolean {
    const ok = this.rewrite(liveLines(old, this.models, this.files, this.results));
    this.stats.compacted = ok;
    return ok;
  }

  /**
   * Replaces the log with `lines` after a header (temp file, fsync, rename); the offsets follow. On failure the temp
   * file is removed, nothing in memory changes, and false is returned (logged).
   */
  private rewrite(lines: Line[]): boolean {
    let written: { offsets: Map<string, { off: number; len: number }>; size: number };
    try {
      written = writeLog(this.file, lines);
    } catch (e) {
      this.log(`result cache: cannot rewrite ${this.file} (${errorText(e)})`);
      return false;
    }
    this.closeFd();
    this.results.clear();
    for (const [k, v] of written.offsets) this.results.set(k, v);
    this.size = written.size;
    try {
      this.fd = fs.openSync(this.file, 'r+');
      this.writable = true;
      this.identity = identityOf(this.fd);
    } catch (e) {
      this.memoryOnly(`cannot open ${this.file} (${errorText(e)})`);
    }
    return true;
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
    this.checkIdentity();
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

  /**
   * Another server's clearCache or compaction renamed a new log over ours: read the new one (what we hold is
   * cleared or at stale offsets). At most every IDENTITY_CHECK_MS; one fstat-free stat(2).
   */
  private checkIdentity(): void {
    if (this.identity === undefined || this.closed) return;
    const now = performance.now();
    if (now - this.lastIdentityCheck < IDENTITY_CHECK_MS) return;
    this.lastIdentityCheck = now;
    if (identityOf(this.file) === this.identity) return;
    this.log(`result cache: ${this.file} was replaced (cleared or compacted by another server); reading it again`);
    // Results computed meanwhile stay pending and go to the new log.
    this.load();
  }

  /** Writes buffered records now (sync). A failed write keeps the results in memory and retries later. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0) return;
    this.checkIdentity();
    if (!this.writable || performance.now() < this.writeBlockedUntil) {
      this.keepInMemory();
      return;
    }
    const lines = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    let off = 0;
    try {
      // Appending at the real end of the file keeps offsets right even if another server appended meanwhile.
      off = fs.fstatSync(this.fd).size;
      writeAll(this.fd, Buffer.concat(lines.map((l) => l.buf)), off);
    } catch (e) {
      // A full disk or a failing one: cut what was half written, answer from memory, try the disk again later.
      try {
        fs.ftruncateSync(this.fd, off);
      } catch {
        // the tail stays torn: its checksum drops it at the next load
      }
      if (this.writeBlockedUntil === 0) this.log(`result cache: write failed (${errorText(e)}); keeping results in memory`);
      this.writeBlockedUntil = performance.now() + WRITE_RETRY_MS;
      this.keepInMemory();
      return;
    }
    if (this.writeBlockedUntil !== 0) this.log('result cache: writing again');
    this.writeBlockedUntil = 0;
    for (const { buf: line, key } of lines) {
      if (key !== undefined) {
        this.results.set(key, { off, len: line.length - 1 });
        this.pendingValues.delete(key);
      }
      off += line.length;
    }
    this.size = off;
    this.updateStats();
  }

  /** Unwritten results stay answerable from memory (the oldest forgotten beyond MAX_MEMORY_ONLY). */
  private keepInMemory(): void {
    this.pending = [];
    this.pendingBytes = 0;
    for (const k of this.pendingValues.keys()) {
      if (this.pendingValues.size <= MAX_MEMORY_ONLY) break;
      this.pendingValues.delete(k);
    }
  }

  /** Forgets every result (the file index too), here and for servers sharing the log. Returns how many there were. */
  clear(): number {
    this.pending = [];
    this.pendingBytes = 0;
    // Counted over the log on disk too: other servers sharing it may have added results this one never read.
    const n = new Set([...this.results.keys(), ...this.pendingValues.keys(), ...this.keysOnDisk()]).size;
    this.pendingValues.clear();
    this.results.clear();
    this.files.clear();
    this.models.clear();
    if (this.stats.mode !== 'memory' && !this.rewrite([])) {
      this.memoryOnly(`cannot clear ${this.file}`);
    }
    this.updateStats();
    return n;
  }

  private keysOnDisk(): Iterable<string> {
    if (this.stats.mode === 'memory') return [];
    try {
      return parseLog(readLog(this.file)).results.keys();
    } catch {
      return [];
    }
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
    this.closeFd();
  }
}
