import type pg from 'pg';
import { checkout, quoteIdent, type Queryable } from './checkpoints.js';

/**
 * Target-side bookkeeping of incremental sync, next to the load's chunks and
 * quarantine. `sync_marks` holds one high-water mark per target table; it is
 * written in the transaction that applies the window it ends, so a crash
 * before COMMIT replays the same window and never skips one. `sync_ranges`
 * books the key ranges one sync (load_id = `<runId>/<stepId>`) has compared,
 * each in the transaction of its deletes, so a retried step goes on where it
 * stopped.
 */
export async function ensureSyncTables(pool: pg.Pool, schema: string): Promise<void> {
  const s = quoteIdent(schema);
  const client = await checkout(pool);
  let clean = false;
  try {
    await client.query('BEGIN');
    // Same lock as ensureCheckpointTables: concurrent CREATE … IF NOT EXISTS can collide on the catalog.
    await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`cutover_etl:${schema}`]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
    await client.query(`CREATE TABLE IF NOT EXISTS ${s}.sync_marks (
      target_table text PRIMARY KEY, watermark_column text NOT NULL, mark text,
      synced_at timestamptz NOT NULL DEFAULT clock_timestamp(), load_id text NOT NULL)`);
    await client.query(`CREATE TABLE IF NOT EXISTS ${s}.sync_ranges (
      load_id text NOT NULL, target_table text NOT NULL, range_id text NOT NULL,
      source_rows bigint, deleted bigint NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp(),
      PRIMARY KEY (load_id, target_table, range_id))`);
    await client.query('COMMIT');
    clean = true;
  } finally {
    client.release(!clean);
  }
}

export interface StoredMark {
  column: string;
  /** null: the column held no value when the mark was taken (an empty table). */
  mark: string | null;
  syncedAt: Date;
}

/** One transaction at a time per table syncs it: the window it reads starts at the mark it locked. */
export async function lockTable(db: Queryable, table: string): Promise<void> {
  await db.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`cutover_sync\u0001${table}`]);
}

export async function readMark(db: Queryable, schema: string, table: string): Promise<StoredMark | null> {
  const { rows } = await db.query<{ watermark_column: string; mark: string | null; synced_at: Date }>(
    `SELECT watermark_column, mark, synced_at FROM ${quoteIdent(schema)}.sync_marks WHERE target_table = $1`,
    [table],
  );
  const r = rows[0];
  return r ? { column: r.watermark_column, mark: r.mark, syncedAt: r.synced_at } : null;
}

export async function storeMark(db: Queryable, schema: string, row: { table: string; column: string; mark: string | null; loadId: string }): Promise<void> {
  await db.query(
    `INSERT INTO ${quoteIdent(schema)}.sync_marks (target_table, watermark_column, mark, load_id) VALUES ($1, $2, $3, $4)
     ON CONFLICT (target_table) DO UPDATE SET watermark_column = EXCLUDED.watermark_column, mark = EXCLUDED.mark,
       synced_at = clock_timestamp(), load_id = EXCLUDED.load_id`,
    [row.table, row.column, row.mark, row.loadId],
  );
}

export async function bookedRanges(db: Queryable, schema: string, loadId: string, table: string): Promise<Set<string>> {
  const { rows } = await db.query<{ range_id: string }>(
    `SELECT range_id FROM ${quoteIdent(schema)}.sync_ranges WHERE load_id = $1 AND target_table = $2`,
    [loadId, table],
  );
  return new Set(rows.map((r) => r.range_id));
}

export async function bookRange(
  db: Queryable,
  schema: string,
  row: { loadId: string; table: string; rangeId: string; sourceRows: number | null; deleted: number },
): Promise<void> {
  await db.query(
    `INSERT INTO ${quoteIdent(schema)}.sync_ranges (load_id, target_table, range_id, source_rows, deleted) VALUES ($1, $2, $3, $4, $5)`,
    [row.loadId, row.table, row.rangeId, row.sourceRows, row.deleted],
  );
}

/**
 * The later of two marks of one column. Marks of a column share one text form
 * (fixed-width hex, or style 121 whose fraction may be cut), so padding the
 * fraction makes text order time order. A mark never moves back: MAX(column)
 * drops when the newest row is deleted, and the rows above it were read.
 */
export function laterMark(a: string | null, b: string | null): string | null {
  if (a === null) return b;
  if (b === null) return a;
  const norm = (m: string): string => (m.startsWith('0x') ? m.toUpperCase() : m.includes('.') ? m.padEnd(27, '0') : `${m}.0000000`);
  return norm(b) > norm(a) ? b : a;
}
