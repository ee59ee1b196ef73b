import type { DoneWhen } from '../runbook/action-catalog.js';
import { CutoverError } from '../runbook/errors.js';
import type { ActionContext } from './action.js';
import { redactUrl } from './connections.js';
import { httpRequest } from './actions/http.js';
import { runMssql } from './actions/sql-mssql.js';
import { runPostgres, type SqlRun } from './actions/sql-postgres.js';

export type ProbeContext = Pick<ActionContext, 'connections' | 'signal' | 'log'> & {
  /** Bound on one probe; a probe blocked on a lock must not hold the run. Default 30 s. */
  timeoutMs?: number;
};

export interface ProbeResult {
  done: boolean;
  detail: string;
}

const DEFAULT_TIMEOUT_MS = 30_000;

/**
 * Decides whether a step already took effect (sql: the query returns a row;
 * http: the status matches). Never throws: a probe that cannot answer says
 * done:false with the reason, and the step is run (or escalated) as usual.
 */
export async function evaluateProbe(doneWhen: DoneWhen, ctx: ProbeContext): Promise<ProbeResult> {
  const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(ctx.timeoutMs ?? DEFAULT_TIMEOUT_MS)]);
  try {
    return 'http' in doneWhen ? await httpProbe(doneWhen, signal) : await sqlProbe(doneWhen, ctx, signal);
  } catch (err) {
    const reason = err instanceof CutoverError ? err.userMessage : err instanceof Error ? err.message : String(err);
    const timedOut = signal.aborted && !ctx.signal.aborted;
    const why = timedOut ? `no answer within ${(ctx.timeoutMs ?? DEFAULT_TIMEOUT_MS) / 1000}s` : reason;
    return { done: false, detail: ctx.connections.redact(`probe failed: ${why}`) };
  }
}

async function sqlProbe(probe: { connection: string; sql: string }, ctx: ProbeContext, signal: AbortSignal): Promise<ProbeResult> {
  // Read-only and rolled back: a probe can look, never change (SQL Server has no read-only transaction; rollback suffices).
  const run: SqlRun = { connection: probe.connection, text: probe.sql, transaction: true, rollback: true, readOnly: true, signal, log: ctx.log };
  const kind = ctx.connections.kind(probe.connection);
  const outcome = kind === 'postgres' ? await runPostgres(ctx.connections, run) : await runMssql(ctx.connections, run);
  const n = outcome.rows.length > 0 ? Math.max(outcome.rowCount, outcome.rows.length) : 0;
  return n > 0
    ? { done: true, detail: `probe on "${probe.connection}" returned ${n} row${n === 1 ? '' : 's'}` }
    : { done: false, detail: `probe on "${probe.connection}" returned no rows` };
}

async function httpProbe(probe: { http: string; status: number }, signal: AbortSignal): Promise<ProbeResult> {
  const res = await httpRequest({ url: probe.http, method: 'GET', signal });
  const shown = `GET ${redactUrl(probe.http)}`;
  return res.status === probe.status
    ? { done: true, detail: `${shown} returned ${res.status}` }
    : { done: false, detail: `${shown} returned ${res.status}, done when ${probe.status}` };
}
