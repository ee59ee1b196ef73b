import type { TableMapping } from '../etl/contracts.js';
import { childSegment, keyId, rangeKey, WHOLE_TABLE_BUCKET, type ChecksumSource, type RowHash, type Segment, type SegmentAggregate } from './checksum-source.js';

/**
 * data-diff's bisection over two ChecksumSources. Each query returns the
 * count and hash-slice sum of every child of one segment (fanout children in
 * one scan), so a differing child is known without asking for its parent
 * again. Differing children are split again until they hold at most leafRows
 * rows on both sides; then keys and row hashes are listed and compared.
 * Memory holds per-segment aggregates and leaf rows only: flat in the table
 * size. Never throws for differences; only the sources' errors propagate.
 */
export interface DiffOptions {
  /** Rows per first-pass segment; the first pass reports at segmentRows / fanout granularity. */
  segmentRows: number;
  fanout?: number;
  leafRows?: number;
  /** Stop bisecting once this many differing keys are found (a wholesale mismatch needs no full list). */
  maxKeys?: number;
  /** Segments examined at once (each runs one query per side, in parallel). */
  parallel?: number;
  signal?: AbortSignal;
}

export type DifferenceKind = 'missing' | 'extra' | 'changed';

/** missing: in the source only; extra: in the target only; changed: both, row hashes differ. */
export interface RowDifference {
  kind: DifferenceKind;
  key: string[];
}

export interface TableDiff {
  table: TableMapping;
  sourceRows: number;
  targetRows: number;
  differences: RowDifference[];
  /** True when maxKeys stopped the search, or the table has no key to bisect by. */
  incomplete: boolean;
  /** Whole-table aggregates equal (the verdict when there is no key). */
  equal: boolean;
  queries: number;
}

const EMPTY: SegmentAggregate = { count: 0, sum: 0n };
const same = (a: SegmentAggregate, b: SegmentAggregate): boolean => a.count === b.count && a.sum === b.sum;

interface Work {
  segment: Segment;
  fanout: number;
  depth: number;
}

export async function diffTable(source: ChecksumSource, target: ChecksumSource, table: TableMapping, options: DiffOptions): Promise<TableDiff> {
  const fanout = options.fanout ?? 16;
  const leafRows = options.leafRows ?? 64;
  const maxKeys = options.maxKeys ?? 100;
  const out: TableDiff = { table, sourceRows: 0, targetRows: 0, differences: [], incomplete: false, equal: true, queries: 0 };
  let level = await firstLevel(source, target, table, options, fanout);
  if (!table.key) {
    // No key: nothing to bisect by; the whole-table aggregate is the whole answer.
    const [s, t] = await both(source, target, (x) => x.segmentAggregates(table, WHOLE_TABLE_BUCKET, 1));
    Object.assign(out, { sourceRows: s.get(0)?.count ?? 0, targetRows: t.get(0)?.count ?? 0, equal: same(s.get(0) ?? EMPTY, t.get(0) ?? EMPTY), incomplete: true, queries: 2 });
    return out;
  }
  let top = true;
  while (level.length > 0) {
    const next: Work[] = [];
    await inBatches(level, options.parallel ?? 2, async (w) => {
      options.signal?.throwIfAborted();
      if (out.differences.length >= maxKeys) return void (out.incomplete = true);
      const [s, t] = await both(source, target, (x) => x.segmentAggregates(table, w.segment, w.fanout));
      out.queries += 2;
      for (const i of new Set([...s.keys(), ...t.keys()])) {
        const a = s.get(i) ?? EMPTY;
        const b = t.get(i) ?? EMPTY;
        if (top) {
          out.sourceRows += a.count;
          out.targetRows += b.count;
        }
        if (same(a, b)) continue;
        out.equal = false;
        const child = childSegment(w.segment, w.fanout, i);
        if (Math.max(a.count, b.count) <= leafRows || w.depth >= 24 || isUnit(child)) await leaf(child);
        else next.push({ segment: child, fanout, depth: w.depth + 1 });
      }
    });
    top = false;
    level = next;
  }
  return out;

  async function leaf(segment: Segment): Promise<void> {
    const [s, t] = await both(source, target, (x) => x.rowHashes(table, segment));
    out.queries += 2;
    out.differences.push(...compareRows(s, t));
    if (out.differences.length > maxKeys) {
      out.differences.length = maxKeys;
      out.incomplete = true;
    }
  }
}

/** The first pass: for integer keys equal-width ranges over both sides' bounds; otherwise buckets of the key hash. */
async function firstLevel(source: ChecksumSource, target: ChecksumSource, table: TableMapping, options: DiffOptions, fanout: number): Promise<Work[]> {
  if (!table.key) return [];
  const segments = Math.max(1, Math.ceil(table.rowCount / options.segmentRows));
  if (!rangeKey(table)) {
    // One scan per side, grouped into segments·fanout buckets: every bucket filter would be a full scan.
    return [{ segment: WHOLE_TABLE_BUCKET, fanout: segments * fanout, depth: 0 }];
  }
  const [a, b] = await both(source, target, (x) => x.keyBounds(table));
  const lo = [a?.lo, b?.lo].filter((x): x is bigint => x !== undefined).reduce((m, x) => (x < m ? x : m), 2n ** 63n);
  const hi = [a?.hi, b?.hi].filter((x): x is bigint => x !== undefined).reduce((m, x) => (x > m ? x : m), -(2n ** 63n));
  if (hi < lo) return [];
  const whole: Segment = { kind: 'range', from: lo, to: hi + 1n };
  return Array.from({ length: segments }, (_, i) => childSegment(whole, segments, i))
    .filter((s) => s.kind === 'range' && s.from < s.to)
    .map((segment) => ({ segment, fanout, depth: 0 }));
}

/** Missing, extra and changed keys of one leaf, in key order of the source then the target. */
export function compareRows(source: RowHash[], target: RowHash[]): RowDifference[] {
  const t = new Map(target.map((r) => [keyId(r.key), r]));
  const out: RowDifference[] = [];
  for (const r of source) {
    const id = keyId(r.key);
    const other = t.get(id);
    if (!other) out.push({ kind: 'missing', key: r.key });
    else if (other.hash !== r.hash) out.push({ kind: 'changed', key: r.key });
    t.delete(id);
  }
  for (const r of t.values()) out.push({ kind: 'extra', key: r.key });
  return out;
}

const isUnit = (s: Segment): boolean => s.kind === 'range' && s.to - s.from <= 1n;

const both = <R>(source: ChecksumSource, target: ChecksumSource, f: (x: ChecksumSource) => Promise<R>): Promise<[R, R]> => Promise.all([f(source), f(target)]);

async function inBatches<T>(items: readonly T[], limit: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await run(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}
