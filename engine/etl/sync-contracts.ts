import type { Readable } from 'node:stream';
import type { ChunkSpec, SourceAdapter, TableMapping } from './contracts.js';

/**
 * The source side of incremental sync (etl.sync). A table's changes are read
 * by a high-water mark, either SQL Server's rowversion or a modified-at
 * column the runbook names.
 *
 * Marks are text so they can be stored in the target unchanged:
 *   rowversion  '0x' + 16 hex digits (the binary(8) value)
 *   timestamp   'YYYY-MM-DD hh:mm:ss[.fffffff]' (the column's wall-clock value, style 121)
 *
 * Rows changed while a sync reads are never lost because the new mark is
 * taken BEFORE reading and the read is bounded by it: a sync reads
 * `mark > after AND mark <= upTo`, and anything committed later carries a
 * mark above upTo and belongs to the next window.
 *  - rowversion: upTo is MIN_ACTIVE_ROWVERSION() - 1. Every value below
 *    MIN_ACTIVE_ROWVERSION() belongs to a committed transaction, so no row
 *    can still appear at or below upTo (@@DBTS could: an open transaction
 *    may hold a lower value and commit after the read).
 *  - timestamp: upTo is MAX(column) at the start. The application sets the
 *    column before its transaction commits, so a row can become visible with
 *    a value at or below a mark already taken; the next window starts
 *    `overlapMs` before the previous mark to take such rows along (upserts
 *    are idempotent, re-reading is harmless).
 */
export type WatermarkKind = 'rowversion' | 'timestamp';

export interface Watermark {
  /** Source column name. */
  column: string;
  kind: WatermarkKind;
}

export interface SyncWindow extends Watermark {
  /** Previous mark, exclusive; null: from the beginning. */
  after: string | null;
  /** New mark, inclusive, taken by highWaterMark() before reading; null: the column holds no value yet. */
  upTo: string | null;
  /** timestamp only: the window starts this much before `after`. */
  overlapMs: number;
}

/**
 * Count and sums of an integer key over a range, computed by each database
 * (the same figures on SQL Server and PostgreSQL): equal figures mean equal
 * key sets for all practical purposes, so only differing ranges are listed.
 * Decimal strings: the sums exceed what a JavaScript number holds.
 */
export interface KeySummary {
  count: string;
  sum: string;
  /** Sum of (key mod 2147483647)², which tells apart sets with equal count and sum. */
  sumSquares: string;
}

export interface SyncSource extends SourceAdapter {
  /** The mark a sync of this table reads up to, taken before reading (see above). */
  highWaterMark(table: TableMapping, watermark: Watermark): Promise<string | null>;
  /**
   * Rows changed inside the window as an object-mode Readable of SourceRows or
   * RowBatches (as readChunk) in the mapping's column order, with backpressure; destroying it cancels the
   * query. Rows whose modified-at column is NULL are always included: they
   * can never be found by a mark.
   */
  readChanged(table: TableMapping, window: SyncWindow, signal: AbortSignal): Readable;
  /**
   * Key values of a range (kind 'range' or 'all') as SourceRows (or
   * RowBatches of them) of the key columns in key order; ascending for an integer key.
   */
  readKeys(table: TableMapping, range: ChunkSpec, signal: AbortSignal): Readable;
  /** KeySummary of an integer key over a range (kind 'range' or 'all'). */
  summarizeKeys(table: TableMapping, range: ChunkSpec): Promise<KeySummary>;
}
