/** Cutting text to a width with an ellipsis (DOM-free: the measure is given; fit.ts measures with a canvas). */
export type FitMode = 'end' | 'middle';

export const ELLIPSIS = '…';

type Segmenter = { segment(s: string): Iterable<{ segment: string }> };
const SegmenterCtor = (Intl as unknown as { Segmenter?: new (locale?: string, o?: { granularity: 'grapheme' }) => Segmenter }).Segmenter;
const graphemeSegmenter = SegmenterCtor ? new SegmenterCtor(undefined, { granularity: 'grapheme' }) : undefined;

/** The user-perceived characters of `text` (a letter with its combining accents, a ZWJ emoji sequence: one each). */
export function graphemes(text: string): string[] {
  return graphemeSegmenter ? Array.from(graphemeSegmenter.segment(text), (s) => s.segment) : Array.from(text);
}

/**
 * `text` as it fits in `width` by `measure`: whole, or cut with an ellipsis at the end or, for file names (whose end
 * tells them apart: a number, the extension), in the middle. Cuts between user-perceived characters only (never
 * inside a surrogate pair, never between a letter and its accent).
 */
export function fitWith(text: string, width: number, measure: (s: string) => number, mode: FitMode = 'end'): string {
  if (measure(text) <= width) return text;
  const chars = graphemes(text);
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
