import type { TruncateLoadedParams } from '../../runbook/actions/rollback-truncate-loaded.js';
import { ActionError, type ActionImpl } from '../action.js';
import { checkout, quoteIdent, type Queryable } from '../etl/checkpoints.js';
import { EffectAlreadyCommitted } from '../ledger/effect-key.js';
import { ledgerWhere } from '../ledger/find-effect.js';
import { pgLedgerTx } from '../ledger/pg-ledger.js';

/** schema.name as booked in chunks.table_name → a quoted reference (first dot splits, like bookedName). */
const quoteBooked = (booked: string): string => {
  const dot = booked.indexOf('.');
  return `${quoteIdent(booked.slice(0, dot))}.${quoteIdent(booked.slice(dot + 1))}`;
};

/** The tables this run loaded: distinct table names of chunks whose load id is `<runId>/<stepId>`. */
export async function loadedTables(db: Queryable, etlSchema: string, runId: string): Promise<string[]> {
  const exists = await db.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [`${quoteIdent(etlSchema)}.chunks`]);
  if (!exists.rows[0]?.t) return [];
  // A prefix comparison, not LIKE: a run id may contain _ or %.
  const { rows } = await db.query<{ table_name: string }>(
    `SELECT DISTINCT table_name FROM ${quoteIdent(etlSchema)}.chunks WHERE left(load_id, length($1)) = $1 ORDER BY table_name`,
    [`${runId}/`],
  );
  return rows.map((r) => r.table_name);
}

/**
 * rollback.truncate_loaded (pre-go-live rollback): empties exactly the tables
 * this run loaded, keeping their schema, in one transaction. No CASCADE: a
 * foreign key from a table this run did not load fails the step instead of
 * silently emptying that table too.
 */
export const rollbackTruncateAction: ActionImpl<TruncateLoadedParams> = {
  id: 'rollback.truncate_loaded',
  async run(ctx, params) {
    const client = await checkout(ctx.connections.postgres(params.target));
    let clean = false;
    try {
      const booked = await loadedTables(client, params.etl_schema, ctx.runId);
      const present: string[] = [];
      for (const t of booked) {
        const { rows } = await client.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [quoteBooked(t)]);
        if (rows[0]?.t) present.push(t);
      }
      const gone = booked.filter((t) => !present.includes(t));
      clean = true;
      if (present.length === 0) {
        const why = booked.length ? ` (loaded tables no longer exist: ${gone.join(', ')})` : '';
        return { summary: `run ${ctx.runId} loaded no tables on "${params.target}"; nothing truncated${why}`, details: { truncated: [], missing: gone } };
      }
      if (ctx.dryRun) {
        return { summary: `dry run: would truncate ${present.length} tables: ${present.join(', ')}`, details: { truncated: [], wouldTruncate: present, dryRun: true } };
      }
      const missing = gone.length ? `; already gone: ${gone.join(', ')}` : '';
      const result = { summary: `truncated ${present.length} tables this run loaded: ${present.join(', ')}${missing}`, details: { truncated: present, missing: gone } };
      const ledger = ctx.effectKey ? pgLedgerTx(ledgerWhere(ctx.connections, params.target), ctx.effectKey) : null;
      if (ledger) await ledger.ensure(client);
      clean = false;
      await client.query('BEGIN');
      try {
        // The ledger row first: a second attempt running at the same time waits here, and rolls back once this one commits.
        if (ledger) await ledger.claim(client);
        await client.query(`TRUNCATE TABLE ${present.map(quoteBooked).join(', ')}`);
        if (ledger) await ledger.record(client, result);
      } catch (err) {
        await client.query('ROLLBACK');
        if (err instanceof EffectAlreadyCommitted) throw err;
        const msg = err instanceof Error ? err.message : String(err);
        throw new ActionError('rollback.truncate_failed', `could not truncate the loaded tables, nothing was truncated: ${ctx.connections.redact(msg)}`, { cause: err, details: { tables: present } });
      }
      await client.query('COMMIT');
      clean = true;
      return result;
    } finally {
      client.release(!clean);
    }
  },
};
