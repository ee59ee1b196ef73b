import type { ColumnMapping, TableMapping } from '../etl/contracts.js';
import { CutoverError } from '../../runbook/errors.js';

/**
 * A slice of a table both engines can select identically. Integer keys split
 * by range; GUID, text and composite keys by a bucket of their key hash
 * (canonical.ts keyBucketValue), never by range: the engines sort those keys
 * differently. The ETL's own hash chunks use SQL Server's CHECKSUM, which
 * PostgreSQL cannot compute, so validation does not reuse them.
 *
 *   range   from ≤ key < to
 *   bucket  keyBucket % modulus = bucket; its children are the buckets of
 *           modulus·fanout that are ≡ bucket (mod modulus): re-bucketing
 *           inside the bucket, so a child never leaves its parent.
 */
export type Segment = { kind: 'range'; from: bigint; to: bigint } | { kind: 'bucket'; modulus: bigint; bucket: bigint };

/** Rows of one segment: how many, and the sum of their 60-bit hash slices (exact, as decimal(38,0)/numeric). */
export interface SegmentAggregate {
  count: number;
  sum: bigint;
}

/** One row of a leaf segment: its key (canonical text per key column) and its row hash (hex). */
export interface RowHash {
  key: string[];
  hash: string;
}

/** Canonical text per column name (source names), for the report's side-by-side rows. */
export type CanonicalRowText = Record<string, string | null>;

/**
 * One side of a checksum comparison: the live SQL Server, PostgreSQL (the
 * target, or a stand-in source in tests, since SQL Server cannot run in CI),
 * or a snapshot. Implementations push the work into their database and hold
 * nothing but the aggregates and the few rows a leaf asks for.
 */
export interface ChecksumSource {
  /** MIN and MAX of the table's single integer key; null when the table is empty. */
  keyBounds(table: TableMapping): Promise<{ lo: bigint; hi: bigint } | null>;
  /** Aggregates of the segment's children (childIndex → aggregate; a child without rows is absent). */
  segmentAggregates(table: TableMapping, segment: Segment, fanout: number): Promise<Map<number, SegmentAggregate>>;
  /** Key and row hash of every row of a (small) segment. */
  rowHashes(table: TableMapping, segment: Segment): Promise<RowHash[]>;
  /** The canonical text of the rows with these keys (by keyId), every hashed column. */
  rows(table: TableMapping, keys: string[][]): Promise<Map<string, CanonicalRowText>>;
  close(): Promise<void>;
}

/** The whole table as one segment. */
export const WHOLE_TABLE_BUCKET: Segment = { kind: 'bucket', modulus: 1n, bucket: 0n };

/** Width of a range segment's children. */
export const childWidth = (s: { from: bigint; to: bigint }, fanout: number): bigint => {
  const span = s.to - s.from;
  const n = BigInt(fanout);
  return span <= 0n ? 1n : (span + n - 1n) / n;
};

/** The child segment at an index, as both sides number it. */
export function childSegment(s: Segment, fanout: number, index: number): Segment {
  const i = BigInt(index);
  if (s.kind === 'bucket') return { kind: 'bucket', modulus: s.modulus * BigInt(fanout), bucket: s.bucket + i * s.modulus };
  const w = childWidth(s, fanout);
  const from = s.from + i * w;
  return { kind: 'range', from, to: from + w < s.to ? from + w : s.to };
}

/** Stable text id of a key, for maps and the report. */
export const keyId = (key: readonly string[]): string => (key.length === 1 ? (key[0] ?? '') : JSON.stringify(key));

/** The key columns of a mapping, in key order; all hashed columns when the table has none. */
export function keyColumns(table: TableMapping): ColumnMapping[] {
  const names = table.key?.columns ?? [];
  return names.map((n) => {
    const c = table.columns.find((x) => x.source === n);
    if (!c) throw new CutoverError('checksum.key_not_mapped', `key column ${n} is not a mapped column of ${table.source.schema}.${table.source.name}`);
    return c;
  });
}

/** The integer key column when the table splits by range, else null. */
export const rangeKey = (table: TableMapping): ColumnMapping | null =>
  table.key?.kind === 'integer' && table.key.columns.length === 1 ? (keyColumns(table)[0] ?? null) : null;
