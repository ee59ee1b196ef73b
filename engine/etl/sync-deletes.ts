import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { CutoverError } from '../../runbook/errors.js';
import { cancelledError } from '../action.js';
import { bookedName, checkout } from './checkpoints.js';
import type { ChunkSpec, QuarantineRecord, TableMapping } from './contracts.js';
import { createEncoder } from './encoder.js';
import type { KeySummary, SyncSource } from './sync-contracts.js';
import { bookedRanges, bookRange, lockTable } from './sync-marks.js';
import { copyKeysSql, createKeysTable, deleteMissingSql, SYNC_KEYS, targetSummarySql } from './sync-sql.js';

export interface DeleteMissingOptions {
  pool: pg.Pool;
  source: SyncSource;
  table: TableMapping;
  loadId: string;
  schema: string;
  signal: AbortSignal;
  /** About this many keys per range. */
  chunkRows: number;
  dryRun: boolean;
}

export interface DeletedRows {
  ranges: number;
  /** Ranges whose key sets differed (or could not be summed) and were listed key by key. */
  listed: number;
  deleted: number;
}

const MIN_BIGINT = '-9223372036854775808';
const MAX_BIGINT = '9223372036854775807';

/**
 * The ranges keys are compared in. An integer key splits by range as the
 * source plans its chunks, with the outer ranges opened to the ends of bigint:
 * the target may hold keys beyond the source's current minimum and maximum
 * (exactly the rows deleted there). Other keys are compared as one range:
 * SQL Server and PostgreSQL sort them differently and share no hash.
 */
export async function deleteRanges(source: SyncSource, table: TableMapping, chunkRows: number): Promise<ChunkSpec[]> {
  if (table.key?.kind !== 'integer' || table.key.columns.length !== 1) return [{ id: 'all', kind: 'all' }];
  const planned = await source.planChunks(table, chunkRows);
  if (planned.length === 1 || planned.some((c) => c.kind !== 'range')) return [{ id: 'all', kind: 'all' }];
  return planned.map((c, i) => (c.kind === 'range' ? { ...c, ...(i === 0 ? { from: MIN_BIGINT } : {}), ...(i === planned.length - 1 ? { to: MAX_BIGINT, lastInclusive: true } : {}) } : c));
}

/**
 * Removes target rows whose key the source no longer has. Must run after the
 * table's changes are applied: every target row then existed at the source
 * when the mark was taken, so a key missing from the source now was deleted
 * there. Per range, in one transaction with the range's booking: integer
 * ranges compare count and key sums first and list keys only where they
 * differ; the source's keys are COPYed into a temporary table and the target
 * rows without a partner are deleted.
 */
export async function deleteMissing(o: DeleteMissingOptions): Promise<DeletedRows> {
  const name = bookedName(o.table.target);
  const ranges = await deleteRanges(o.source, o.table, o.chunkRows);
  const done = await bookedRanges(o.pool, o.schema, o.loadId, name);
  const out: DeletedRows = { ranges: ranges.length, listed: 0, deleted: 0 };
  for (const range of ranges) {
    if (done.has(range.id)) continue;
    if (o.signal.aborted) throw cancelledError('etl', o.signal, `Comparing the keys of ${name}`);
    const r = await compareRange(o, name, range);
    out.listed += r.listed ? 1 : 0;
    out.deleted += r.deleted;
  }
  return out;
}

async function compareRange(o: DeleteMissingOptions, name: string, range: ChunkSpec): Promise<{ listed: boolean; deleted: number }> {
  const client = await checkout(o.pool);
  const tx = { open: false };
  try {
    await client.query('BEGIN');
    tx.open = true;
    await lockTable(client, name);
    // Booked since this attempt read the list: another attempt of the step (a worker that lost the job's lock) compared it first.
    if ((await bookedRanges(client, o.schema, o.loadId, name)).has(range.id)) {
      await client.query('ROLLBACK');
      tx.open = false;
      return { listed: false, deleted: 0 };
    }
    const summed = o.table.key?.kind === 'integer' && o.table.key.columns.length === 1;
    const source = summed ? await o.source.summarizeKeys(o.table, range) : null;
    let result = { listed: false, deleted: 0 };
    if (!source || !sameSummary(source, await summaryOf(client, o.table, range))) {
      result = { listed: true, deleted: await deleteUnmatched(client, o, range) };
    }
    await bookRange(client, o.schema, { loadId: o.loadId, table: name, rangeId: range.id, sourceRows: source ? Number(source.count) : null, deleted: result.deleted });
    await client.query(o.dryRun ? 'ROLLBACK' : 'COMMIT');
    tx.open = false;
    return result;
  } catch (err) {
    if (tx.open) await client.query('ROLLBACK').then(() => (tx.open = false), () => undefined);
    if (o.signal.aborted) throw cancelledError('etl', o.signal, `Comparing the keys of ${name}`);
    if (err instanceof CutoverError) throw err;
    throw new CutoverError('etl.sync-failed', `Comparing the keys of ${name} (${range.id}) failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  } finally {
    client.release(tx.open);
  }
}

const sameSummary = (a: KeySummary, b: KeySummary): boolean => a.count === b.count && a.sum === b.sum && a.sumSquares === b.sumSquares;

async function summaryOf(client: pg.PoolClient, table: TableMapping, range: ChunkSpec): Promise<KeySummary> {
  const sql = targetSummarySql(table, range);
  const row = (await client.query<{ n: string; s: string; q: string }>(sql.text, sql.params)).rows[0];
  return { count: row?.n ?? '0', sum: row?.s ?? '0', sumSquares: row?.q ?? '0' };
}

async function deleteUnmatched(client: pg.PoolClient, o: DeleteMissingOptions, range: ChunkSpec): Promise<number> {
  await client.query(createKeysTable(o.table));
  // A key the encoder refuses (a NUL in a text key) cannot be in the target either: the full load refused its row.
  const refused: QuarantineRecord[] = [];
  const keysOnly: TableMapping = { ...o.table, columns: o.table.columns.filter((c) => o.table.key?.columns.includes(c.source)) };
  // Key columns in key order, as readKeys sends them.
  keysOnly.columns.sort((a, b) => (o.table.key?.columns.indexOf(a.source) ?? 0) - (o.table.key?.columns.indexOf(b.source) ?? 0));
  const copy = client.query(copyFrom(copyKeysSql(o.table)));
  await pipeline(o.source.readKeys(o.table, range, o.signal), createEncoder(keysOnly, refused), copy, { signal: o.signal });
  // Temporary tables are never analysed by autovacuum; without statistics the anti-join may be planned as a nested loop.
  await client.query(`ANALYZE ${SYNC_KEYS}`);
  const del = deleteMissingSql(o.table, range);
  return (await client.query(del.text, del.params)).rowCount ?? 0;
}
