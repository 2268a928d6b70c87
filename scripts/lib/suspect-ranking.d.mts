import type { CurationReport } from '@image-classifier/protocol';

/** Flagged label issues (most suspect first), then every other file by label quality, lowest first. */
export function suspectRanking(r: Pick<CurationReport, 'labelIssues' | 'files'>): string[];
