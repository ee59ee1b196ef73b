import { CutoverError } from '../../runbook/errors.js';
import type { ChunkSpec, TableMapping } from '../etl/contracts.js';

/**
 * How a table splits into chunks, as pure functions. Chunk ids carry their
 * bounds, so a checkpoint written for one plan can never be taken for a
 * chunk of a different plan after a re-plan; they hold no ':' or '/' so they
 * can name files.
 */

export const ALL_CHUNK: ChunkSpec = { id: 'all', kind: 'all' };

/** How many chunks of about targetRows a table of rowCount rows needs (at least one). */
export function chunkCountFor(rowCount: number, targetRows: number): number {
  if (!Number.isFinite(targetRows) || targetRows < 1) {
    throw new CutoverError('etl.bad_chunk_size', `chunk size must be a positive number of rows, got ${targetRows}`);
  }
  return Math.max(1, Math.ceil(rowCount / targetRows));
}

/** Splitting by range needs one integer column; GUID, text and composite keys sort differently in the two engines. */
export function rangeColumn(table: TableMapping): string | null {
  const key = table.key;
  if (!key || key.kind !== 'integer' || key.columns.length !== 1) return null;
  return key.columns[0] ?? null;
}

/**
 * Equal-width ranges over [lo, hi], `count` of them (fewer when the key
 * span is smaller), the last one inclusive of hi. BigInt arithmetic: a
 * bigint key's bounds do not fit a double.
 */
export function planRanges(column: string, lo: bigint, hi: bigint, count: number): ChunkSpec[] {
  if (hi < lo) return [ALL_CHUNK];
  const span = hi - lo + 1n;
  const n = BigInt(Math.max(1, Math.floor(count)));
  const width = (span + n - 1n) / n;
  const chunks: ChunkSpec[] = [];
  for (let from = lo; from <= hi; from += width) {
    const next = from + width;
    const last = next > hi;
    const to = last ? hi : next;
    chunks.push({
      id: `range_${from}_${to}${last ? '_incl' : ''}`,
      kind: 'range',
      column,
      from: String(from),
      to: String(to),
      lastInclusive: last,
    });
  }
  return chunks;
}

export function planHashBuckets(columns: string[], buckets: number): ChunkSpec[] {
  if (buckets <= 1) return [ALL_CHUNK];
  return Array.from({ length: buckets }, (_, bucket) => ({
    id: `hash_${bucket}_of_${buckets}`,
    kind: 'hash' as const,
    columns,
    buckets,
    bucket,
  }));
}
