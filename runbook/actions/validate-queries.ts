import { z } from 'zod';
import { connectionName } from './common-params.js';
import { percentSchema, queryTiming } from './baseline-queries.js';
import { readOnlyValidation } from './spec.js';

export const validateQueriesParams = z
  .object({
    target: connectionName,
    /** The baseline.queries step (earlier in the runbook) whose queries and timings this compares against. */
    baseline_step: z.string().min(1, 'expected the id of the baseline.queries step'),
    /** Slower than baseline × (1 + tolerance) turns the query amber. Seed 000 / 003: within 10 %. */
    tolerance: percentSchema.default(0.1),
    /** A slowdown smaller than this many milliseconds is timer noise, not a regression. */
    noise_ms: z.number().nonnegative().default(2),
    ...queryTiming,
  })
  .strict();
export type ValidateQueriesParams = z.infer<typeof validateQueriesParams>;

export const validateQueriesSpec = readOnlyValidation({
  id: 'validate.queries',
  summary: 'time the critical queries on PostgreSQL with EXPLAIN (ANALYZE, BUFFERS) and compare with the source baseline (amber beyond the tolerance)',
  params: validateQueriesParams,
  why: 'each timed query runs in a READ ONLY transaction that is rolled back',
  connections: (p: ValidateQueriesParams) => [p.target],
  stepRefs: (p: ValidateQueriesParams) => [{ field: 'baseline_step', stepId: p.baseline_step, actions: ['baseline.queries'], earlier: true }],
});
