/**
 * The CLI's one progress line on stderr, redrawn in place: the model download and the classify run both draw core's
 * bar (`renderBar`, the one `renderProgressBar` starts with) through it.
 */
import { type DownloadProgress, renderBar, renderProgressBar } from '@image-classifier/core/engine';
import type { Io } from './common.js';

export class ProgressLine {
  private drawn = false;

  constructor(
    private readonly io: Io,
    readonly enabled: boolean,
  ) {}

  draw(text: string): void {
    if (!this.enabled) return;
    this.io.stderr.write(`\r\x1b[K${text}`);
    this.drawn = true;
  }

  /** Clears the line so that other output can be written (it is drawn again afterwards). */
  clear(): void {
    if (this.enabled && this.drawn) this.io.stderr.write('\r\x1b[K');
  }

  end(): void {
    if (this.enabled && this.drawn) this.io.stderr.write('\n');
    this.drawn = false;
  }

  /** `[####......]  45%  12/27  3.4 img/s  0 failed` */
  images(done: number, total: number, failed: number, startedMs: number): void {
    const rate = done / Math.max(1e-3, (performance.now() - startedMs) / 1000);
    const pct = total ? Math.floor((done / total) * 100) : 100;
    this.draw(`${renderBar(pct)}  ${done}/${total}  ${rate.toFixed(1)} img/s  ${failed} failed`);
  }
}

/** A download's onProgress drawing on a progress line (`Downloading <url>` first), or undefined when disabled. */
export function downloadProgress(io: Io, enabled: boolean, what: () => string): ((p: DownloadProgress) => void) | undefined {
  if (!enabled) return undefined;
  const line = new ProgressLine(io, true);
  let first = true;
  return (p) => {
    if (first) io.stderr.write(`Downloading ${what()}\n`);
    first = false;
    line.draw(renderProgressBar(p));
    if (p.percent === 100) line.end();
  };
}
