import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { CutoverError } from '../../runbook/errors.js';
import { cancelledError } from '../action.js';
import { bookedName, checkout, DEFAULT_ETL_SCHEMA, hasCheckpoint, insertCheckpoint, insertQuarantine, quoteIdent, quoteTable } from './checkpoints.js';
import type { ChunkSpec, EncodedChunk, QuarantineRecord, TableMapping } from './contracts.js';
import { faultPoint } from '../fault-injection.js';
import { bisectLines, isRowError, readLines } from './copy-bisect.js';

export interface LoadChunkOptions {
  /** One load (e.g. `<runId>/<stepId>`): a retry of it skips what it committed. */
  loadId: string;
  table: TableMapping;
  chunk: ChunkSpec;
  /** Opens the chunk's COPY text; called again (once) when a row is refused. */
  open: () => Promise<EncodedChunk>;
  signal: AbortSignal;
  /** Rows of this chunk sent so far; starts again from 0 when the chunk is re-sent. */
  onRows?: (rows: number) => void;
  /** Bookkeeping schema (default cutover_etl); its tables must exist (ensureCheckpointTables). */
  schema?: string;
  /**
   * TRUNCATE the table in the chunk's own transaction when nothing of this load
   * is booked for it, then COPY … FREEZE (allowed only then). Meant for a
   * table loaded as one chunk; with several chunks, later ones would undo earlier ones.
   */
  truncateIfFresh?: boolean;
  /** More refused rows than this in one chunk fail it (a wrong mapping, not bad rows). Default 1000. */
  maxRejectedRows?: number;
  /**
   * The runbook's time-zone rule: wall-clock source times are read as instants in
   * this zone (SET LOCAL TimeZone for the chunk's transaction). Null: session default.
   */
  sessionTimeZone?: string | null;
}

export interface ChunkResult {
  status: 'loaded' | 'skipped';
  /** Rows committed (for a skipped chunk: as booked by the load that committed it). */
  rows: number;
  quarantined: number;
  bytes: number;
  seconds: number;
  /** A row was refused and the chunk was loaded piecewise. */
  bisected: boolean;
  frozen: boolean;
}

const copySql = (t: TableMapping, freeze: boolean): string =>
  `COPY ${quoteTable(t.target)} (${t.columns.map((c) => quoteIdent(c.target)).join(', ')}) FROM STDIN${freeze ? ' WITH (FREEZE)' : ''}`;

/** Counts bytes and rows on the way through; passes every piece on as it comes (no buffering). */
function counter(onRows?: (rows: number) => void): Transform & { rows: number; bytes: number } {
  const t = new Transform({
    transform(piece: Buffer, _enc, cb) {
      t.bytes += piece.length;
      for (let i = piece.indexOf(10); i !== -1; i = piece.indexOf(10, i + 1)) t.rows++;
      onRows?.(t.rows);
      cb(null, piece);
    },
  }) as Transform & { rows: number; bytes: number };
  t.rows = 0;
  t.bytes = 0;
  return t;
}

async function copyStream(client: pg.PoolClient, sql: string, stream: Readable, o: LoadChunkOptions): Promise<{ rows: number; bytes: number }> {
  const count = counter(o.onRows);
  const copy = client.query(copyFrom(sql));
  await pipeline(stream, count, copy, { signal: o.signal });
  return { rows: copy.rowCount, bytes: count.bytes };
}

type Opened = { skipped: { rows: number; quarantined: number; bytes: number } | null; freeze: boolean };

/**
 * After BEGIN: serialise on the chunk (several workers or processes may hold
 * the same plan), then skip it if booked, else optionally truncate a fresh table.
 */
async function openChunkTx(client: pg.PoolClient, o: LoadChunkOptions, schema: string, allowFreeze: boolean): Promise<Opened> {
  const table = bookedName(o.table.target);
  if (o.sessionTimeZone) await client.query("SELECT set_config('TimeZone', $1, true)", [o.sessionTimeZone]);
  await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`${o.loadId}\u0001${table}\u0001${o.chunk.id}`]);
  const booked = await client.query<{ rows: string; quarantined: string; bytes: string }>(
    `SELECT rows, quarantined, bytes FROM ${quoteIdent(schema)}.chunks WHERE load_id = $1 AND table_name = $2 AND chunk_id = $3`,
    [o.loadId, table, o.chunk.id],
  );
  const b = booked.rows[0];
  if (b) return { skipped: { rows: Number(b.rows), quarantined: Number(b.quarantined), bytes: Number(b.bytes) }, freeze: false };
  if (o.truncateIfFresh && !(await hasCheckpoint(client, schema, o.loadId, table))) {
    await client.query(`TRUNCATE ${quoteTable(o.table.target)}`);
    return { skipped: null, freeze: allowFreeze };
  }
  return { skipped: null, freeze: false };
}

/**
 * Loads one chunk exactly once: its rows, the rows the encoder refused and its
 * checkpoint commit in one transaction on one client. A booked chunk is
 * skipped; a crash or error before COMMIT leaves nothing. Refused rows
 * (SQLSTATE class 22/23) are quarantined by splitting the chunk; any other
 * error propagates as a CutoverError (etl.cancelled, etl.copy-failed).
 */
export async function loadChunk(pool: pg.Pool, o: LoadChunkOptions): Promise<ChunkResult> {
  const what = `chunk ${o.chunk.id} of ${bookedName(o.table.target)}`;
  if (o.signal.aborted) throw cancelledError('etl', o.signal, `Loading ${what}`);
  const client = await checkout(pool);
  // open while a transaction may be open; a client released in that state is destroyed, not reused.
  const tx = { open: false };
  try {
    return await loadInTx(client, o, o.schema ?? DEFAULT_ETL_SCHEMA, tx);
  } catch (err) {
    if (tx.open) {
      // If this fails too, the connection is gone or confused: release(true) destroys it and PostgreSQL rolls back on its own.
      await client.query('ROLLBACK').then(() => (tx.open = false), () => undefined);
    }
    if (o.signal.aborted) throw cancelledError('etl', o.signal, `Loading ${what}`);
    if (err instanceof CutoverError) throw err;
    const message = err instanceof Error ? err.message : String(err);
    throw new CutoverError('etl.copy-failed', `Loading ${what} failed: ${message}`, { cause: err });
  } finally {
    client.release(tx.open);
  }
}

async function loadInTx(client: pg.PoolClient, o: LoadChunkOptions, schema: string, tx: { open: boolean }): Promise<ChunkResult> {
  const started = new Date();
  const t0 = performance.now();
  await client.query('BEGIN');
  tx.open = true;
  let opened = await openChunkTx(client, o, schema, true);
  let result: { rows: number; bytes: number; quarantined: QuarantineRecord[]; bisected: boolean } | null = null;
  if (!opened.skipped) {
    try {
      const encoded = await o.open();
      const copied = await copyStream(client, copySql(o.table, opened.freeze), encoded.stream, o);
      result = { ...copied, quarantined: encoded.quarantined, bisected: false };
    } catch (err) {
      if (!isRowError(err)) throw err;
      await client.query('ROLLBACK');
      await client.query('BEGIN');
      // FREEZE is refused inside a savepoint; the piecewise load goes without it.
      opened = await openChunkTx(client, o, schema, false);
      if (!opened.skipped) result = await loadPiecewise(client, o);
    }
  }
  if (opened.skipped || !result) {
    await client.query('COMMIT');
    tx.open = false;
    const s = opened.skipped ?? { rows: 0, quarantined: 0, bytes: 0 };
    return { status: 'skipped', ...s, seconds: (performance.now() - t0) / 1000, bisected: false, frozen: false };
  }
  const at = { loadId: o.loadId, table: bookedName(o.table.target), chunkId: o.chunk.id };
  const { rows, bytes, bisected, quarantined } = result;
  await insertQuarantine(client, schema, at, quarantined);
  await insertCheckpoint(client, schema, { ...at, rows, quarantined: quarantined.length, bytes, startedAt: started });
  // A step's load id is `<runId>/<stepId>` (loadIdOf), so the step is its last segment.
  faultPoint('in-effect', o.loadId.slice(o.loadId.lastIndexOf('/') + 1));
  await client.query('COMMIT');
  tx.open = false;
  return { status: 'loaded', rows, bytes, quarantined: quarantined.length, seconds: (performance.now() - t0) / 1000, bisected, frozen: opened.freeze };
}

async function loadPiecewise(client: pg.PoolClient, o: LoadChunkOptions) {
  const encoded = await o.open();
  const { lines, bytes } = await readLines(encoded.stream);
  o.onRows?.(0);
  const { rows, quarantined } = await bisectLines(client, copySql(o.table, false), o.table, lines, o.signal, o.maxRejectedRows ?? 1000);
  o.onRows?.(rows);
  return { rows, bytes, quarantined: [...encoded.quarantined, ...quarantined], bisected: true };
}
