import { z } from 'zod';
import { durationSchema } from '../duration.js';
import { connectionName } from './common-params.js';
import { defineAction, READS_ONLY } from './spec.js';

/**
 * Parameters of baseline.queries and validate.queries (issue 8): the
 * runbook's critical queries, declared once on the baseline step with a
 * source form (T-SQL, or SQL for a PostgreSQL source) and a target form
 * (PostgreSQL); validate.queries names that step and reads both its params
 * and the timings it recorded in the run.
 */

/** "10%" or 10 (percent); yields a fraction (0.1). */
export const percentSchema = z
  .union([z.string().regex(/^\d+(\.\d+)?\s*%$/, 'expected a percentage like "10%"'), z.number().nonnegative()])
  .transform((v) => (typeof v === 'number' ? v : Number(v.replace('%', '').trim())) / 100);

export const criticalQuerySchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9][\w.-]*$/, 'expected a short name of letters, digits, ".", "_" or "-"'),
    /** The query as the application runs it on the source (T-SQL on SQL Server). */
    source_sql: z.string().min(1),
    /** The same query as the application runs it on PostgreSQL. */
    target_sql: z.string().min(1),
    /** Overrides validate.queries' tolerance for this query. */
    tolerance: percentSchema.optional(),
  })
  .strict();

export const queryTiming = {
  /** Timed executions; the median counts. */
  runs: z.number().int().min(1).max(50).default(5),
  /** Untimed executions first, so caches are warm on both sides alike. */
  warmup: z.number().int().min(0).max(10).default(1),
  /** One execution may take at most this long (PostgreSQL statement_timeout; SQL Server request timeout). */
  query_timeout: durationSchema.default(300),
};

export const baselineQueriesParams = z
  .object({
    source: connectionName,
    queries: z
      .array(criticalQuerySchema)
      .min(1, 'expected at least one critical query')
      .superRefine((qs, ctx) => {
        const seen = new Set<string>();
        qs.forEach((q, i) => {
          if (seen.has(q.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `query name "${q.name}" is used twice` });
          seen.add(q.name);
        });
      }),
    ...queryTiming,
  })
  .strict();
export type BaselineQueriesParams = z.infer<typeof baselineQueriesParams>;

// Not health-watched: a few timed reads on the source before the window, not long database work.
export const baselineQueriesSpec = defineAction({
  id: 'baseline.queries',
  summary: 'time the runbook\'s critical queries on the source (warm-up, median of several runs) and record their plans as the baseline',
  params: baselineQueriesParams,
  recovery: READS_ONLY,
  connections: (p: BaselineQueriesParams) => [p.source],
});
