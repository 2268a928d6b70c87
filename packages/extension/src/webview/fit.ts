/**
 * Text fitted to a card's width in script, so that cards need no clip (`overflow: hidden`, `text-overflow`): each
 * clip is a paint-property node Chromium walks for every card on every scrolling frame (see grid.ts). Widths are
 * measured with a canvas in the font the card's CSS gives each kind of text; results are cached.
 */
import { type FitMode, fitWith } from './fit-text';

export type { FitMode } from './fit-text';

let ctx: CanvasRenderingContext2D | null | undefined;
/** The font last given to the canvas (its `font` getter answers a normalized string), and whether it took. */
let ctxFont = '';
let ctxFontTook = false;
const fonts = new Map<string, { font: string; sizePx: number }>();
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
function fontOf(cls: string, host: string): { font: string; sizePx: number } {
  const key = `${host}|${cls}`;
  let f = fonts.get(key);
  if (f === undefined) {
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
    f = { font: `${s.fontStyle} ${s.fontWeight} ${s.fontSize} ${s.fontFamily}`, sizePx: Number.parseFloat(s.fontSize) || 13 };
    outer.remove();
    fonts.set(key, f);
  }
  return f;
}

function widthOf(text: string, f: { font: string; sizePx: number }): number {
  ctx ??= document.createElement('canvas').getContext('2d');
  if (ctx && ctxFont !== f.font) {
    ctxFont = f.font;
    const before = ctx.font;
    ctx.font = f.font;
    // A font string the canvas cannot parse is ignored (its font stays as it was): measure generously instead.
    ctxFontTook = ctx.font !== before || f.font.includes(before);
  }
  // Without a canvas font: no glyph is wider than about 0.7 em in the UI fonts (bold included).
  if (!ctx || !ctxFontTook) return Array.from(text).length * f.sizePx * 0.7;
  return ctx.measureText(text).width;
}

/** `text` fitted (see fitWith) to `width` px in the font of `.cls` inside `.host`; cached. */
export function fitText(text: string, width: number, cls: string, host: string, mode: FitMode = 'end'): string {
  const f = fontOf(cls, host);
  const key = `${f.font}|${width}|${mode}|${text}`;
  let out = fitted.get(key);
  if (out === undefined) {
    out = fitWith(text, width, (s) => widthOf(s, f), mode);
    if (fitted.size > 50_000) fitted.clear();
    fitted.set(key, out);
  }
  return out;
}
