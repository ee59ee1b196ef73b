import { performance } from 'node:perf_hooks';
import mssql from 'mssql';
import type pg from 'pg';
import { ActionError, cancelledError, type ActionContext } from '../action.js';
import { summarisePgPlan, summariseShowplan, type PlanSummary } from './plan-summary.js';

/** One session on which critical queries are executed, timed and explained; read-only on PostgreSQL. */
export interface QueryRunner {
  readonly dialect: 'postgres' | 'mssql';
  /** Executes the query once, reading (and discarding) its rows as the application would; returns milliseconds and rows. */
  execute(sql: string): Promise<{ ms: number; rows: number }>;
  /** The plan with actual figures where readable; `note` says why there is none or why it is only estimated. */
  plan(sql: string): Promise<{ summary: PlanSummary | null; raw: unknown; note?: string }>;
  close(): Promise<void>;
}

// Only where a run of ";" starts (lookbehind): `;+\s*$` alone rescans a long run of ";" from each of them.
const bare = (sql: string): string => sql.trim().replace(/(?<!;);+\s*$/, '');
const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));
/** Raw plans kept in the step result only while small: the summary is what people read. */
const RAW_PLAN_MAX = 20_000;

export async function openQueryRunner(ctx: ActionContext, connection: string, timeoutSeconds: number): Promise<QueryRunner> {
  return ctx.connections.kind(connection) === 'postgres' ? pgRunner(ctx, connection, timeoutSeconds) : mssqlRunner(ctx, connection, timeoutSeconds);
}

/**
 * PostgreSQL: one client; each execution inside BEGIN READ ONLY … ROLLBACK,
 * so a critical query can never change what it measures. The BEGIN and
 * ROLLBACK round trips are outside the timed part.
 */
async function pgRunner(ctx: ActionContext, connection: string, timeoutSeconds: number): Promise<QueryRunner> {
  const client: pg.PoolClient = await ctx.connections.postgres(connection).connect();
  await client.query(`SET statement_timeout = ${Math.round(timeoutSeconds * 1000)}`);
  const readOnly = async <T>(fn: () => Promise<T>): Promise<T> => {
    if (ctx.signal.aborted) throw cancelledError('queries', ctx.signal, `the critical queries on "${connection}"`);
    await client.query('BEGIN TRANSACTION READ ONLY');
    try {
      return await fn();
    } finally {
      await client.query('ROLLBACK').catch(() => undefined);
    }
  };
  return {
    dialect: 'postgres',
    execute: (sql) =>
      readOnly(async () => {
        const t0 = performance.now();
        const result = await client.query({ text: bare(sql), rowMode: 'array' });
        return { ms: performance.now() - t0, rows: result.rowCount ?? result.rows.length };
      }),
    plan: (sql) =>
      readOnly(async () => {
        const rows = (await client.query<Record<string, unknown>>(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${bare(sql)}`)).rows;
        const raw = rows[0]?.['QUERY PLAN'];
        return { summary: summarisePgPlan(raw), raw: JSON.stringify(raw).length <= RAW_PLAN_MAX ? raw : null };
      }),
    async close() {
      await client.query('RESET statement_timeout').catch(() => undefined);
      client.release();
    },
  };
}

const SHOWPLAN_COLUMN = 'Microsoft SQL Server 2005 XML Showplan';

/**
 * SQL Server: a private session (SET options carry between batches); rows are
 * streamed and counted, never buffered. The plan comes from SET STATISTICS
 * XML (actual, one extra execution), else SET SHOWPLAN_XML (estimated, not
 * executed) when the login may not see actual plans.
 */
async function mssqlRunner(ctx: ActionContext, connection: string, timeoutSeconds: number): Promise<QueryRunner> {
  const pool = await ctx.connections.mssqlSession(connection);
  const stream = (sql: string, onRow?: (row: Record<string, unknown>) => void): Promise<number> =>
    new Promise((resolve, reject) => {
      if (ctx.signal.aborted) return reject(cancelledError('queries', ctx.signal, `the critical queries on "${connection}"`));
      const request = pool.request();
      request.stream = true;
      let rows = 0;
      let failed: unknown = null;
      const timer = setTimeout(() => request.cancel(), timeoutSeconds * 1000);
      const onAbort = (): void => request.cancel();
      ctx.signal.addEventListener('abort', onAbort, { once: true });
      request.on('row', (row: Record<string, unknown>) => {
        rows++;
        onRow?.(row);
      });
      request.on('error', (err: unknown) => (failed ??= err));
      request.on('done', () => {
        clearTimeout(timer);
        ctx.signal.removeEventListener('abort', onAbort);
        if (failed) reject(failed);
        else resolve(rows);
      });
      void request.query(bare(sql));
    });
  const batch = async (sql: string): Promise<void> => {
    await pool.request().batch(sql);
  };
  return {
    dialect: 'mssql',
    async execute(sql) {
      const t0 = performance.now();
      const rows = await stream(sql);
      return { ms: performance.now() - t0, rows };
    },
    async plan(sql) {
      let xml: string | null = null;
      const capture = (row: Record<string, unknown>): void => {
        const value = row[SHOWPLAN_COLUMN];
        if (typeof value === 'string') xml = value;
      };
      try {
        await batch('SET STATISTICS XML ON;');
        await stream(sql, capture);
      } catch (err) {
        xml = null;
        ctx.log.info({ err: message(err) }, 'actual plan not readable; trying the estimated plan');
      } finally {
        await batch('SET STATISTICS XML OFF;').catch(() => undefined);
      }
      if (xml) return planOf(xml);
      try {
        // SHOWPLAN_XML must be alone in its batch; while on, statements are compiled, not executed.
        await batch('SET SHOWPLAN_XML ON;');
        await stream(sql, capture);
      } catch (err) {
        return { summary: null, raw: null, note: `plan not readable: ${message(err)}` };
      } finally {
        await batch('SET SHOWPLAN_XML OFF;').catch(() => undefined);
      }
      return xml ? { ...planOf(xml), note: 'estimated plan (SET STATISTICS XML was refused)' } : { summary: null, raw: null, note: 'plan not readable: no showplan returned' };
    },
    async close() {
      await pool.close().catch(() => undefined);
    },
  };
}

function planOf(xml: string): { summary: PlanSummary | null; raw: unknown } {
  return { summary: summariseShowplan(xml), raw: xml.length <= RAW_PLAN_MAX ? xml : null };
}
