import { z } from 'zod';
import { planSummarySchema } from './plan-summary.js';
import type { QueryRunner } from './runners.js';

/** One critical query timed on one side: the median counts; every run and the plan are kept for the report. */
export const queryTimingSchema = z.object({
  medianMs: z.number(),
  runsMs: z.array(z.number()),
  rows: z.number(),
  plan: planSummarySchema.nullable(),
  planNote: z.string().optional(),
  rawPlan: z.unknown().optional(),
});
export type QueryTiming = z.infer<typeof queryTimingSchema>;

/** What baseline.queries leaves in `details.baseline`, read back (from the run's events) by validate.queries. */
export const baselineSchema = z.object({
  engine: z.enum(['postgres', 'mssql']),
  at: z.string(),
  runs: z.number(),
  warmup: z.number(),
  queries: z.record(z.string(), z.union([queryTimingSchema, z.object({ error: z.string() })])),
});
export type Baseline = z.infer<typeof baselineSchema>;

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 ? (sorted[mid] ?? Number.NaN) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

const round = (ms: number): number => Math.round(ms * 1000) / 1000;

/**
 * Warm-up executions (untimed, so both sides start with warm caches), then
 * `runs` timed ones, then the plan (its own execution under EXPLAIN
 * ANALYZE / STATISTICS XML, never one of the timed runs: instrumentation
 * slows a query down).
 */
export async function measure(runner: QueryRunner, sql: string, o: { warmup: number; runs: number }): Promise<QueryTiming> {
  for (let i = 0; i < o.warmup; i++) await runner.execute(sql);
  const runsMs: number[] = [];
  let rows = 0;
  for (let i = 0; i < o.runs; i++) {
    const r = await runner.execute(sql);
    runsMs.push(round(r.ms));
    rows = r.rows;
  }
  const plan = await runner.plan(sql);
  return { medianMs: round(median(runsMs)), runsMs, rows, plan: plan.summary, ...(plan.note ? { planNote: plan.note } : {}), ...(plan.raw ? { rawPlan: plan.raw } : {}) };
}
