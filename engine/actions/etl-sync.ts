import type pg from 'pg';
import type { EtlSyncParams } from '../../runbook/actions/etl-sync.js';
import { asCutoverError, CutoverError } from '../../runbook/errors.js';
import { ActionError, cancelledError, type ActionContext, type ActionImpl } from '../action.js';
import { bookedName, DEFAULT_ETL_SCHEMA, ensureCheckpointTables, quoteIdent } from '../etl/checkpoints.js';
import { sessionZone } from '../etl/conversion-options.js';
import { applyChanges, type AppliedChanges } from '../etl/sync-apply.js';
import type { SyncSource } from '../etl/sync-contracts.js';
import { deleteMissing, type DeletedRows } from '../etl/sync-deletes.js';
import { ensureSyncTables, readMark } from '../etl/sync-marks.js';
import { MssqlSyncSource } from '../mssql/sync-source.js';
import { withConvertedSource } from './converted-source.js';
import { planSync, type TableSync } from './etl-sync-plan.js';
import { inParallel, loadIdOf } from './etl-sources.js';

/** Opens the sync source a runbook connection names; tests hand in another. */
export type SyncSourceFactory = (ctx: ActionContext, connection: string) => Promise<SyncSource>;

export const openMssqlSyncSource: SyncSourceFactory = async (ctx, connection) => {
  if (ctx.connections.kind(connection) !== 'mssql') {
    throw new CutoverError('etl.source_kind', `Connection "${connection}" is not a SQL Server connection; etl.sync reads from SQL Server (kind: mssql).`);
  }
  return new MssqlSyncSource(await ctx.connections.mssql(connection), { ownsPool: false });
};

interface TableOutcome {
  table: string;
  column: string;
  applied: AppliedChanges | null;
  deleted: DeletedRows | null;
  error: string | null;
}

const MAX_REJECTED_ROWS = 1000;

/**
 * Brings tables already fully copied up to date: per table, the rows changed
 * since its stored high-water mark are upserted by key and the mark advanced
 * in the same transaction; then key sets are compared per range and rows
 * deleted at the source are deleted. A table without a mark is refused unless
 * `initial` (which only records the marks, right before the full etl.copy).
 * Dry run: the same work in transactions that are rolled back.
 */
export function etlSyncAction(openSource: SyncSourceFactory = openMssqlSyncSource): ActionImpl<EtlSyncParams> {
  return {
    id: 'etl.sync',
    async run(ctx, params) {
      return withConvertedSource(ctx, () => openSource(ctx, params.source), params, { refuse: 'synced' }, async ({ source, model, conversion }) => {
        const plan = planSync(model, conversion.mappings, params.watermark, params.tables_watermark);
        if (plan.problems.length > 0) {
          throw new ActionError('sync.plan', `etl.sync cannot sync ${plan.problems.length === 1 ? 'a table' : `${plan.problems.length} tables`}: ${plan.problems.slice(0, 5).join('; ')}`, { details: { problems: plan.problems } });
        }
        const pool = ctx.connections.postgres(params.target);
        if (!(await prepare(ctx, pool, params, plan.tables))) {
          return { summary: `Dry run: would record the sync marks of ${plan.tables.length} tables. Nothing was written.` };
        }
        const outcomes = await syncAll(ctx, pool, source, params, plan.tables);
        return report(ctx, params, outcomes);
      });
    },
  };
}

/**
 * Bookkeeping tables, then the up-front refusal: every table needs a mark
 * unless this is the initial run. False: a dry run with no bookkeeping yet,
 * which only an initial run gets past.
 */
async function prepare(ctx: ActionContext, pool: pg.Pool, params: EtlSyncParams, tables: TableSync[]): Promise<boolean> {
  const schema = params.bookkeeping_schema;
  if (ctx.dryRun) {
    const exists = await pool.query<{ t: string | null }>('SELECT to_regclass($1) AS t', [`${quoteIdent(schema)}.sync_marks`]);
    if (!exists.rows[0]?.t && !params.initial) throw new ActionError('sync.no_mark', 'Dry run: no table has a sync mark yet; the full copy must run first, preceded by etl.sync with initial: true.');
    if (!exists.rows[0]?.t) return false;
  } else {
    await ensureCheckpointTables(pool, schema);
    await ensureSyncTables(pool, schema);
  }
  if (params.initial) return true;
  const missing: string[] = [];
  for (const t of tables) if (!(await readMark(pool, schema, bookedName(t.table.target)))) missing.push(bookedName(t.table.target));
  if (missing.length > 0) {
    throw new ActionError(
      'sync.no_mark',
      `No sync mark for ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ` and ${missing.length - 5} more` : ''}: the full copy must run first. Run etl.sync with initial: true right before the full etl.copy, then etl.sync after it.`,
      { details: { missing } },
    );
  }
  return true;
}

async function syncAll(ctx: ActionContext, pool: pg.Pool, source: SyncSource, params: EtlSyncParams, tables: TableSync[]): Promise<TableOutcome[]> {
  let done = 0;
  return inParallel(tables, params.parallel, async ({ table, watermark }): Promise<TableOutcome> => {
    const name = bookedName(table.target);
    const outcome: TableOutcome = { table: name, column: watermark.column, applied: null, deleted: null, error: null };
    const common = { pool, source, table, loadId: loadIdOf(ctx), schema: params.bookkeeping_schema ?? DEFAULT_ETL_SCHEMA, signal: ctx.signal, dryRun: ctx.dryRun };
    try {
      outcome.applied = await applyChanges({ ...common, watermark, initial: params.initial, sessionTimeZone: sessionZone(params), maxRejectedRows: MAX_REJECTED_ROWS });
      // After the upsert: only then is every target row one the source had at the mark (see deleteMissing).
      if (params.deletes && !params.initial) outcome.deleted = await deleteMissing({ ...common, chunkRows: params.chunk_rows });
    } catch (err) {
      if (ctx.signal.aborted) throw cancelledError('etl', ctx.signal, 'The sync');
      const e = asCutoverError(err, 'etl.sync-failed');
      // A table refused as a whole (too many rejected rows, a conflict) fails alone; the others go on.
      outcome.error = e.userMessage;
    }
    ctx.progress(`Synced ${++done}/${tables.length} tables (${name}${outcome.error ? ': failed' : ''})`);
    return outcome;
  });
}

function report(ctx: ActionContext, params: EtlSyncParams, outcomes: TableOutcome[]) {
  const sum = (f: (o: TableOutcome) => number): number => outcomes.reduce((n, o) => n + f(o), 0);
  const upserted = sum((o) => o.applied?.upserted ?? 0);
  const deleted = sum((o) => o.deleted?.deleted ?? 0);
  const quarantined = sum((o) => o.applied?.quarantined ?? 0);
  const fmt = (n: number): string => n.toLocaleString('en-US');
  const details = {
    upserted,
    deleted,
    quarantined,
    tables: outcomes.map((o) => ({
      table: o.table,
      watermark: o.column,
      window: o.applied?.window ?? null,
      read: o.applied?.read ?? 0,
      upserted: o.applied?.upserted ?? 0,
      deleted: o.deleted?.deleted ?? 0,
      quarantined: o.applied?.quarantined ?? 0,
      ranges: o.deleted ? { compared: o.deleted.ranges, listed: o.deleted.listed } : null,
      error: o.error,
    })),
  };
  const failed = outcomes.filter((o) => o.error);
  if (failed.length > 0) {
    throw new ActionError('etl.sync-failed', `${failed.length} of ${outcomes.length} tables did not sync: ${failed.slice(0, 3).map((o) => `${o.table}: ${o.error}`).join('; ')}`, { details });
  }
  if (params.initial) {
    const verb = ctx.dryRun ? 'Dry run: would record' : 'Recorded';
    return { summary: `${verb} the sync marks of ${outcomes.length} tables; run the full etl.copy now, then etl.sync.`, details };
  }
  const windows = outcomes.map((o) => `${o.table} ${o.applied?.window.after ?? 'start'} → ${o.applied?.window.upTo ?? 'none'}`);
  const counts = `${fmt(upserted)} rows upserted, ${fmt(deleted)} deleted${quarantined ? `, ${fmt(quarantined)} quarantined with their reasons` : ''}`;
  const summary = ctx.dryRun
    ? `Dry run: would sync ${outcomes.length} tables: ${counts}. Nothing was written.`
    : `Synced ${outcomes.length} tables: ${counts} (windows: ${windows.slice(0, 3).join('; ')}${windows.length > 3 ? '; …' : ''}).`;
  return { summary, details };
}
