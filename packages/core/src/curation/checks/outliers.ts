/**
 * The outlier check: images far from every other (mean cosine distance to the k nearest neighbours above Tukey's
 * fence, outliers.ts), and images the model sees as something no class folder covers (the label check's WordNet
 * vocabulary, label-reasons.ts). Its kinds: `outlier`, `out_of_vocabulary`.
 */
import type { Check } from '../checks.js';
import { findOutliers, OUTLIER_IQR_FACTOR } from '../outliers.js';

/** The outlier check's defaults. */
export const OUTLIER_DEFAULTS = { iqrFactor: OUTLIER_IQR_FACTOR } as const;

export const outliersCheck: Check = {
  id: 'outliers',
  runsFor: ['outliers'],
  section: 'outliers',
  defaults: OUTLIER_DEFAULTS,
  settings() {
    return { outlierIqrFactor: OUTLIER_DEFAULTS.iqrFactor };
  },
  run({ items, nb }, out) {
    if (items.length < 2) return;
    out.outliers = findOutliers(
      nb,
      items.map((x) => x.entry.file),
    ).outliers;
    // Out of vocabulary: the label check (run before this one) found them; without it there are none.
    const lr = out.label;
    for (const v of lr?.vocabulary ?? [])
      out.outliers.push({ file: items[lr!.rows[v.row]!]!.entry.file, score: v.score, kind: 'out_of_vocabulary', reason: v.reason });
  },
  fileIssues(a, _items, add) {
    // An entry's kind is its issue kind (`embedding`: the plain outlier), its reason the issue's detail.
    for (const o of a.outliers)
      add(
        o.file,
        o.kind && o.kind !== 'embedding' ? { type: o.kind, score: o.score, detail: o.reason! } : { type: 'outlier', score: o.score },
      );
  },
  report(a) {
    return { outliers: a.outliers, counts: { outliers: a.outliers.length } };
  },
};
