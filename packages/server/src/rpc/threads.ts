/**
 * Thread priorities (Linux): the JSON-RPC loop must get a core the moment a request arrives, even while inference
 * keeps every core busy, so the threads started for the work run at a lower priority.
 */
import { readdirSync } from 'node:fs';
import * as os from 'node:os';
import { environment } from '../environment.js';

function threadIds(): Set<number> {
  try {
    return new Set(readdirSync('/proc/self/task').map(Number).filter(Number.isInteger));
  } catch {
    return new Set();
  }
}

/**
 * The threads that exist when this module loads: the main thread and V8's platform workers, which run the garbage
 * collector's parallel phases. The main thread waits for those, so they keep the main thread's priority.
 */
const STARTUP_THREADS = process.platform === 'linux' ? threadIds() : new Set<number>();

/**
 * Linux: lowers the scheduling priority of the threads started for the work (the inference worker and ONNX
 * Runtime's pool, libuv's pool and libvips' threads where images decode), so the JSON-RPC loop, and the GC helpers
 * it waits on, get a core the moment a request arrives even while inference keeps both cores busy. Elsewhere: nothing.
 */
export function deprioritizeHelperThreads(nice: number): number {
  if (process.platform !== 'linux' || nice <= 0) return 0;
  let n = 0;
  try {
    for (const tid of threadIds()) {
      if (tid === process.pid || STARTUP_THREADS.has(tid)) continue;
      try {
        if (os.getPriority(tid) < nice) os.setPriority(tid, nice);
        n++;
      } catch {
        // the thread ended meanwhile
      }
    }
  } catch {
    // no /proc
  }
  return n;
}

let lastTune = 0;

/** Lowers the helper threads' priority now (`force`) or at most once a second (decoder threads start on first use). */
export function tuneHelperThreads(force = false): void {
  if (!force && performance.now() - lastTune <= 1000) return;
  lastTune = performance.now();
  deprioritizeHelperThreads(environment.helperNice());
}
