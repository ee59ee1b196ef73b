import type pg from 'pg';
import { ActionError, type ActionContext } from '../action.js';
import type { EncodedSource, TableMapping } from '../etl/contracts.js';
import { quoteIdent } from '../etl/checkpoints.js';
import { fanOutLoad } from '../etl/fan-out.js';
import { loadTables, reconcileCounts, type LoadTablesOptions } from '../etl/load-tables.js';
import { loadReportText, progressText } from '../etl/progress-text.js';
import type { ActionResult } from '../action.js';
import { loadIdOf } from './etl-sources.js';

export interface LoadRequest {
  pool: pg.Pool;
  source: EncodedSource;
  tables: TableMapping[];
  chunkRows: number;
  parallel: number;
  bookkeepingSchema: string;
  /** The runbook's time-zone rule for wall-clock source times; null keeps them as they are. */
  sessionTimeZone?: string | null;
  /** Exact source rows per target table (schema.name), for source = loaded + quarantined. */
  sourceCounts: (table: TableMapping) => Promise<number>;
  /** The step's `fan_out`: hand chunks to every worker (auto: when a table has FAN_OUT_ROWS rows or more). */
  fanOut?: 'auto' | 'always' | 'never';
}

/** `fan_out: auto` hands a load to every worker when one of its tables has at least this many rows (the catalog's or manifest's count). */
export const FAN_OUT_ROWS = 1_000_000;

/** Whether this load's chunks go to every worker as child jobs of the step (possible only where the queue can: Redis). */
export function fansOut(ctx: ActionContext, req: Pick<LoadRequest, 'fanOut' | 'tables'>): boolean {
  if (!ctx.fanOut || req.fanOut === 'never') return false;
  return req.fanOut === 'always' || req.tables.some((t) => t.rowCount >= FAN_OUT_ROWS);
}

/**
 * The load shared by etl.copy (live source) and load (snapshot): chunks commit
 * with their checkpoints, progress goes to the thread, and the step succeeds
 * only when every table reconciles: source rows = loaded + quarantined.
 */
export async function loadAndReconcile(ctx: ActionContext, req: LoadRequest): Promise<ActionResult> {
  const loadId = loadIdOf(ctx);
  const options: LoadTablesOptions = {
    pool: req.pool,
    source: req.source,
    tables: req.tables,
    loadId,
    chunkRows: req.chunkRows,
    parallel: req.parallel,
    signal: ctx.signal,
    schema: req.bookkeepingSchema,
    truncate: 'if-fresh',
    sessionTimeZone: req.sessionTimeZone ?? null,
    onProgress: (p) =>
      ctx.progress(progressText(p), { rows: p.overall.rows, expectedRows: p.overall.expectedRows, rowsPerSecond: Math.round(p.overall.rowsPerSecond), etaSeconds: p.overall.etaSeconds }),
    onChunkCommitted: (table, chunk) => ctx.metrics?.chunkCommitted(table, chunk),
  };
  const flow = fansOut(ctx, req) ? ctx.fanOut : undefined;
  if (flow) ctx.log.info({ tables: req.tables.length }, 'load fanned out: its chunks go to every worker as child jobs of the step');
  const report = flow ? await fanOutLoad({ ...options, flow, step: { runId: ctx.runId, stepId: ctx.stepId, attempt: ctx.attempt } }) : await loadTables(options);
  const text = loadReportText(report);
  if (report.error) throw new ActionError(report.error.code, report.error.userMessage, { cause: report.error, details: { report: text } });
  const reconciled = await reconcileCounts(req.pool, req.tables, loadId, req.bookkeepingSchema);
  const mismatches: string[] = [];
  for (const [i, r] of reconciled.entries()) {
    const expected = await req.sourceCounts(req.tables[i] as TableMapping);
    if (!r.consistent || r.accounted !== expected) {
      mismatches.push(`${r.table}: source ${expected}, loaded ${r.loadedRows} + quarantined ${r.quarantined}${r.consistent ? '' : `, target holds ${r.targetRows}`}`);
    }
  }
  const t = report.totals;
  const rows = t.rows + t.rowsBefore;
  const details = {
    report: text,
    rows,
    quarantined: t.quarantined,
    rowsPerSecond: Math.round(t.rowsPerSecond),
    tables: report.tables.map((x) => ({ table: x.table, rows: x.rows + x.rowsBefore, quarantined: x.quarantined, rowsPerSecond: Math.round(x.rowsPerSecond), error: x.error })),
    ...(t.quarantined + t.quarantinedBefore > 0 ? { quarantine: await quarantineSample(req.pool, req.bookkeepingSchema, loadId) } : {}),
  };
  if (!report.ok || mismatches.length > 0) {
    const failed = report.tables.filter((x) => x.error).map((x) => `${x.table}: ${x.error}`);
    throw new ActionError('etl.not_reconciled', `The load does not add up: ${[...failed, ...mismatches].slice(0, 3).join('; ')}`, { details });
  }
  return {
    summary: `Loaded ${rows.toLocaleString('en-US')} rows into ${req.tables.length} tables (${Math.round(t.rowsPerSecond).toLocaleString('en-US')} rows/s)${t.quarantined ? `; ${t.quarantined} rows quarantined with their reasons` : ''}; every table reconciles.`,
    details,
  };
}

/** How many quarantined rows a load's step result carries for its thread message; the rest stay in the table named. */
export const QUARANTINE_SAMPLE_ROWS = 5;

/**
 * The first quarantined rows of a load (key, column, reason; never the
 * offending value, which stays in the table's sample column) and the query
 * that lists them all, for the approver to review in Slack.
 */
async function quarantineSample(pool: pg.Pool, schema: string, loadId: string): Promise<Record<string, unknown>> {
  const table = `${quoteIdent(schema)}.quarantine`;
  const { rows } = await pool.query<{ table_name: string; key: Record<string, string | null>; column_name: string | null; reason: string }>(
    `SELECT table_name, key, column_name, reason FROM ${table} WHERE load_id = $1 ORDER BY id LIMIT ${QUARANTINE_SAMPLE_ROWS}`,
    [loadId],
  );
  return {
    rows: rows.map((r) => ({ table: r.table_name, key: r.key, column: r.column_name, reason: r.reason })),
    all: `SELECT * FROM ${table} WHERE load_id = '${loadId.replaceAll("'", "''")}' ORDER BY id`,
  };
}
