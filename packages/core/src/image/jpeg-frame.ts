/**
 * A JPEG's frame header read in JavaScript, without libvips: decode.ts takes a plain JPEG's size from it instead of
 * a separate libvips header pipeline.
 */

/** The frame header of a JPEG: its size and colour components (SOFn), found before its first scan (SOS). */
export interface JpegFrame {
  width: number;
  height: number;
  components: number;
  precision: number;
}

/**
 * Reads a JPEG's frame header by walking its marker segments up to the first scan, without libvips: undefined
 * where the walk does not reach an SOFn followed by an SOS within the bytes (truncated or unusual files take
 * libvips' header read instead).
 */
export function jpegFrame(b: Uint8Array): JpegFrame | undefined {
  if (b.length < 4 || b[0] !== 0xff || b[1] !== 0xd8) return undefined;
  let frame: JpegFrame | undefined;
  let i = 2;
  for (let segments = 0; segments < 4096; segments++) {
    if (i + 4 > b.length || b[i] !== 0xff) return undefined;
    // Fill bytes (0xFF) may precede a marker.
    while (b[i + 1] === 0xff && i + 4 < b.length) i++;
    const marker = b[i + 1]!;
    if (marker === 0xda) return frame; // SOS: the header is complete
    // Markers without a length (TEM, RSTn, SOI, EOI) do not belong before the first scan.
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd9) || marker === 0x00) return undefined;
    const length = (b[i + 2]! << 8) | b[i + 3]!;
    if (length < 2 || i + 2 + length > b.length) return undefined;
    // SOF0–SOF15, except DHT (C4), JPG (C8) and DAC (CC).
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      if (frame || length < 8) return undefined;
      frame = { precision: b[i + 4]!, height: (b[i + 5]! << 8) | b[i + 6]!, width: (b[i + 7]! << 8) | b[i + 8]!, components: b[i + 9]! };
    }
    i += 2 + length;
  }
  return undefined;
}

/**
 * The frame of a JPEG that libvips decodes as 8-bit grayscale or three components, neither CMYK nor 16-bit (what
 * `probeImage`'s metadata would say of it): 8-bit samples, 1 or 3 components, a size. Undefined otherwise.
 */
export function plainJpegFrame(b: Uint8Array): JpegFrame | undefined {
  const f = jpegFrame(b);
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
}

/**
 * The plan of a JPEG (sniffed as one by the caller) whose frame is plain (`plainJpegFrame`), with the header checks
 * of `probeImage` (`checkSize`: the pixel limit, the smallest size) from its frame header alone: one libvips
 * pipeline per image instead of two. Undefined for any other JPEG, which takes `probeImage`.
 */
export function plainJpegPlan(bytes: Uint8Array, checkSize: (width: number, height: number) => void): DecodePlan | undefined {
  const f = plainJpegFrame(bytes);
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
  };
}
