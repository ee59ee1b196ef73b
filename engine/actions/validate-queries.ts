import { baselineQueriesParams } from '../../runbook/actions/baseline-queries.js';
import type { ValidateQueriesParams } from '../../runbook/actions/validate-queries.js';
import { ActionError, type ActionImpl, type StepRecord } from '../action.js';
import type { ValidationItem } from '../validate/contracts.js';
import { finishValidation } from '../validate/outcome.js';
import { baselineSchema, measure, type Baseline } from '../queries/measure.js';
import { openQueryRunner } from '../queries/runners.js';
import { queryItem, type BaselineEntry, type TargetEntry } from '../queries/verdict.js';
import type { QueryRunnerFactory } from './baseline-queries.js';
import { mention } from '../../runbook/policy.js';

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * validate.queries: the critical queries of the baseline step, timed on
 * PostgreSQL after the load the same way (warm-up, median), with EXPLAIN
 * (ANALYZE, BUFFERS, FORMAT JSON); slower than the tolerance is amber with
 * both plans summarised. A baseline that is missing (its step skipped,
 * failed or not run) is amber with the reason, never a crash: the PostgreSQL
 * side is still measured and reported.
 */
export function validateQueriesAction(open: QueryRunnerFactory = openQueryRunner): ActionImpl<ValidateQueriesParams> {
  return {
    id: 'validate.queries',
    async run(ctx, p) {
      const startedAt = Date.now();
      const record = ctx.stepRecord(p.baseline_step);
      const declared = baselineQueriesParams.safeParse(record?.params);
      if (!record || !declared.success) throw new ActionError('queries.no_baseline_step', `step "${p.baseline_step}" is not a baseline.queries step of this runbook; its queries are where the critical queries are declared`);
      const { baseline, missing } = readBaseline(record);
      const runner = await open(ctx, p.target, p.query_timeout);
      const items: ValidationItem[] = [];
      try {
        for (const [i, q] of declared.data.queries.entries()) {
          ctx.progress(`timing ${q.name} on PostgreSQL (${i + 1}/${declared.data.queries.length})`);
          let target: TargetEntry;
          try {
            target = { timing: await measure(runner, q.target_sql, p) };
          } catch (err) {
            if (ctx.signal.aborted) throw err;
            target = { error: ctx.connections.redact(message(err)) };
          }
          items.push(queryItem(q.name, { tolerance: q.tolerance ?? p.tolerance, noiseMs: p.noise_ms, baseline: entryOf(baseline, missing, q.name), target }));
        }
      } finally {
        await runner.close();
      }
      return finishValidation(ctx, { check: 'queries', noun: 'queries', items, startedAt, extra: { baselineStep: p.baseline_step, baselineAt: baseline?.at ?? null } });
    },
  };
}

/** The baseline the step recorded, or the sentence saying why there is none. */
function readBaseline(record: StepRecord): { baseline: Baseline | null; missing: string | null } {
  const step = `the baseline step "${record.id}"`;
  if (record.status === 'skipped' && !record.details) return { baseline: null, missing: `${step} was skipped${record.skipped ? ` by ${mention(record.skipped.by)}: ${record.skipped.reason}` : ''}` };
  if (!['succeeded', 'failed', 'skipped'].includes(record.status)) return { baseline: null, missing: `${step} has not run in this run (${record.status.replace('_', ' ')})` };
  const parsed = baselineSchema.safeParse(record.details?.['baseline']);
  if (!parsed.success) return { baseline: null, missing: `${step} ${record.status === 'succeeded' ? 'left no readable baseline' : `${record.status} before it recorded one`}` };
  return { baseline: parsed.data, missing: null };
}

function entryOf(baseline: Baseline | null, missing: string | null, name: string): BaselineEntry {
  if (!baseline) return { missing: missing ?? 'no baseline' };
  const entry = baseline.queries[name];
  if (!entry) return { missing: `the baseline has no timing for "${name}"` };
  if ('error' in entry) return { missing: `it failed on the source at baseline: ${entry.error}` };
  return { timing: entry, engine: baseline.engine };
}
