/**
 * A JPEG's frame header read in JavaScript, without libvips: decode.ts takes a plain JPEG's size from it instead of
 * a separate libvips header pipeline.
 */

/** The frame header of a JPEG: its size and colour components (SOFn), found before its first scan (SOS). */
export interface JpegFrame {
  /** The SOFn marker's second byte (0xC0 baseline, 0xC2 progressive…). */
  marker: number;
  width: number;
  height: number;
  components: number;
  precision: number;
}

const EXIF_HEADER = [0x45, 0x78, 0x69, 0x66, 0, 0]; // "Exif\0\0"
const ORIENTATION_TAG = 0x0112;
const EXIF_IFD_TAG = 0x8769;

/** What a JPEG's header says before its first scan: the frame (SOFn) and the EXIF orientation (jpegOrientation). */
interface JpegHeader {
  frame: JpegFrame | undefined;
  orientation: number | undefined;
}

/**
 * Walks a JPEG's marker segments up to the first scan (SOS), without libvips, once for both the frame header and
 * the EXIF block: undefined where the walk does not reach an SOS within the bytes (truncated or unusual files take
 * libvips' header read instead). `frame` is undefined without an SOFn or with two; `orientation` see jpegOrientation.
 */
function jpegHeader(b: Uint8Array): JpegHeader | undefined {
  if (b.length < 4 || b[0] !== 0xff || b[1] !== 0xd8) return undefined;
  let frame: JpegFrame | undefined;
  let frames = 0;
  let orientation: number | undefined = 1;
  let exifBlocks = 0;
  let i = 2;
  for (let segments = 0; segments < 4096; segments++) {
    if (i + 4 > b.length || b[i] !== 0xff) return undefined;
    // Fill bytes (0xFF) may precede a marker.
    while (b[i + 1] === 0xff && i + 4 < b.length) i++;
    const marker = b[i + 1]!;
    if (marker === 0xda) return { frame: frames === 1 ? frame : undefined, orientation }; // SOS: the header is complete
    // Markers without a length (TEM, RSTn, SOI, EOI) do not belong before the first scan.
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd9) || marker === 0x00) return undefined;
    const length = (b[i + 2]! << 8) | b[i + 3]!;
    if (length < 2 || i + 2 + length > b.length) return undefined;
    // SOF0–SOF15, except DHT (C4), JPG (C8) and DAC (CC).
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      frames += length < 8 ? 2 : 1; // one too short to read counts as unreadable
      frame = {
        marker,
        precision: b[i + 4]!,
        height: (b[i + 5]! << 8) | b[i + 6]!,
        width: (b[i + 7]! << 8) | b[i + 8]!,
        components: b[i + 9]!,
      };
    }
    if (marker === 0xe1 && length >= 2 + 6 + 8 && EXIF_HEADER.every((v, k) => b[i + 4 + k] === v)) {
      exifBlocks++;
      orientation = exifBlocks > 1 ? undefined : exifOrientation(b.subarray(i + 10, i + 2 + length));
    }
    i += 2 + length;
  }
  return undefined;
}

/**
 * Reads a JPEG's frame header by walking its marker segments up to the first scan, without libvips: undefined
 * where the walk does not reach an SOFn followed by an SOS within the bytes (truncated or unusual files take
 * libvips' header read instead).
 */
export function jpegFrame(b: Uint8Array): JpegFrame | undefined {
  return jpegHeader(b)?.frame;
}

/**
 * The EXIF orientation of a JPEG as libvips would apply it: 1 where it has no EXIF block or none of the block's
 * image directories (IFD0, IFD1, the Exif IFD) holds an orientation, else the value found; undefined where the
 * markers or the EXIF block cannot be read with certainty (the caller then leaves the file to libvips).
 */
export function jpegOrientation(b: Uint8Array): number | undefined {
  return jpegHeader(b)?.orientation;
}

/**
 * The frame of a JPEG that libvips decodes as 8-bit grayscale or three components, neither CMYK nor 16-bit (what
 * `probeImage`'s metadata would say of it): 8-bit samples, 1 or 3 components, a size. Undefined otherwise.
 */
export function plainJpegFrame(b: Uint8Array): JpegFrame | undefined {
  return plainFrame(jpegHeader(b)?.frame);
}

function plainFrame(f: JpegFrame | undefined): JpegFrame | undefined {
  if (f?.precision !== 8 || (f.components !== 3 && f.components !== 1) || !f.width || !f.height) return undefined;
  return f;
}

/**
 * How decode.ts decodes an image: `sniffed` names errors and picks the truncation check, `format` is the result's
 * (libvips' name where it read the header); CMYK (Pillow's formula) and 16-bit grayscale (clipped as Pillow's mode
 * I) change the pipeline.
 */
export interface DecodePlan {
  sniffed: string;
  format: string;
  input: Buffer;
  storedWidth: number;
  storedHeight: number;
  density: number | undefined;
  isCmyk: boolean;
  gray16: boolean;
  /** A plain JPEG's frame header and EXIF orientation (plainJpegPlan, from one walk of its header). */
  frame?: JpegFrame;
  orientation?: number;
}

/**
 * The plan of a JPEG (sniffed as one by the caller) whose frame is plain (`plainJpegFrame`), with the header checks
 * of `probeImage` (`checkSize`: the pixel limit, the smallest size) from its frame header alone: one libvips
 * pipeline per image instead of two. Undefined for any other JPEG, which takes `probeImage`.
 */
export function plainJpegPlan(bytes: Uint8Array, checkSize: (width: number, height: number) => void): DecodePlan | undefined {
  const header = jpegHeader(bytes);
  const f = plainFrame(header?.frame);
  if (!f) return undefined;
  checkSize(f.width, f.height);
  const input = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    sniffed: 'jpeg',
    format: 'jpeg',
    input,
    storedWidth: f.width,
    storedHeight: f.height,
    density: undefined,
    isCmyk: false,
    gray16: false,
    frame: f,
    ...(header?.orientation !== undefined ? { orientation: header.orientation } : {}),
  };
}

/** The orientation in a TIFF-structured EXIF block (see jpegOrientation). */
function exifOrientation(t: Uint8Array): number | undefined {
  const little = t[0] === 0x49 && t[1] === 0x49;
  if (!little && !(t[0] === 0x4d && t[1] === 0x4d)) return undefined;
  const u16 = (o: number) => (little ? t[o]! | (t[o + 1]! << 8) : (t[o]! << 8) | t[o + 1]!);
  const u32 = (o: number) => (little ? (u16(o) | (u16(o + 2) << 16)) >>> 0 : ((u16(o) << 16) | u16(o + 2)) >>> 0);
  if (u16(2) !== 42) return undefined;
  let found: number | undefined;
  const seen = new Set<number>();
  // IFD0 at offset 0 (inside the TIFF header) is read by libexif as it is: leave such a block to libvips.
  if (u32(4) === 0) return undefined;
  const ifds = [u32(4)];
  while (ifds.length) {
    const at = ifds.pop()!;
    if (at === 0 || seen.has(at)) continue;
    if (seen.size >= 8 || at + 2 > t.length) return undefined;
    seen.add(at);
    const n = u16(at);
    if (at + 2 + n * 12 + 4 > t.length) return undefined;
    for (let k = 0; k < n; k++) {
      const e = at + 2 + k * 12;
      const tag = u16(e);
      if (tag === ORIENTATION_TAG) {
        if (u16(e + 2) !== 3 || u32(e + 4) !== 1) return undefined;
        const v = u16(e + 8);
        if (found !== undefined && found !== v) return undefined;
        found = v;
      } else if (tag === EXIF_IFD_TAG) ifds.push(u32(e + 8));
    }
    // IFD0's successor is IFD1 (the thumbnail's).
    if (seen.size === 1) ifds.push(u32(at + 2 + n * 12));
  }
  return found ?? 1;
}
