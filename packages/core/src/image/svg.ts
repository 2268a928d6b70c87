/**
 * SVG budgets. An SVG is a program: a few hundred bytes can declare a 9000×9000 canvas with filters that take
 * librsvg minutes and gigabytes to render, and a render in progress cannot be stopped. So an SVG is
 *  - checked for complexity from its text before anything renders (IMAGE_TOO_COMPLEX beyond the limits below), and
 *  - rendered at the size the model needs (short side SVG_RENDER_SIDE, at most SVG_RENDER_MAX_PIXELS pixels),
 *    never at its declared canvas size: sharp's `density` scales the document when librsvg renders it.
 * torchvision/Pillow cannot read SVG at all, so there is no reference pipeline to match (see README).
 */
import { ClassifierError } from '../errors.js';

/**
 * The short side an SVG is rendered at: the size the model's preprocessing resizes the short side to (256, then a
 * 224 crop), so the exact resize has nothing left to do and librsvg anti-aliases at the final resolution.
 */
export const SVG_RENDER_SIDE = 256;
/** At most this many pixels are rendered (up to 8:1 at a 256 short side; more elongated SVGs get a shorter one). */
export const SVG_RENDER_MAX_PIXELS = 8 * SVG_RENDER_SIDE * SVG_RENDER_SIDE;
/** SVGs that declare no size are rendered as if they declared this (a square). */
export const SVG_DEFAULT_SIDE = 256;

/** Complexity limits, checked on the document's text before rendering. */
export const SVG_LIMITS = {
  /** Bytes of SVG text examined; a larger SVG is refused. */
  maxBytes: 8 * 1024 * 1024,
  /** Elements (start tags). */
  maxElements: 20_000,
  /** Filter primitives (`<fe…>` elements) in the whole document. */
  maxFilterPrimitives: 32,
  /** Elements that apply a filter (`filter="url(…)"` or `filter: url(…)`). */
  maxFilteredElements: 64,
  /** feTurbulence: octaves summed over all of them (the cost is octaves × pixels). */
  maxTurbulenceOctaves: 16,
  /** feConvolveMatrix: kernel order (order² work per pixel). */
  maxConvolveOrder: 9,
  /** feMorphology radius and feGaussianBlur/feDropShadow stdDeviation, in user units. */
  maxFilterRadius: 256,
  /** `<use>` references (each can instantiate a subtree that itself uses others). */
  maxUses: 2_000,
  /** `<pattern>` elements (patterns tile: nested ones multiply). */
  maxPatterns: 64,
  /** Embedded or linked raster images (`<image>`), each decoded at its own size by librsvg. */
  maxImages: 16,
  /** Numbers larger than this (in absolute value) anywhere in attributes or styles. */
  maxNumber: 1e7,
} as const;

function tooComplex(name: string, why: string, details: Record<string, unknown>): ClassifierError {
  return new ClassifierError(
    'IMAGE_TOO_COMPLEX',
    `${name} is an SVG too complex to render safely (${why}); it was not classified. Simplify it or export it as PNG.`,
    { details },
  );
}

function count(text: string, re: RegExp): number {
  let n = 0;
  re.lastIndex = 0;
  while (re.exec(text)) n++;
  return n;
}

function numbersOf(text: string, re: RegExp): number[] {
  const out: number[] = [];
  re.lastIndex = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    for (const v of (m[1] ?? '').split(/[\s,]+/)) {
      const n = Number.parseFloat(v);
      if (Number.isFinite(n)) out.push(n);
    }
  }
  return out;
}

/**
 * Refuses SVGs beyond SVG_LIMITS with IMAGE_TOO_COMPLEX, from the text alone (regular expressions over the
 * bytes, linear in their length; no XML parser runs).
 */
export function checkSvgComplexity(bytes: Uint8Array, name: string): void {
  const L = SVG_LIMITS;
  if (bytes.length > L.maxBytes) {
    throw tooComplex(name, `${(bytes.length / 1e6).toFixed(1)} MB of SVG text, over ${L.maxBytes / 1024 / 1024} MB`, {
      bytes: bytes.length,
    });
  }
  // Embedded data (base64 images, fonts) is not markup: leave it out of the counts.
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    .toString('utf8')
    .replace(/data:[^"')\s]*/g, 'data:');
  if (/<!ENTITY/i.test(text)) throw tooComplex(name, 'it declares XML entities', { entities: true });
  const checks: Array<[string, number, number]> = [
    ['elements', count(text, /<[A-Za-z]/g), L.maxElements],
    ['filter primitives', count(text, /<fe[A-Z]/g), L.maxFilterPrimitives],
    ['filtered elements', count(text, /filter\s*[=:]\s*["']?\s*url\(/gi), L.maxFilteredElements],
    ['<use> references', count(text, /<use[\s/>]/g), L.maxUses],
    ['patterns', count(text, /<pattern[\s/>]/g), L.maxPatterns],
    ['images', count(text, /<image[\s/>]/g), L.maxImages],
  ];
  for (const [what, n, max] of checks) {
    if (n > max) throw tooComplex(name, `${n} ${what}, over the limit of ${max}`, { [what]: n, limit: max });
  }
  const octaves = (/<feTurbulence\b/.test(text) ? numbersOf(text, /numOctaves\s*=\s*["']([^"']*)["']/g) : []).reduce((a, b) => a + b, 0);
  const turbulences = count(text, /<feTurbulence\b/g);
  // numOctaves defaults to 1.
  const totalOctaves = Math.max(octaves, turbulences);
  if (totalOctaves > L.maxTurbulenceOctaves) {
    throw tooComplex(name, `feTurbulence with ${totalOctaves} octaves in all, over ${L.maxTurbulenceOctaves}`, { octaves: totalOctaves });
  }
  const order = Math.max(0, ...numbersOf(text, /\border\s*=\s*["']([^"']*)["']/g));
  if (/<feConvolveMatrix\b/.test(text) && order > L.maxConvolveOrder) {
    throw tooComplex(name, `a feConvolveMatrix of order ${order}, over ${L.maxConvolveOrder}`, { order });
  }
  const radius = Math.max(0, ...numbersOf(text, /\b(?:stdDeviation|radius)\s*=\s*["']([^"']*)["']/g).map(Math.abs));
  if (radius > L.maxFilterRadius) {
    throw tooComplex(name, `a filter radius of ${radius}, over ${L.maxFilterRadius}`, { radius });
  }
  const huge = /(?<![\w#.-])-?(\d{8,}(?:\.\d*)?|\d*\.?\d+[eE]\+?(\d+))/g;
  for (let m = huge.exec(text); m; m = huge.exec(text)) {
    const v = Math.abs(Number.parseFloat(m[0]));
    if (v > L.maxNumber) throw tooComplex(name, `a number as large as ${m[0]}`, { number: m[0] });
  }
}

/**
 * The `density` (DPI; librsvg renders at 72 DPI by default) that renders an SVG declared at `width`×`height`
 * (as sharp's metadata reports it at 72 DPI) with its short side at SVG_RENDER_SIDE and no more than
 * SVG_RENDER_MAX_PIXELS pixels.
 */
export function svgRenderDensity(width: number | undefined, height: number | undefined): number {
  const w = width && width > 0 ? width : SVG_DEFAULT_SIDE;
  const h = height && height > 0 ? height : SVG_DEFAULT_SIDE;
  let scale = SVG_RENDER_SIDE / Math.min(w, h);
  if (w * h * scale * scale > SVG_RENDER_MAX_PIXELS) scale = Math.sqrt(SVG_RENDER_MAX_PIXELS / (w * h));
  // sharp accepts densities from 1 to 100000.
  return Math.min(100_000, Math.max(1, 72 * scale));
}
