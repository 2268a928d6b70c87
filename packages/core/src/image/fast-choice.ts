/**
 * `fast` chooses between its libvips plan and the exact path by what each has cost here. Where both stay within
 * `fast`'s bounds (libvips alone below a 3× reduction, libvips then Pillow's filter from 6×), the cheaper one is
 * not a matter of the ratio alone: on a 500×375 JPEG libvips' full decode + resize is not cheaper than the exact
 * path's decode + fixed-point resize, while on a 4000×3000 one its shrink-on-load is 3× cheaper. So per class of
 * image (format, plan, pixel count to a power of two) the CPU time of each path is measured: each is tried a few
 * times, then the cheaper median is taken, and the other is tried again now and then in case the machine changed.
 *
 * CPU time, not wall time: what `fast` saves is cores, which inference needs beside it. A sample counts only when
 * no other preprocessing ran in this process meanwhile (process CPU time would include it).
 */

export type FastPath = 'planned' | 'exact';

/** Samples of each path before the choice follows the cheaper. */
const TRIALS = 3;
/** After the trials, every REPROBE-th image of a class takes the other path (one sample). */
const REPROBE = 32;
/** Samples kept per path and class (the median of the latest). */
const KEEP = 9;

interface ClassStats {
  planned: number[];
  exact: number[];
  picks: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

export class FastChooser {
  private readonly classes = new Map<string, ClassStats>();
  /** Preprocessings running in this process, and a counter of those started (to tell whether one overlapped). */
  private running = 0;
  private started = 0;

  /** The class of an image: format, plan and pixel count (to a power of two). */
  static key(format: string, plan: string, width: number, height: number): string {
    return `${format}:${plan}:${Math.round(Math.log2(Math.max(1, width * height)))}`;
  }

  /** Which path the next image of class `key` takes. */
  choose(key: string): FastPath {
    let c = this.classes.get(key);
    if (!c) {
      c = { planned: [], exact: [], picks: 0 };
      this.classes.set(key, c);
    }
    c.picks++;
    if (c.planned.length < TRIALS || c.exact.length < TRIALS) return c.planned.length <= c.exact.length ? 'planned' : 'exact';
    const cheaper: FastPath = median(c.planned) <= median(c.exact) ? 'planned' : 'exact';
    if (c.picks % REPROBE === 0) return cheaper === 'planned' ? 'exact' : 'planned';
    return cheaper;
  }

  /** Runs `work` on `path` for class `key`, recording its CPU time when nothing else ran in this process meanwhile. */
  async measure<T>(key: string, path: FastPath, work: () => Promise<T>): Promise<T> {
    const alone = this.running === 0;
    const mark = ++this.started;
    this.running++;
    const cpu0 = process.cpuUsage();
    try {
      const out = await work();
      if (alone && this.started === mark) {
        const d = process.cpuUsage(cpu0);
        this.record(key, path, (d.user + d.system) / 1000);
      }
      return out;
    } finally {
      this.running--;
    }
  }

  record(key: string, path: FastPath, ms: number): void {
    const c = this.classes.get(key);
    if (!c) return;
    const xs = c[path];
    xs.push(ms);
    if (xs.length > KEEP) xs.shift();
  }

  /** What was measured, per class: median CPU ms of each path (for benchmarks and tests). */
  snapshot(): Record<string, { planned?: number; exact?: number; picks: number }> {
    const out: Record<string, { planned?: number; exact?: number; picks: number }> = {};
    for (const [k, c] of this.classes) {
      out[k] = {
        picks: c.picks,
        ...(c.planned.length ? { planned: median(c.planned) } : {}),
        ...(c.exact.length ? { exact: median(c.exact) } : {}),
      };
    }
    return out;
  }
}

/** The process's chooser (each decoder process has its own measurements). */
export const fastChooser = new FastChooser();
