/**
 * JPEG decoding in WebAssembly: libjpeg-turbo 3.2.0's decompressor with simd128 kernels (native/jpeg-wasm, built by
 * scripts/build-jpeg-wasm.mjs into jpeg-wasm.generated.ts). For the JPEGs it takes (8-bit YCbCr, RGB or grayscale,
 * sequential or progressive, Huffman or arithmetic coded, no EXIF rotation) it gives the pixels libvips and Pillow
 * give, byte for byte, at about half the CPU of a libvips pipeline: no pipeline set-up, no worker threads, no
 * hand-overs. decode.ts tries it first for such JPEGs and falls back to libvips for everything else, and for any
 * file on which libjpeg warns or fails (truncated, corrupt): libvips then reports those as it always did.
 *
 * IMAGE_CLASSIFIER_JPEG_DECODER=libvips turns it off (every JPEG then takes libvips, as before it existed).
 */
import { JPEG_WASM_BASE64 } from './jpeg-wasm.generated.js';
import type { DecodedImage } from './decode.js';
import { type DecodePlan, type JpegFrame, jpegOrientation } from './jpeg-frame.js';
import type { RgbImage } from './resize.js';

/** The part of the WebAssembly JS API used here (this project's TypeScript libs do not declare it). */
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
  RuntimeError: new () => Error;
}
declare const WebAssembly: WasmApi | undefined;

interface JpegExports {
  kernel_calls(out: number): void;
  memory: { readonly buffer: ArrayBuffer };
  _initialize(): void;
  alloc(n: number): number;
  release(p: number): void;
  decode(data: number, len: number, size: number): number;
}

/** Larger images take libvips (their decode is long enough that its set-up does not count; their memory is freed). */
export const WASM_JPEG_MAX_PIXELS = 40_000_000;
/** An instance whose memory grew past this is dropped after the decode, so a large image's memory goes back. */
const KEEP_MEMORY_BYTES = 64 * 1024 * 1024;

/** SOF0, SOF1, SOF2 (Huffman: baseline, extended, progressive), SOF9, SOF10 (arithmetic): what libvips decodes too. */
const DECODED_FRAMES = new Set([0xc0, 0xc1, 0xc2, 0xc9, 0xca]);

class JpegFail extends Error {}

/** The compiled module; null where this runtime has no WebAssembly with SIMD. */
let compiled: object | null | undefined;
let live: { ex: JpegExports; input: number; inputSize: number; size: number } | undefined;
const counts = { wasm: 0, declined: 0, failed: 0 };

/**
 * JPEGs this process decoded here, declined (a colour space or precision it leaves to libvips, incomplete
 * coefficients, values past the IDCTs' common range) and handed back after a libjpeg warning or error.
 */
export function jpegWasmCounts(): Readonly<typeof counts> {
  return { ...counts };
}

/** Calls of the simd128 kernels in the current instance: IDCT, YCbCr→RGB, h2v2 and h2v1 upsampling (tests). */
export function jpegWasmKernelCalls(): { idct: number; color: number; h2v2: number; h2v1: number } {
  if (!live) return { idct: 0, color: 0, h2v2: 0, h2v1: 0 };
  live.ex.kernel_calls(live.size);
  const [idct, color, h2v2, h2v1] = new Uint32Array(live.ex.memory.buffer, live.size, 4) as unknown as number[];
  return { idct: idct!, color: color!, h2v2: h2v2!, h2v1: h2v1! };
}

/** The bytes of WebAssembly memory the decoder holds now (0 when it has no instance). */
export function jpegWasmMemoryBytes(): number {
  return live ? live.ex.memory.buffer.byteLength : 0;
}

/** Whether JPEGs are decoded here: not turned off, and this runtime compiles the module (compiled on first call). */
export function jpegWasmEnabled(): boolean {
  if (process.env.IMAGE_CLASSIFIER_JPEG_DECODER === 'libvips') return false;
  if (compiled === undefined) {
    const bytes = Buffer.from(JPEG_WASM_BASE64, 'base64');
    compiled = typeof WebAssembly === 'object' && WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
  }
  return compiled !== null;
}

/** Compiles the module now (a decoder process does it while it waits for its first image). */
export function preloadJpegWasm(): void {
  if (jpegWasmEnabled()) instance();
}

function instance(): NonNullable<typeof live> {
  if (live) return live;
  if (!jpegWasmEnabled() || !compiled || !WebAssembly) throw new JpegFail('no WebAssembly');
  const fail = (code: number, warning: number) => {
    throw new JpegFail(`libjpeg ${warning ? 'warning' : 'error'} ${code}`);
  };
  // wasi-libc's stdio and exit(), linked in by libjpeg's default error handlers, which decoder.c replaces.
  const unused = () => {
    throw new JpegFail('unexpected WASI call');
  };
  const wasi = { fd_close: unused, fd_seek: unused, fd_write: unused, proc_exit: unused };
  const ex = new WebAssembly.Instance(compiled, { env: { jpeg_fail: fail }, wasi_snapshot_preview1: wasi })
    .exports as unknown as JpegExports;
  ex._initialize();
  live = { ex, input: 0, inputSize: 0, size: ex.alloc(16) };
  return live;
}

/**
 * Whether the wasm decoder takes this JPEG (its frame from jpegFrame): 8-bit, 1 or 3 components, a frame type
 * libvips also decodes, at most WASM_JPEG_MAX_PIXELS, and no EXIF orientation other than 1 (libvips rotates those).
 */
export function wasmDecodable(bytes: Uint8Array, frame: JpegFrame): boolean {
  return decodableFrame(frame) && jpegOrientation(bytes) === 1;
}

/** wasmDecodable but the orientation, which the caller has; `enabled` is asked first. */
function decodableFrame(frame: JpegFrame, enabled: () => boolean = jpegWasmEnabled): boolean {
  if (!enabled()) return false;
  if (frame.precision !== 8 || (frame.components !== 1 && frame.components !== 3)) return false;
  return DECODED_FRAMES.has(frame.marker) && frame.width * frame.height <= WASM_JPEG_MAX_PIXELS;
}

/**
 * Decodes a JPEG to 8-bit RGB; undefined where libjpeg declines it (colour space) or warns or fails on it (the
 * caller decodes it with libvips then). `view` returns the pixels in the module's memory instead of a copy: valid
 * only until the next call, for a caller that consumes them at once.
 */
export function decodeJpegWasm(bytes: Uint8Array, view = false): RgbImage | undefined {
  let inst: NonNullable<typeof live>;
  let ptr: number;
  try {
    inst = instance();
    if (bytes.length > inst.inputSize) {
      if (inst.input) inst.ex.release(inst.input);
      inst.input = inst.ex.alloc(bytes.length);
      inst.inputSize = inst.input ? bytes.length : 0;
      if (!inst.input) throw new JpegFail('out of memory');
    }
    new Uint8Array(inst.ex.memory.buffer, inst.input, bytes.length).set(bytes);
    ptr = inst.ex.decode(inst.input, bytes.length, inst.size);
  } catch (e) {
    // After a throw inside the module its stack and heap are in an unknown state: start a fresh instance next time.
    live = undefined;
    counts.failed++;
    if (e instanceof JpegFail || (WebAssembly && e instanceof WebAssembly.RuntimeError) || e instanceof RangeError) return undefined;
    throw e;
  }
  const big = inst.ex.memory.buffer.byteLength > KEEP_MEMORY_BYTES;
  if (big) live = undefined;
  if (!ptr) {
    counts.declined++;
    return undefined;
  }
  const [width, height] = new Uint32Array(inst.ex.memory.buffer, inst.size, 2) as unknown as [number, number];
  const pixels = new Uint8Array(inst.ex.memory.buffer, ptr, width * height * 3);
  counts.wasm++;
  return { data: view && !big ? pixels : pixels.slice(), width, height };
}

/**
 * Whether this decoder takes a plain JPEG's plan (decode.ts): wasmDecodable, from the one header walk. `compile`
 * false: without compiling the module here (a decoder thread compiles its own; where it cannot, it declines).
 */
export function wasmTakes(plan: DecodePlan, compile = true): plan is DecodePlan & { frame: JpegFrame } {
  const enabled = compile ? jpegWasmEnabled : jpegWasmAllowed;
  return plan.frame !== undefined && plan.orientation === 1 && decodableFrame(plan.frame, enabled);
}

/** jpegWasmEnabled without compiling the module: not turned off, and this runtime has WebAssembly. */
function jpegWasmAllowed(): boolean {
  return process.env.IMAGE_CLASSIFIER_JPEG_DECODER !== 'libvips' && typeof WebAssembly === 'object' && compiled !== null;
}

/** The decoded image for a plain JPEG's plan (decode.ts) where this decoder takes it; `view`: see decodeJpegWasm. */
export function decodeJpegNow(plan: DecodePlan, view: boolean): DecodedImage | undefined {
  if (!wasmTakes(plan)) return undefined;
  const img = decodeJpegWasm(plan.input, view);
  if (!img) return undefined;
  return { ...img, format: 'jpeg', storedWidth: plan.storedWidth, storedHeight: plan.storedHeight };
}
