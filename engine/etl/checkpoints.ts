import type pg from 'pg';
import type { QuarantineRecord } from './contracts.js';

/**
 * Target-side bookkeeping of the ETL: one row per committed chunk and one per
 * quarantined source row. A chunk's checkpoint commits in the same transaction
 * as its rows, so "checkpoint exists" ⇔ "rows are there". `load_id` names one
 * load (e.g. `<runId>/<stepId>`): a retry of the step resumes, a new run starts
 * fresh.
 */
export const DEFAULT_ETL_SCHEMA = 'cutover_etl';

/** Anything that runs a query: a Pool or a checked-out client. */
export type Queryable = Pick<pg.ClientBase, 'query'>;

export const quoteIdent = (name: string): string => `"${name.replaceAll('"', '""')}"`;

/** "schema"."name", always quoted: names come from catalogs and runbooks, never trusted as SQL. */
export const quoteTable = (t: { schema: string; name: string }): string => `${quoteIdent(t.schema)}.${quoteIdent(t.name)}`;

/** The name a table is booked under in chunks.table_name and quarantine.table_name. */
export const bookedName = (t: { schema: string; name: string }): string => `${t.schema}.${t.name}`;

const guarded = new WeakSet<pg.PoolClient>();

/**
 * A client from the pool that cannot crash the process: pg emits 'error' on a
 * checked-out client whose connection dies, and an unheard 'error' event is
 * an uncaught exception. The failure still reaches us through the rejected
 * query; the caller then releases the client with release(true).
 */
export async function checkout(pool: pg.Pool): Promise<pg.PoolClient> {
  const client = await pool.connect();
  if (!guarded.has(client)) {
    client.on('error', () => {});
    guarded.add(client);
  }
  return client;
}

export interface CheckpointRow {
  loadId: string;
  table: string;
  chunkId: string;
  rows: number;
  quarantined: number;
  bytes: number;
  startedAt: Date;
}

/** Creates the schema and both tables if missing; safe to call from many processes at once. */
export async function ensureCheckpointTables(pool: pg.Pool, schema = DEFAULT_ETL_SCHEMA): Promise<void> {
  const s = quoteIdent(schema);
  const client = await checkout(pool);
  let clean = false;
  try {
    await client.query('BEGIN');
    // Concurrent CREATE … IF NOT EXISTS can still collide on the catalog's unique index; serialise them.
    await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`cutover_etl:${schema}`]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
    await client.query(`CREATE TABLE IF NOT EXISTS ${s}.chunks (
      load_id text NOT NULL, table_name text NOT NULL, chunk_id text NOT NULL,
      rows bigint NOT NULL, quarantined bigint NOT NULL, bytes bigint NOT NULL,
      started_at timestamptz NOT NULL, finished_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      PRIMARY KEY (load_id, table_name, chunk_id))`);
    await client.query(`CREATE TABLE IF NOT EXISTS ${s}.quarantine (
      id bigserial PRIMARY KEY, load_id text NOT NULL, table_name text NOT NULL, chunk_id text NOT NULL,
      key jsonb NOT NULL, column_name text, reason text NOT NULL, sample text NOT NULL,
      at timestamptz NOT NULL DEFAULT clock_timestamp())`);
    await client.query(`CREATE INDEX IF NOT EXISTS quarantine_load_idx ON ${s}.quarantine (load_id, table_name, chunk_id)`);
    await client.query('COMMIT');
    clean = true;
  } finally {
    client.release(!clean);
  }
}

/** Checkpoint rows of one load, by booked table name then chunk id. */
export async function checkpointsOf(
  db: Queryable,
  loadId: string,
  schema = DEFAULT_ETL_SCHEMA,
): Promise<Map<string, Map<string, { rows: number; quarantined: number; bytes: number }>>> {
  const { rows } = await db.query<{ table_name: string; chunk_id: string; rows: string; quarantined: string; bytes: string }>(
    `SELECT table_name, chunk_id, rows, quarantined, bytes FROM ${quoteIdent(schema)}.chunks WHERE load_id = $1`,
    [loadId],
  );
  const out = new Map<string, Map<string, { rows: number; quarantined: number; bytes: number }>>();
  for (const r of rows) {
    const perTable = out.get(r.table_name) ?? new Map();
    perTable.set(r.chunk_id, { rows: Number(r.rows), quarantined: Number(r.quarantined), bytes: Number(r.bytes) });
    out.set(r.table_name, perTable);
  }
  return out;
}

export async function hasCheckpoint(db: Queryable, schema: string, loadId: string, table: string, chunkId?: string): Promise<boolean> {
  const { rowCount } = await db.query(
    `SELECT 1 FROM ${quoteIdent(schema)}.chunks WHERE load_id = $1 AND table_name = $2 AND ($3::text IS NULL OR chunk_id = $3) LIMIT 1`,
    [loadId, table, chunkId ?? null],
  );
  return (rowCount ?? 0) > 0;
}

export async function insertCheckpoint(db: Queryable, schema: string, row: CheckpointRow): Promise<void> {
  await db.query(
    `INSERT INTO ${quoteIdent(schema)}.chunks (load_id, table_name, chunk_id, rows, quarantined, bytes, started_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [row.loadId, row.table, row.chunkId, row.rows, row.quarantined, row.bytes, row.startedAt],
  );
}

// jsonb and text cannot hold U+0000; a key or reason carrying one is shown as \0 rather than failing the chunk.
const noNul = (s: string): string => s.replaceAll('\u0000', '\\0');

export async function insertQuarantine(
  db: Queryable,
  schema: string,
  at: { loadId: string; table: string; chunkId: string },
  records: readonly QuarantineRecord[],
): Promise<void> {
  if (records.length === 0) return;
  const payload = records.map((r) => ({
    key: Object.fromEntries(Object.entries(r.key).map(([k, v]) => [noNul(k), v === null ? null : noNul(v)])),
    column_name: r.column === null ? null : noNul(r.column),
    reason: noNul(r.reason),
    sample: noNul(r.sample),
  }));
  await db.query(
    `INSERT INTO ${quoteIdent(schema)}.quarantine (load_id, table_name, chunk_id, key, column_name, reason, sample)
     SELECT $1, $2, $3, r.key, r.column_name, r.reason, r.sample
     FROM jsonb_to_recordset($4::jsonb) AS r(key jsonb, column_name text, reason text, sample text)`,
    [at.loadId, at.table, at.chunkId, JSON.stringify(payload)],
  );
}
