/**
 * Text fitted to a card's width in script, so that cards need no clip (`overflow: hidden`, `text-overflow`): each
 * clip is a paint-property node Chromium walks for every card on every scrolling frame (see grid.ts). Widths are
 * measured with a canvas in the font the card's CSS gives each kind of text; results are cached.
 */
export type FitMode = 'end' | 'middle';

const ELLIPSIS = '…';
let ctx: CanvasRenderingContext2D | null | undefined;
const fonts = new Map<string, string>();
const fitted = new Map<string, string>();
let generation = 0;

/** Changes whenever the fonts were measured again (a theme or font-size change): part of a card's version. */
export function fitGeneration(): number {
  return generation;
}

/** Forgets the fonts and fitted texts (VS Code changed the theme's font or size). */
export function resetFit(): void {
  fonts.clear();
  fitted.clear();
  generation++;
}

/** The CSS font of text with class `cls` inside an element with classes `host` (measured once, off screen). */
function fontOf(cls: string, host: string): string {
  const key = `${host}|${cls}`;
  let font = fonts.get(key);
  if (font === undefined) {
    const outer = document.createElement('div');
    outer.className = host;
    outer.style.position = 'absolute';
    outer.style.visibility = 'hidden';
    outer.style.left = '-10000px';
    const inner = document.createElement('div');
    inner.className = cls;
    outer.append(inner);
    document.body.append(outer);
    const s = getComputedStyle(inner);
    font = `${s.fontStyle} ${s.fontWeight} ${s.fontSize} ${s.fontFamily}`;
    outer.remove();
    fonts.set(key, font);
  }
  return font;
}

function widthOf(text: string, font: string): number {
  ctx ??= document.createElement('canvas').getContext('2d');
  if (!ctx) return text.length * 7;
  if (ctx.font !== font) ctx.font = font;
  return ctx.measureText(text).width;
}

/**
 * `text` as it fits in `width` by `measure`: whole, or cut with an ellipsis at the end or, for file names (whose end
 * tells them apart: a number, the extension), in the middle. Cuts between code points, never inside a surrogate pair.
 */
export function fitWith(text: string, width: number, measure: (s: string) => number, mode: FitMode = 'end'): string {
  if (measure(text) <= width) return text;
  const chars = Array.from(text);
  const cut = (k: number) =>
    mode === 'end'
      ? chars.slice(0, k).join('') + ELLIPSIS
      : chars.slice(0, Math.ceil(k / 2)).join('') + ELLIPSIS + chars.slice(chars.length - Math.floor(k / 2)).join('');
  // The most characters kept that still fit (binary search; at least the ellipsis).
  let lo = 0;
  let hi = chars.length - 1;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (measure(cut(mid)) <= width) lo = mid;
    else hi = mid - 1;
  }
  return cut(lo);
}

/** `text` fitted (see fitWith) to `width` px in the font of `.cls` inside `.host`; cached. */
export function fitText(text: string, width: number, cls: string, host: string, mode: FitMode = 'end'): string {
  const font = fontOf(cls, host);
  const key = `${font}|${width}|${mode}|${text}`;
  let out = fitted.get(key);
  if (out === undefined) {
    out = fitWith(text, width, (s) => widthOf(s, font), mode);
    if (fitted.size > 50_000) fitted.clear();
    fitted.set(key, out);
  }
  return out;
}
