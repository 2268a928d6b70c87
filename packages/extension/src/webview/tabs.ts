/** The board's tabs: the Overview, one per report section of protocol's ISSUE_SECTIONS (in its order), Similar. */
import { ISSUE_SECTIONS, type IssueSectionId } from '@image-classifier/protocol/issue-kinds';

export type TabId = 'overview' | IssueSectionId | 'similar';

export const TABS: readonly { id: TabId; title: string }[] = [
  { id: 'overview', title: 'Overview' },
  ...ISSUE_SECTIONS.map((s) => ({ id: s.id, title: s.title })),
  { id: 'similar', title: 'Similar' },
];
