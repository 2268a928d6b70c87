/**
 * Activation timing: how long loading the bundle and activate() took, in wall-clock and main-thread CPU time. The
 * bundle's own part comes from the marks esbuild.mjs puts in its banner and footer; activate() measures itself with
 * an ActivationTiming made on its first line and finished on its last. The in-host tests read these numbers.
 */
import type * as vscode from 'vscode';

declare const __IMAGE_CLASSIFIER_LOAD_START__: number | undefined;
declare const __IMAGE_CLASSIFIER_LOAD_END__: number | undefined;
declare const __IMAGE_CLASSIFIER_LOAD_CPU__: NodeJS.CpuUsage | undefined;
declare const __IMAGE_CLASSIFIER_VSCODE_API_MS__: number | undefined;

/** How long evaluating the bundle took (VS Code's "code loading time"), from the marks esbuild.mjs adds. */
function codeLoadingTimeMs(): number {
  return typeof __IMAGE_CLASSIFIER_LOAD_START__ === 'number' && typeof __IMAGE_CLASSIFIER_LOAD_END__ === 'number'
    ? __IMAGE_CLASSIFIER_LOAD_END__ - __IMAGE_CLASSIFIER_LOAD_START__
    : 0;
}

type ThreadCpu = (prev?: NodeJS.CpuUsage) => NodeJS.CpuUsage;
const threadCpuUsage: ThreadCpu | undefined = (process as unknown as { threadCpuUsage?: ThreadCpu }).threadCpuUsage?.bind(process);

export interface ActivationTimes {
  /** activate()'s own duration, ms. */
  readonly activationTimeMs: number;
  /** Of codeLoadingTimeMs: the editor creating this extension's `vscode` API object (first require('vscode')). */
  readonly vscodeApiMs: number;
  /** Evaluating the bundle (require of dist/extension.js), ms. */
  readonly codeLoadingTimeMs: number;
  /** activate()'s own main-thread CPU time, ms (0 where Node lacks process.threadCpuUsage). */
  readonly activationCpuMs: number;
  /** codeLoadingTimeMs + activationTimeMs (wall clock): what the 50 ms budget is about. */
  readonly loadAndActivationTimeMs: number;
  /**
   * CPU time (user + system) of the extension host's main thread from the bundle's first line to the end of
   * activate(): the work itself, without the time the thread was preempted. 0 where Node lacks
   * process.threadCpuUsage (Node < 23.9).
   */
  readonly loadAndActivationCpuMs: number;
}

/** Made on activate()'s first line; finish() on its last. */
export class ActivationTiming {
  private readonly t0 = performance.now();
  private readonly cpu0 = threadCpuUsage?.();
  /** activate()'s own duration, ms: 0 until finish(). */
  activationTimeMs = 0;

  /** Ends the measurement, logs it to the output channel and returns it. */
  finish(output: vscode.LogOutputChannel): ActivationTimes {
    const t1 = performance.now();
    const activationTimeMs = t1 - this.t0;
    this.activationTimeMs = activationTimeMs;
    const codeLoading = codeLoadingTimeMs();
    const loadAndActivationTimeMs = codeLoading + activationTimeMs;
    // Main-thread CPU of the two synchronous windows (the footer stored the bundle's own as a difference).
    let cpuMs = 0;
    let activateCpuMs = 0;
    if (threadCpuUsage && this.cpu0 && typeof __IMAGE_CLASSIFIER_LOAD_CPU__ === 'object' && __IMAGE_CLASSIFIER_LOAD_CPU__) {
      const a = threadCpuUsage(this.cpu0);
      activateCpuMs = (a.user + a.system) / 1000;
      cpuMs = activateCpuMs + (__IMAGE_CLASSIFIER_LOAD_CPU__.user + __IMAGE_CLASSIFIER_LOAD_CPU__.system) / 1000;
    }
    const apiMs = typeof __IMAGE_CLASSIFIER_VSCODE_API_MS__ === 'number' ? __IMAGE_CLASSIFIER_VSCODE_API_MS__ : 0;
    output.info(
      `Activated in ${activationTimeMs.toFixed(1)} ms; loading the bundle took ${codeLoading.toFixed(1)} ms ` +
        `(of which the editor creating the vscode API object ${apiMs.toFixed(1)} ms) ` +
        `(total ${loadAndActivationTimeMs.toFixed(1)} ms wall clock, ${cpuMs.toFixed(1)} ms main-thread CPU).`,
    );
    return {
      activationTimeMs,
      vscodeApiMs: apiMs,
      codeLoadingTimeMs: codeLoading,
      activationCpuMs: activateCpuMs,
      loadAndActivationTimeMs,
      loadAndActivationCpuMs: cpuMs,
    };
  }
}
