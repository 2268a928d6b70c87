/** Download progress: the reports `downloadModel` makes (throttled) and the terminal line the CLI draws from them. */

export interface DownloadProgress {
  receivedBytes: number;
  /** Content-Length, else the expected size, else unknown until the end (the final report always has it). */
  totalBytes?: number;
  /** 0..100; present when totalBytes is known. Exactly 100 only in the final report. */
  percent?: number;
  /** Average transfer rate since the response started, bytes per second. */
  bytesPerSecond?: number;
  elapsedMs?: number;
}

function formatMB(bytes: number): string {
  return (bytes / 1e6).toFixed(1);
}

/**
 * The bar and percent every progress line starts with: `[#########.........]  45%` (`width` = inner width).
 * The CLI's download and classify lines both draw it.
 */
export function renderBar(percent: number, width = 30): string {
  const w = Math.max(1, Math.floor(width));
  const clamped = Math.min(100, Math.max(0, percent));
  const filled = Math.min(w, Math.floor((clamped / 100) * w));
  return `[${'#'.repeat(filled)}${'.'.repeat(w - filled)}] ${`${Math.floor(clamped)}%`.padStart(4)}`;
}

/**
 * One terminal line: `[#########.........]  45%  46.2/102.6 MB  12.3 MB/s` (MB = 10^6 bytes).
 * Without a known total: `[..................]    ?  46.2 MB  12.3 MB/s`. `width` is the bar's inner width.
 */
export function renderProgressBar(p: DownloadProgress, width = 30): string {
  const w = Math.max(1, Math.floor(width));
  const total = p.totalBytes !== undefined && p.totalBytes > 0 ? p.totalBytes : undefined;
  let percent = p.percent;
  if (percent === undefined && total !== undefined) percent = (p.receivedBytes / total) * 100;
  if (percent === undefined && total === undefined && p.totalBytes === 0) percent = 100;
  let line: string;
  if (percent !== undefined && Number.isFinite(percent)) {
    const sizes = total !== undefined ? `${formatMB(p.receivedBytes)}/${formatMB(total)} MB` : `${formatMB(p.receivedBytes)} MB`;
    line = `${renderBar(percent, w)}  ${sizes}`;
  } else {
    line = `[${'.'.repeat(w)}]    ?  ${formatMB(p.receivedBytes)} MB`;
  }
  if (p.bytesPerSecond !== undefined && Number.isFinite(p.bytesPerSecond) && p.bytesPerSecond >= 0) {
    line += `  ${formatMB(p.bytesPerSecond)} MB/s`;
  }
  return line;
}

/**
 * Calls `onProgress` at most once per `intervalMs` (the first call always goes through), plus one final report
 * whose total is the byte count and whose percent is exactly 100. A throwing callback does not break the download.
 */
export class ProgressReporter {
  private readonly started = performance.now();
  private lastEmit = -Infinity;

  constructor(
    private readonly onProgress: ((p: DownloadProgress) => void) | undefined,
    private readonly intervalMs: number,
    /** Content-Length, else the expected size. */
    private readonly total: number | undefined,
  ) {}

  report(received: number, final = false): void {
    if (!this.onProgress) return;
    const now = performance.now();
    if (!final && now - this.lastEmit < this.intervalMs) return;
    this.lastEmit = now;
    const elapsedMs = now - this.started;
    const totalBytes = final ? received : this.total;
    const p: DownloadProgress = { receivedBytes: received, elapsedMs };
    if (totalBytes !== undefined) {
      p.totalBytes = totalBytes;
      p.percent = final ? 100 : totalBytes > 0 ? Math.min(99.9, (received / totalBytes) * 100) : 0;
    }
    if (elapsedMs > 0) p.bytesPerSecond = (received / elapsedMs) * 1000;
    try {
      this.onProgress(p);
    } catch {
      /* a faulty progress callback must not break the download */
    }
  }
}
