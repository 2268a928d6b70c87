/**
 * The duplicate check: exact copies (same pixels hash) and near copies (perceptual hash and embedding cosine,
 * duplicates.ts), each group marked when its members sit in different class folders or splits. It also stands for
 * the `leakage` check (only the groups across splits). Its kinds: `exact_duplicate`, `near_duplicate`, `leakage`.
 */
import type { DuplicateGroup } from '@image-classifier/protocol';
import type { Check, CheckInput } from '../checks.js';
import { findDuplicates, NEAR_DUPLICATE_DEFAULTS } from '../duplicates.js';

export { NEAR_DUPLICATE_DEFAULTS };

export const duplicatesCheck: Check = {
  id: 'duplicates',
  runsFor: ['duplicates', 'leakage'],
  section: 'duplicates',
  defaults: NEAR_DUPLICATE_DEFAULTS,
  settings(o) {
    return Object.fromEntries(Object.entries({ ...NEAR_DUPLICATE_DEFAULTS, ...o.nearDuplicates }).map(([key, v]) => [`near.${key}`, v]));
  },
  run(input, out, enabled) {
    const groups = input.duplicateGroups();
    out.duplicates = enabled.has('duplicates') ? groups : groups.filter((g) => g.crossSplit);
  },
  fileIssues(a, _items, add) {
    for (const g of a.duplicates) {
      for (const f of g.files) {
        const others = g.files.filter((o) => o !== f);
        const list = others.length > 5 ? `${others.slice(0, 5).join(', ')} and ${others.length - 5} more` : others.join(', ');
        add(f, { type: g.kind === 'exact' ? 'exact_duplicate' : 'near_duplicate', detail: `same image as ${list}` });
        if (g.crossSplit) add(f, { type: 'leakage', detail: 'a duplicate sits in another split' });
      }
    }
  },
  report(a) {
    return { duplicateGroups: a.duplicates, counts: { duplicateGroups: a.duplicates.length } };
  },
};

/** The duplicate groups of the analysable items (the run's near-duplicate options over the defaults). */
export function duplicateGroupsOf(input: Omit<CheckInput, 'duplicateGroups'>): DuplicateGroup[] {
  const { items, m, nb, options: o } = input;
  const dup = items.map((x) => ({ file: x.entry.file, label: x.entry.label, split: x.entry.split, ...x.features }));
  return findDuplicates(dup, items.length > 1 ? m : undefined, items.length > 1 ? nb : undefined, {
    ...NEAR_DUPLICATE_DEFAULTS,
    ...o.nearDuplicates,
  });
}
