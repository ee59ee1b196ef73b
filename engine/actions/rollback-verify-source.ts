import type { VerifySourceParams } from '../../runbook/rollback-action-params.js';
import { ActionError, truncate, type ActionImpl } from '../action.js';

/**
 * rollback.verify_source: after a rollback, proves the source (SQL Server or
 * PostgreSQL) still answers a query — seed 000 scenario 1 step 3.
 */
export const rollbackVerifySourceAction: ActionImpl<VerifySourceParams> = {
  id: 'rollback.verify_source',
  async run(ctx, params) {
    const where = `"${params.source}" (${ctx.connections.describe(params.source)})`;
    const started = Date.now();
    let first: unknown;
    try {
      if (ctx.connections.kind(params.source) === 'postgres') {
        const res = await ctx.connections.postgres(params.source).query({ text: params.sql, rowMode: 'array' });
        first = res.rows[0]?.[0];
      } else {
        const pool = await ctx.connections.mssql(params.source);
        const res = await pool.request().query<Record<string, unknown>>(params.sql);
        const row = res.recordset?.[0];
        first = row ? Object.values(row)[0] : undefined;
      }
    } catch (err) {
      const msg = ctx.connections.redact(err instanceof Error ? err.message : String(err));
      throw new ActionError('rollback.source_unreachable', `the source ${where} does not answer: ${msg}`, { cause: err });
    }
    const ms = Date.now() - started;
    const value = first === undefined ? 'no rows' : truncate(String(first), 80);
    return { summary: `the source ${where} answers (${value}) in ${ms} ms`, details: { source: params.source, durationMs: ms, value } };
  },
};
