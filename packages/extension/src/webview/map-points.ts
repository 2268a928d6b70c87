/** The report's 2-D map as points (no DOM: the tests use it). */
import type { CurationReport } from '@image-classifier/protocol';

export interface MapPoint {
  key: string;
  x: number;
  y: number;
}

/** The report's 2-D map (`map.points[i]` belongs to `files[i]`, null without an embedding) as points. */
export function mapPoints(report: CurationReport): MapPoint[] {
  const out: MapPoint[] = [];
  (report.map?.points ?? []).forEach((p, i) => {
    const f = report.files[i];
    if (p && f) out.push({ key: f.file, x: p[0], y: p[1] });
  });
  return out;
}
