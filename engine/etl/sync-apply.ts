import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { CutoverError } from '../../runbook/errors.js';
import { cancelledError } from '../action.js';
import { faultPoint } from '../fault-injection.js';
import { bookedName, checkout, insertQuarantine } from './checkpoints.js';
import type { QuarantineRecord, TableMapping } from './contracts.js';
import { bisectLines, isRowError, readLines } from './copy-bisect.js';
import { createEncoder } from './encoder.js';
import type { SyncSource, SyncWindow, Watermark } from './sync-contracts.js';
import { laterMark, lockTable, readMark, storeMark } from './sync-marks.js';
import { copyRowsSql, createRowsTable, targetShape } from './sync-sql.js';
import { upsertRows } from './sync-upsert.js';

export interface ApplyChangesOptions {
  pool: pg.Pool;
  source: SyncSource;
  table: TableMapping;
  watermark: Watermark & { overlapMs: number };
  /** `<runId>/<stepId>`: names the quarantine rows and the mark's writer. */
  loadId: string;
  /** Bookkeeping schema (cutover_etl); ensureCheckpointTables and ensureSyncTables must have run. */
  schema: string;
  signal: AbortSignal;
  /** Only record the mark taken now (a full copy follows); refuse nothing, read nothing. */
  initial: boolean;
  /** Do all the work, then roll back: counts without writing. */
  dryRun: boolean;
  sessionTimeZone: string | null;
  maxRejectedRows: number;
}

export interface AppliedChanges {
  status: 'synced' | 'marked';
  window: { after: string | null; upTo: string | null };
  /** Changed rows read from the source (a row read twice counts twice). */
  read: number;
  /** Rows inserted or changed in the target; rows read but already equal are not counted. */
  upserted: number;
  quarantined: number;
}

/**
 * Applies one table's changes since its stored mark, in one transaction: lock
 * the table's sync, read the stored mark, take the new one from the source,
 * COPY the window's rows into a temporary table, upsert them by key, and
 * store the new mark. A crash or cancel before COMMIT leaves the old mark, so
 * the next attempt replays the same window (upserts are idempotent).
 */
export async function applyChanges(o: ApplyChangesOptions): Promise<AppliedChanges> {
  const name = bookedName(o.table.target);
  if (o.signal.aborted) throw cancelledError('etl', o.signal, `Syncing ${name}`);
  const client = await checkout(o.pool);
  const tx = { open: false };
  try {
    await client.query('BEGIN');
    tx.open = true;
    const result = await applyInTx(client, o, name);
    // The window's rows and its new mark are written, not committed; a step's load id is `<runId>/<stepId>`.
    if (!o.dryRun) faultPoint('in-effect', o.loadId.slice(o.loadId.lastIndexOf('/') + 1));
    await client.query(o.dryRun ? 'ROLLBACK' : 'COMMIT');
    tx.open = false;
    return result;
  } catch (err) {
    if (tx.open) await client.query('ROLLBACK').then(() => (tx.open = false), () => undefined);
    if (o.signal.aborted) throw cancelledError('etl', o.signal, `Syncing ${name}`);
    if (err instanceof CutoverError) throw err;
    throw new CutoverError('etl.sync-failed', `Syncing ${name} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  } finally {
    client.release(tx.open);
  }
}

async function applyInTx(client: pg.PoolClient, o: ApplyChangesOptions, name: string): Promise<AppliedChanges> {
  if (o.sessionTimeZone) await client.query("SELECT set_config('TimeZone', $1, true)", [o.sessionTimeZone]);
  await lockTable(client, name);
  const stored = await readMark(client, o.schema, name);
  const column = o.watermark.column;
  if (!o.initial) refuseWithoutMark(name, column, stored);
  // Taken before reading: see sync-contracts.ts for why this loses no row changed during the read.
  const upTo = await o.source.highWaterMark(o.table, o.watermark);
  if (o.initial) {
    await storeMark(client, o.schema, { table: name, column, mark: upTo, loadId: o.loadId });
    return { status: 'marked', window: { after: null, upTo }, read: 0, upserted: 0, quarantined: 0 };
  }
  const window: SyncWindow = { ...o.watermark, after: stored?.mark ?? null, upTo };
  await client.query(createRowsTable(o.table));
  const { read, quarantined } = await copyWindow(client, o, window);
  const upsert = await upsertRows(client, o.table, await targetShape(client, o.table), o.signal, o.maxRejectedRows);
  const refused = [...quarantined, ...upsert.quarantined];
  await insertQuarantine(client, o.schema, { loadId: o.loadId, table: name, chunkId: `sync ${window.after ?? 'start'}..${upTo ?? 'none'}` }, refused);
  await storeMark(client, o.schema, { table: name, column, mark: laterMark(window.after, upTo), loadId: o.loadId });
  return { status: 'synced', window: { after: window.after, upTo }, read, upserted: upsert.upserted, quarantined: refused.length };
}

function refuseWithoutMark(name: string, column: string, stored: { column: string } | null): void {
  if (!stored) {
    throw new CutoverError(
      'sync.no_mark',
      `${name} has no sync mark yet: the full copy must run first. Run etl.sync with initial: true right before the full etl.copy (it records where the copy starts), then etl.sync after it.`,
    );
  }
  if (stored.column !== column) {
    throw new CutoverError(
      'sync.mark_changed',
      `${name} was synced by ${stored.column}, now by ${column}: the stored mark means nothing for the new column. Record a new mark with initial: true before a full etl.copy.`,
    );
  }
}

/**
 * COPYs the window's rows into the temporary table. A row PostgreSQL refuses
 * aborts the COPY; then the window is read again and loaded piecewise
 * (bisection inside savepoints), the refused rows going to quarantine.
 */
async function copyWindow(client: pg.PoolClient, o: ApplyChangesOptions, window: SyncWindow): Promise<{ read: number; quarantined: QuarantineRecord[] }> {
  const sql = copyRowsSql(o.table);
  const open = (refused: QuarantineRecord[]): Readable => {
    const encoder = createEncoder(o.table, refused);
    // Errors surface on the encoder; the callback only keeps them from going unhandled.
    void pipeline(o.source.readChanged(o.table, window, o.signal), encoder).catch(() => undefined);
    return encoder;
  };
  const first: QuarantineRecord[] = [];
  await client.query('SAVEPOINT cutover_copy');
  try {
    const lines = lineCounter();
    const copy = client.query(copyFrom(sql));
    await pipeline(open(first), lines, copy, { signal: o.signal });
    await client.query('RELEASE SAVEPOINT cutover_copy');
    return { read: lines.rows + first.length, quarantined: first };
  } catch (err) {
    if (!isRowError(err)) throw err;
    await client.query('ROLLBACK TO SAVEPOINT cutover_copy');
  }
  const again: QuarantineRecord[] = [];
  const { lines } = await readLines(open(again));
  const { rows, quarantined } = await bisectLines(client, sql, o.table, lines, o.signal, o.maxRejectedRows);
  return { read: rows + quarantined.length + again.length, quarantined: [...again, ...quarantined] };
}

function lineCounter(): Transform & { rows: number } {
  const t = new Transform({
    transform(piece: Buffer, _enc, cb) {
      for (let i = piece.indexOf(10); i !== -1; i = piece.indexOf(10, i + 1)) t.rows++;
      cb(null, piece);
    },
  }) as Transform & { rows: number };
  t.rows = 0;
  return t;
}
