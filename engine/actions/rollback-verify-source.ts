import type { VerifySourceParams } from '../../runbook/actions/rollback-verify-source.js';
import { ActionError, truncate, type ActionContext, type ActionImpl } from '../action.js';
import { quoteIdent } from '../etl/checkpoints.js';
import { tsqlName } from '../rollback/replay-values.js';

/**
 * rollback.verify_source: after a rollback, proves the source (SQL Server or
 * PostgreSQL) still answers a query — seed 000 scenario 1 step 3 — and, with
 * export_step, that the post-go-live replay took: each table the export
 * checked holds the rows the target held when the script was written.
 */
export const rollbackVerifySourceAction: ActionImpl<VerifySourceParams> = {
  id: 'rollback.verify_source',
  async run(ctx, params) {
    const where = `"${params.source}" (${ctx.connections.describe(params.source)})`;
    const started = Date.now();
    let first: unknown;
    try {
      first = await firstValue(ctx, params.source, params.sql);
    } catch (err) {
      const msg = ctx.connections.redact(err instanceof Error ? err.message : String(err));
      throw new ActionError('rollback.source_unreachable', `the source ${where} does not answer: ${msg}`, { cause: err });
    }
    const ms = Date.now() - started;
    const value = first === undefined ? 'no rows' : truncate(String(first), 80);
    const replay = params.export_step ? await checkReplay(ctx, params.source, params.export_step) : null;
    return {
      summary: `the source ${where} answers (${value}) in ${ms} ms${replay ? `; ${replay.summary}` : ''}`,
      details: { source: params.source, durationMs: ms, value, ...(replay ? { replay: replay.tables } : {}) },
    };
  },
};

async function firstValue(ctx: ActionContext, source: string, sql: string): Promise<unknown> {
  if (ctx.connections.kind(source) === 'postgres') {
    const res = await ctx.connections.postgres(source).query<unknown[]>({ text: sql, rowMode: 'array' });
    return res.rows[0]?.[0];
  }
  const pool = await ctx.connections.mssql(source);
  const row = (await pool.request().query<Record<string, unknown>>(sql)).recordset?.[0];
  return row ? Object.values(row)[0] : undefined;
}

interface Expected {
  source: string;
  rowsAfter: number;
}

/** The export step's per-table figures, as its result recorded them. */
function expectedOf(ctx: ActionContext, stepId: string): Expected[] {
  const record = ctx.stepRecord(stepId);
  const counts = record?.status === 'succeeded' ? record.details?.['counts'] : undefined;
  if (!counts || typeof counts !== 'object') {
    throw new ActionError('rollback.no_export', `step "${stepId}" has not written a replay script in this run, so there is nothing to compare the source with`);
  }
  return Object.values(counts as Record<string, { source?: unknown; rowsAfter?: unknown; checked?: unknown }>)
    .filter((c) => c.checked === true && typeof c.source === 'string' && typeof c.rowsAfter === 'number')
    .map((c) => ({ source: c.source as string, rowsAfter: c.rowsAfter as number }));
}

async function checkReplay(ctx: ActionContext, source: string, stepId: string): Promise<{ summary: string; tables: Array<Expected & { rows: number }> }> {
  const tables: Array<Expected & { rows: number }> = [];
  for (const e of expectedOf(ctx, stepId)) {
    const dot = e.source.indexOf('.');
    const sql =
      ctx.connections.kind(source) === 'postgres'
        ? `SELECT count(*) FROM ${quoteIdent(e.source.slice(0, dot))}.${quoteIdent(e.source.slice(dot + 1))}`
        : `SELECT COUNT_BIG(*) FROM ${tsqlName(e.source)}`;
    tables.push({ ...e, rows: Number(await firstValue(ctx, source, sql)) });
  }
  const off = tables.filter((t) => t.rows !== t.rowsAfter);
  if (off.length > 0) {
    throw new ActionError(
      'rollback.replay_mismatch',
      `the replay of step "${stepId}" has not taken on the source: ${off.map((t) => `${t.source} holds ${t.rows} rows, PostgreSQL held ${t.rowsAfter}`).join('; ')}. Run the script (or see why it rolled back), then Retry`,
      { details: { tables } },
    );
  }
  return { summary: `the replay of step "${stepId}" took: ${tables.map((t) => `${t.source} ${t.rows} rows`).join(', ')}`, tables };
}
