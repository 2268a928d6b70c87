/**
 * The quality check: cleanvision's image properties (dark, light, blurry, low information, odd aspect ratio, odd
 * size, grayscale) and tiny images, each against its threshold (quality.ts). Its kinds: QUALITY_ISSUE_TYPES.
 */
import type { Check } from '../checks.js';
import { QUALITY_THRESHOLDS, qualityIssues } from '../quality.js';

export { QUALITY_THRESHOLDS };

export const qualityCheck: Check = {
  id: 'quality',
  runsFor: ['quality'],
  section: 'quality',
  defaults: QUALITY_THRESHOLDS,
  settings() {
    return Object.fromEntries(Object.entries(QUALITY_THRESHOLDS).map(([key, v]) => [`quality.${key}`, v]));
  },
  run({ items }, out) {
    out.quality = qualityIssues(
      items.map((x) => ({ file: x.entry.file, width: x.features.width, height: x.features.height, properties: x.features.properties })),
    );
  },
  fileIssues(a, _items, add) {
    for (const q of a.quality) add(q.file, { type: q.type, score: q.score });
  },
  report(a) {
    return { quality: a.quality, counts: { quality: a.quality.length } };
  },
};
