/** onnxruntime-node, loaded lazily with its telemetry off. */

// onnxruntime-node 1.30 starts a telemetry client on session creation that writes a device id under
// ~/.cache/Microsoft/DeveloperTools and can upload over HTTPS. This product sends nothing anywhere.
process.env.ORT_DISABLE_TELEMETRY = '1';

type Ort = typeof import('onnxruntime-node');
let ortModule: Ort | undefined;
/** Loads onnxruntime-node lazily (after the telemetry switch above is set). */
export function ort(): Ort {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  ortModule ??= require('onnxruntime-node') as Ort;
  return ortModule;
}

/** The first line of an error's message, at most 300 characters. */
export function describeError(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0]!.slice(0, 300);
}
