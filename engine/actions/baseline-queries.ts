import type { BaselineQueriesParams } from '../../runbook/actions/baseline-queries.js';
import { ActionError, type ActionImpl } from '../action.js';
import { measure, type Baseline } from '../queries/measure.js';
import { planLine } from '../queries/plan-summary.js';
import { openQueryRunner, type QueryRunner } from '../queries/runners.js';

/** Opens the session queries are timed on. A factory, so tests can hand in another. */
export type QueryRunnerFactory = (ctx: Parameters<typeof openQueryRunner>[0], connection: string, timeoutSeconds: number) => Promise<QueryRunner>;

const ENGINE = { postgres: 'PostgreSQL', mssql: 'SQL Server' } as const;
const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * baseline.queries: times the runbook's critical queries on the source
 * before the cutover (warm-up, then the median of several runs) and records
 * their plans; validate.queries compares PostgreSQL against this step's
 * result. Read-only, so a dry run measures too. A query that fails on the
 * source fails the step (the runbook's query is wrong), keeping the others.
 */
export function baselineQueriesAction(open: QueryRunnerFactory = openQueryRunner): ActionImpl<BaselineQueriesParams> {
  return {
    id: 'baseline.queries',
    async run(ctx, p) {
      const runner = await open(ctx, p.source, p.query_timeout);
      const queries: Baseline['queries'] = {};
      try {
        for (const [i, q] of p.queries.entries()) {
          ctx.progress(`timing ${q.name} on the source (${i + 1}/${p.queries.length})`);
          try {
            queries[q.name] = await measure(runner, q.source_sql, p);
          } catch (err) {
            if (ctx.signal.aborted) throw err;
            queries[q.name] = { error: ctx.connections.redact(message(err)) };
          }
        }
      } finally {
        await runner.close();
      }
      const baseline: Baseline = { engine: runner.dialect, at: new Date().toISOString(), runs: p.runs, warmup: p.warmup, queries };
      const lines = Object.entries(queries).map(([name, t]) => ('error' in t ? `🔴 \`${name}\` failed: ${t.error}` : `• \`${name}\` ${t.medianMs} ms, ${t.rows} rows — ${planLine(t.plan)}${t.planNote ? ` (${t.planNote})` : ''}`));
      const report = [`*Baseline on ${ENGINE[runner.dialect]}* (median of ${p.runs} run(s) after ${p.warmup} warm-up)`, ...lines].join('\n');
      const failed = Object.entries(queries).filter(([, t]) => 'error' in t).map(([name]) => name);
      if (failed.length) throw new ActionError('queries.baseline_failed', `critical ${failed.length > 1 ? 'queries' : 'query'} ${failed.join(', ')} failed on the source; fix the runbook's source_sql and Retry`, { details: { baseline, report } });
      const times = Object.entries(queries).map(([name, t]) => ('error' in t ? name : `${name} ${t.medianMs} ms`));
      return { summary: `baseline of ${times.length} critical quer${times.length > 1 ? 'ies' : 'y'} on ${ENGINE[runner.dialect]}: ${times.join(', ')}`, details: { baseline, report } };
    },
  };
}
