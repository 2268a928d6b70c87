/**
 * Exact and near duplicates, grouped with union-find.
 * - exact: equal SHA-256 of the file bytes, or of the decoded pixels (the same picture saved with other metadata).
 * - near: candidate pairs are each image's nearest embedding neighbours and images with equal perceptual hashes; a
 *   pair is a near duplicate when the two signals agree: pHash Hamming distance ≤ `hashTight` with cosine ≥
 *   `cosineLoose`, or distance ≤ `hashLoose` with cosine ≥ `cosineTight`, or cosine ≥ `cosineAlone` whatever the hash.
 *   Embedding cosine alone cannot separate copies from look-alikes (on the dev set a downscaled copy scores 0.871
 *   and two different guitars 0.891); the hash misses crops but is decisive for re-encodes, resizes, brightness.
 */
import type { DuplicateGroup } from '@image-classifier/protocol';
import { hammingDistance } from './phash.js';
import { cosine, type Matrix, type Neighbours } from './vectors.js';

export const NEAR_DUPLICATE_DEFAULTS = {
  hashTight: 6,
  cosineLoose: 0.8,
  hashLoose: 12,
  cosineTight: 0.9,
  cosineAlone: 0.97,
};
export type NearDuplicateOptions = typeof NEAR_DUPLICATE_DEFAULTS;

export class UnionFind {
  private readonly parent: Int32Array;
  constructor(n: number) {
    this.parent = Int32Array.from({ length: n }, (_, i) => i);
  }
  find(i: number): number {
    let r = i;
    while (this.parent[r] !== r) r = this.parent[r]!;
    while (this.parent[i] !== r) {
      const next = this.parent[i]!;
      this.parent[i] = r;
      i = next;
    }
    return r;
  }
  union(a: number, b: number): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra !== rb) this.parent[Math.max(ra, rb)] = Math.min(ra, rb);
  }
  /** Groups of two or more members, each sorted, ordered by their first member. */
  groups(): number[][] {
    const m = new Map<number, number[]>();
    for (let i = 0; i < this.parent.length; i++) {
      const r = this.find(i);
      const g = m.get(r);
      if (g) g.push(i);
      else m.set(r, [i]);
    }
    return [...m.values()].filter((g) => g.length > 1);
  }
}

export interface DuplicateInput {
  file: string;
  label?: string | undefined;
  split?: string | undefined;
  bytesSha256: string;
  pixelsSha256: string;
  phash: string;
}

function unionByKey(uf: UnionFind, items: DuplicateInput[], key: (d: DuplicateInput) => string): void {
  const first = new Map<string, number>();
  items.forEach((d, i) => {
    const k = key(d);
    const f = first.get(k);
    if (f === undefined) first.set(k, i);
    else uf.union(f, i);
  });
}

/** Is (i, j) a near-duplicate pair under the combined rule? */
export function isNearDuplicate(cos: number, hamming: number, o: NearDuplicateOptions = NEAR_DUPLICATE_DEFAULTS): boolean {
  return (hamming <= o.hashTight && cos >= o.cosineLoose) || (hamming <= o.hashLoose && cos >= o.cosineTight) || cos >= o.cosineAlone;
}

function describe(kind: 'exact' | 'near', members: number[], items: DuplicateInput[], minCosine?: number): DuplicateGroup {
  const labels = new Set(members.map((i) => items[i]!.label ?? ''));
  const splits = new Set(members.map((i) => items[i]!.split ?? ''));
  return {
    kind,
    files: members.map((i) => items[i]!.file),
    conflictingLabels: labels.size > 1,
    crossSplit: splits.size > 1,
    ...(minCosine !== undefined ? { minCosine: Math.round(minCosine * 1e4) / 1e4 } : {}),
  };
}

/**
 * Exact groups first; near groups join exact groups' representatives with near pairs (a near group lists every
 * member, exact copies included). `m`/`nb` may be undefined when no embeddings exist (exact groups only).
 */
export function findDuplicates(
  items: DuplicateInput[],
  m: Matrix | undefined,
  nb: Neighbours | undefined,
  o: NearDuplicateOptions = NEAR_DUPLICATE_DEFAULTS,
): DuplicateGroup[] {
  const exact = new UnionFind(items.length);
  unionByKey(exact, items, (d) => `b:${d.bytesSha256}`);
  unionByKey(exact, items, (d) => `p:${d.pixelsSha256}`);
  const exactGroups = exact.groups();
  const out = exactGroups.map((g) => describe('exact', g, items));
  if (!m || !nb) return out;
  const near = new UnionFind(items.length);
  for (const g of exactGroups) for (const i of g) near.union(g[0]!, i);
  const minCos = new Map<number, number>();
  const link = (i: number, j: number, cos: number) => {
    if (exact.find(i) === exact.find(j)) return;
    if (!isNearDuplicate(cos, hammingDistance(items[i]!.phash, items[j]!.phash), o)) return;
    near.union(i, j);
    minCos.set(i, Math.min(minCos.get(i) ?? 1, cos));
    minCos.set(j, Math.min(minCos.get(j) ?? 1, cos));
  };
  for (let i = 0; i < nb.index.length / nb.k; i++) {
    for (let r = 0; r < nb.k; r++) {
      const j = nb.index[i * nb.k + r]!;
      if (j >= 0) link(Math.min(i, j), Math.max(i, j), nb.sim[i * nb.k + r]!);
    }
  }
  const byHash = new Map<string, number[]>();
  for (const [i, d] of items.entries()) byHash.set(d.phash, [...(byHash.get(d.phash) ?? []), i]);
  for (const g of byHash.values()) for (let a = 1; a < g.length; a++) link(g[0]!, g[a]!, cosine(m, g[0]!, g[a]!));
  for (const g of near.groups()) {
    if (exactGroups.some((e) => e.length === g.length && e[0] === g[0])) continue;
    out.push(describe('near', g, items, Math.min(...g.map((i) => minCos.get(i) ?? 1))));
  }
  return out;
}
