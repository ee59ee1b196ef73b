import type pg from 'pg';
import type { CutoverError } from '../../runbook/errors.js';
import { asCutoverError } from '../../runbook/errors.js';
import { cancelledError } from '../action.js';
import { bookedName, checkout, checkpointsOf, DEFAULT_ETL_SCHEMA, ensureCheckpointTables, hasCheckpoint, quoteIdent, quoteTable } from './checkpoints.js';
import type { ChunkSpec, EncodedSource, TableMapping } from './contracts.js';
import { loadChunk, type ChunkResult } from './copy-chunk.js';
import { LoadTally, type LoadProgress, type LoadReport } from './load-report.js';

export type { LoadProgress, LoadReport } from './load-report.js';

export interface LoadTablesOptions {
  pool: pg.Pool;
  source: EncodedSource;
  tables: TableMapping[];
  /** One load (e.g. `<runId>/<stepId>`): running it again resumes, a new id starts over. */
  loadId: string;
  chunkRows: number;
  /** Chunks in flight at once, across all tables (default 2). */
  parallel?: number;
  signal: AbortSignal;
  /** Called at most once per second while rows move. */
  onProgress?: (p: LoadProgress) => void;
  /** Called when this load commits a chunk (not for one booked earlier), with its table's rows/s so far. Must not throw. */
  onChunkCommitted?: (table: string, chunk: CommittedChunk) => void;
  /** Bookkeeping schema, default cutover_etl. */
  schema?: string;
  /**
   * 'if-fresh': empty a table before its first chunk when nothing of this
   * load is booked for it (a previous attempt's leftovers, a rehearsal).
   * A one-chunk table is truncated in its own COPY transaction and loaded
   * with FREEZE (unless freeze is false).
   */
  truncate?: 'never' | 'if-fresh';
  /**
   * Measured (bench/etl-load.ts, 1M Antrag rows, wal_level=replica): the load
   * itself is no faster, but the VACUUM (FREEZE) that anti-wraparound would do
   * later drops from 0.4–1.5 s to 0 (no second write of every page, and its
   * WAL). Skipping the load's WAL needs wal_level=minimal. Only one-chunk
   * tables qualify: FREEZE requires the TRUNCATE in the same transaction.
   */
  freeze?: boolean;
  /** Per chunk; beyond it the table fails (its mapping is probably wrong) and the others go on. Default 1000. */
  maxRejectedRows?: number;
  /** See LoadChunkOptions.sessionTimeZone. */
  sessionTimeZone?: string | null;
}

export interface CommittedChunk {
  rows: number;
  quarantined: number;
  /** The table's rows committed by this load / seconds since its first chunk started. */
  tableRowsPerSecond: number;
}

/** A chunk a load still owes: one the checkpoints do not book yet. */
export interface OwedChunk {
  table: TableMapping;
  chunk: ChunkSpec;
  single: boolean;
}

/**
 * The chunks a load still owes, largest tables first; chunks an earlier attempt booked count as skipped in the
 * tally. Shared by a load on one worker and a load fanned out over many, so both resume alike.
 */
export async function owedChunks(
  o: Pick<LoadTablesOptions, 'pool' | 'loadId' | 'tables' | 'chunkRows'> & { source: Pick<EncodedSource, 'planChunks'> },
  schema: string,
  tally: LoadTally,
): Promise<OwedChunk[]> {
  const booked = await checkpointsOf(o.pool, o.loadId, schema);
  const owed: OwedChunk[] = [];
  for (const table of [...o.tables].sort((a, b) => b.rowCount - a.rowCount)) {
    const chunks = await o.source.planChunks(table, o.chunkRows);
    const name = bookedName(table.target);
    const done = booked.get(name) ?? new Map();
    tally.planned(name, chunks.length);
    for (const chunk of chunks) {
      const before = done.get(chunk.id);
      if (before) tally.skipped(name, before);
      else owed.push({ table, chunk, single: chunks.length === 1 });
    }
  }
  return owed;
}

/**
 * Empties a table unless this load already booked a chunk of it. The lock comes
 * first: in-flight chunk transactions of other workers finish (and become
 * visible) before the check, so a committed chunk is never truncated away.
 */
export async function truncateIfFresh(pool: pg.Pool, table: TableMapping, loadId: string, schema: string): Promise<void> {
  const client = await checkout(pool);
  let inTx = false;
  try {
    await client.query('BEGIN');
    inTx = true;
    await client.query(`LOCK TABLE ${quoteTable(table.target)} IN ACCESS EXCLUSIVE MODE`);
    if (!(await hasCheckpoint(client, schema, loadId, bookedName(table.target)))) await client.query(`TRUNCATE ${quoteTable(table.target)}`);
    await client.query('COMMIT');
    inTx = false;
  } finally {
    client.release(inTx);
  }
}

/**
 * Loads tables chunk by chunk with a bounded pool, skipping chunks this load
 * already committed. Never throws: rows PostgreSQL refuses are quarantined, a
 * table whose chunk refuses too many rows is reported failed while the others
 * go on, and an infrastructure error (connection, permission, source, cancel)
 * stops the load and comes back in report.error. Largest tables go first so
 * the pool does not end on one long table.
 */
export async function loadTables(o: LoadTablesOptions): Promise<LoadReport> {
  const schema = o.schema ?? DEFAULT_ETL_SCHEMA;
  const tally = new LoadTally(o.tables.map((t) => ({ table: bookedName(t.target), expectedRows: t.rowCount })));
  let timer: NodeJS.Timeout | undefined;
  try {
    if (o.signal.aborted) throw cancelledError('etl', o.signal, 'The load');
    await ensureCheckpointTables(o.pool, schema);
    const tasks = await owedChunks(o, schema, tally);
    if (o.onProgress) {
      const onProgress = o.onProgress;
      timer = setInterval(() => tally.changed() && onProgress(tally.progress()), 1000);
      timer.unref();
    }
    const error = await runPool(o, schema, tasks, tally);
    return tally.report(error);
  } catch (err) {
    return tally.report(o.signal.aborted ? cancelledError('etl', o.signal, 'The load') : asCutoverError(err, 'etl.load-failed'));
  } finally {
    clearInterval(timer);
  }
}

async function runPool(o: LoadTablesOptions, schema: string, tasks: OwedChunk[], tally: LoadTally): Promise<CutoverError | null> {
  let fatal: CutoverError | null = null;
  let next = 0;
  const prepared = new Map<string, Promise<void>>();
  const prepare = (t: OwedChunk): Promise<void> => {
    const name = bookedName(t.table.target);
    const inChunk = t.single && o.freeze !== false;
    if (o.truncate !== 'if-fresh' || inChunk) return Promise.resolve();
    // Only when none of the table's chunks was booked: then every chunk of it is still to come.
    if (tally.table(name).chunksSkipped > 0) return Promise.resolve();
    let p = prepared.get(name);
    if (!p) prepared.set(name, (p = truncateIfFresh(o.pool, t.table, o.loadId, schema)));
    return p;
  };
  const worker = async (): Promise<void> => {
    while (!fatal && next < tasks.length) {
      const task = tasks[next++] as OwedChunk;
      const name = bookedName(task.table.target);
      if (tally.table(name).error) continue;
      try {
        await prepare(task);
        tally.started(name);
        const result: ChunkResult = await loadChunk(o.pool, {
          loadId: o.loadId,
          table: task.table,
          chunk: task.chunk,
          open: () => o.source.openChunk(task.table, task.chunk, o.signal),
          signal: o.signal,
          onRows: (n) => tally.streaming(name, task.chunk.id, n),
          schema,
          truncateIfFresh: o.truncate === 'if-fresh' && task.single && o.freeze !== false,
          maxRejectedRows: o.maxRejectedRows,
          sessionTimeZone: o.sessionTimeZone ?? null,
        });
        tally.finished(name, task.chunk.id, result);
        if (result.status === 'loaded') committed(o, name, { rows: result.rows, quarantined: result.quarantined, tableRowsPerSecond: tally.rowsPerSecond(name) });
      } catch (err) {
        const e = asCutoverError(err, 'etl.copy-failed');
        tally.streaming(name, task.chunk.id, 0);
        if (e.code === 'etl.too-many-rejected') tally.failed(name, e.userMessage);
        else fatal ??= e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, o.parallel ?? 2) }, worker));
  return fatal;
}

/** The chunk is committed whatever the listener does: its failure (a metrics bug) must not fail the load. */
function committed(o: LoadTablesOptions, table: string, chunk: CommittedChunk): void {
  try {
    o.onChunkCommitted?.(table, chunk);
  } catch {
    // Nothing to undo, and nothing the load could do about it.
  }
}

export interface TableReconciliation {
  table: string;
  /** count(*) of the target table. */
  targetRows: number;
  /** Sum of the load's checkpoint rows. */
  loadedRows: number;
  /** Quarantine rows of the load. */
  quarantined: number;
  /** loaded + quarantined: must equal the source's exact count. */
  accounted: number;
  /** Target holds exactly the booked rows, and the booked quarantine counts match the quarantine table. */
  consistent: boolean;
}

/** Target counts against the load's books; the caller compares `accounted` with the source's exact counts. */
export async function reconcileCounts(pool: pg.Pool, tables: TableMapping[], loadId: string, schema = DEFAULT_ETL_SCHEMA): Promise<TableReconciliation[]> {
  const s = quoteIdent(schema);
  const out: TableReconciliation[] = [];
  for (const t of tables) {
    const name = bookedName(t.target);
    const { rows } = await pool.query<{ target: string; loaded: string | null; booked_q: string | null; quarantined: string }>(
      `SELECT (SELECT count(*) FROM ${quoteTable(t.target)}) AS target,
              (SELECT sum(rows) FROM ${s}.chunks WHERE load_id = $1 AND table_name = $2) AS loaded,
              (SELECT sum(quarantined) FROM ${s}.chunks WHERE load_id = $1 AND table_name = $2) AS booked_q,
              (SELECT count(*) FROM ${s}.quarantine WHERE load_id = $1 AND table_name = $2) AS quarantined`,
      [loadId, name],
    );
    const r = rows[0];
    const targetRows = Number(r?.target ?? 0);
    const loadedRows = Number(r?.loaded ?? 0);
    const quarantined = Number(r?.quarantined ?? 0);
    const consistent = targetRows === loadedRows && quarantined === Number(r?.booked_q ?? 0);
    out.push({ table: name, targetRows, loadedRows, quarantined, accounted: loadedRows + quarantined, consistent });
  }
  return out;
}
