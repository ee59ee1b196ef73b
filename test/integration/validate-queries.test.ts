import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { StepRecord } from '../../engine/action.js';
import { baselineQueriesAction } from '../../engine/actions/baseline-queries.js';
import { validateQueriesAction } from '../../engine/actions/validate-queries.js';
import { readValidation } from '../../runbook/validation-result.js';
import { baselineQueriesParams } from '../../runbook/actions/baseline-queries.js';
import { validateQueriesParams } from '../../runbook/actions/validate-queries.js';
import { actionContext, TEST_DATABASE_URL, thrown, type TestContext } from '../support/engine-context.js';

/**
 * PostgreSQL plays both sides: the "source" baseline is taken while the
 * waiting-list index exists, the "target" is measured after it is dropped,
 * which turns seed 000's 5.2 query from an index scan into a full scan.
 */
const S = `cutover_queries_${process.pid}`;
const WAITING_LIST = `SELECT * FROM ${S}.applications WHERE is_active AND waiting_list_number_32 IS NOT NULL ORDER BY waiting_list_number_32 LIMIT 100`;

let admin: pg.Pool;
let ctx: TestContext;

const baselineParams = baselineQueriesParams.parse({
  source: 'source',
  runs: 5,
  queries: [{ name: 'waiting-list', source_sql: WAITING_LIST, target_sql: WAITING_LIST }],
});

/** The baseline step as the run knows it after it ran. */
function baselineRecord(status: string, details?: Record<string, unknown>, skipped?: { by: string; reason: string }): (id: string) => StepRecord | null {
  return (id) => (id === 'baseline' ? { id, action: 'baseline.queries', params: baselineParams, status, attempt: 1, startedAt: status === 'pending' ? null : Date.now(), ...(details ? { details } : {}), skipped: skipped ?? null } : null);
}

beforeAll(async () => {
  admin = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 2 });
  await admin.query(`DROP SCHEMA IF EXISTS ${S} CASCADE; CREATE SCHEMA ${S}`);
  await admin.query(`CREATE TABLE ${S}.applications (id int PRIMARY KEY, is_active boolean NOT NULL, waiting_list_number_32 int, note text)`);
  await admin.query(`INSERT INTO ${S}.applications SELECT g, g % 3 <> 0, CASE WHEN g % 5 <> 0 THEN (g::bigint * 7919) % 300000 END, repeat('x', 40) FROM generate_series(1, 300000) AS g`);
  await admin.query(`CREATE INDEX applications_waiting_list ON ${S}.applications (waiting_list_number_32) WHERE is_active AND waiting_list_number_32 IS NOT NULL`);
  await admin.query(`ANALYZE ${S}.applications`);
}, 60_000);

afterAll(async () => {
  await admin.query(`DROP SCHEMA IF EXISTS ${S} CASCADE`);
  await admin.end();
});

beforeEach(() => {
  const specs = { source: { kind: 'postgres' as const, url: TEST_DATABASE_URL }, target: { kind: 'postgres' as const, url: TEST_DATABASE_URL } };
  ctx = actionContext({ runId: 'run_q', connectionSpecs: specs });
});

afterEach(async () => {
  await ctx.connections.close();
});

describe('baseline.queries and validate.queries (issue 8, seed 000 step 5.2)', () => {
  it('a query made slower by dropping its index turns validate.queries amber, showing both plans; with the index it is green', async () => {
    const base = await baselineQueriesAction().run(ctx, baselineParams);
    expect(base.summary).toMatch(/^baseline of 1 critical query on PostgreSQL: waiting-list \d+(\.\d+)? ms$/);
    expect(String(base.details?.['report'])).toContain('using applications_waiting_list');
    const record = baselineRecord('succeeded', base.details);
    const params = validateQueriesParams.parse({ target: 'target', baseline_step: 'baseline' });

    // The same plan on both sides: green. A generous tolerance, because a sub-millisecond query's median moves by
    // milliseconds on a loaded test machine; the exact thresholds are unit-tested (query-plans.test.ts).
    const same = await validateQueriesAction().run({ ...ctx, stepRecord: record }, validateQueriesParams.parse({ target: 'target', baseline_step: 'baseline', tolerance: '100%', noise_ms: 10 }));
    expect(readValidation(same.details)?.verdict).toBe('green');
    expect(same.summary).toBe('queries: 1/1 queries green');

    await admin.query(`DROP INDEX ${S}.applications_waiting_list`);
    try {
      const slow = await validateQueriesAction().run({ ...ctx, stepRecord: record }, params);
      const v = readValidation(slow.details);
      expect(v?.check).toBe('queries');
      expect(v?.verdict).toBe('amber');
      const item = v?.items[0];
      expect(item?.message).toMatch(/ms on PostgreSQL vs .* ms on PostgreSQL \(source\) \(\+\d+ %, tolerance 10 %\)/);
      // Both plans: the target now scans the whole table, the baseline used the index.
      expect(item?.message).toMatch(/PostgreSQL: [^;]*\(100 rows, buffers \d+ hit \/ \d+ read, full scan of applications\)/);
      expect(item?.message).toMatch(/PostgreSQL \(source\): .*Index Scan using applications_waiting_list on applications \(100 rows, buffers \d+ hit \/ \d+ read, no full scan\)/);
      const figures = item?.figures as { target_plan: { scans: string[]; buffers: { hit: number } }; source_plan: { scans: string[] }; target_ms: number; source_ms: number };
      expect(figures.target_plan.scans).toHaveLength(1);
      expect(figures.source_plan.scans).toEqual([]);
      expect(figures.target_plan.buffers.hit).toBeGreaterThan(0);
      expect(figures.target_ms).toBeGreaterThan(figures.source_ms * 1.1);
      expect(slow.summary).toMatch(/^queries: 0\/1 queries green — warning: waiting-list:/);
    } finally {
      await admin.query(`CREATE INDEX applications_waiting_list ON ${S}.applications (waiting_list_number_32) WHERE is_active AND waiting_list_number_32 IS NOT NULL`);
    }
  }, 60_000);

  it('a skipped baseline step is amber with the reason, and PostgreSQL is still measured', async () => {
    const params = validateQueriesParams.parse({ target: 'target', baseline_step: 'baseline' });
    const result = await validateQueriesAction().run({ ...ctx, stepRecord: baselineRecord('skipped', undefined, { by: 'U0DBA', reason: 'source too busy' }) }, params);
    const item = readValidation(result.details)?.items[0];
    expect(item?.verdict).toBe('amber');
    expect(item?.message).toMatch(/^\d+(\.\d+)? ms on PostgreSQL, but no baseline to compare with: the baseline step "baseline" was skipped by <@U0DBA>: source too busy$/);

    const notRun = await validateQueriesAction().run({ ...ctx, stepRecord: baselineRecord('pending') }, params);
    expect(readValidation(notRun.details)?.items[0]?.message).toContain('the baseline step "baseline" has not run in this run (pending)');
  });

  it('a query that fails on PostgreSQL is red and fails the step; a query that fails on the source fails the baseline', async () => {
    const broken = baselineQueriesParams.parse({ source: 'source', runs: 1, queries: [{ name: 'material', source_sql: 'SELECT 1', target_sql: `SELECT * FROM ${S}.no_such_table` }] });
    const base = await baselineQueriesAction().run(ctx, broken);
    const record = (id: string): StepRecord | null => (id === 'baseline' ? { id, action: 'baseline.queries', params: broken, status: 'succeeded', attempt: 1, startedAt: 1, ...(base.details ? { details: base.details } : {}) } : null);
    const err = await thrown(() => validateQueriesAction().run({ ...ctx, stepRecord: record }, validateQueriesParams.parse({ target: 'target', baseline_step: 'baseline' })));
    expect(err.code).toBe('validate.queries_red');
    expect(readValidation(err.details)?.items[0]?.message).toContain(`fails on PostgreSQL: relation "${S}.no_such_table" does not exist`);

    const sourceBroken = await thrown(() => baselineQueriesAction().run(ctx, baselineQueriesParams.parse({ source: 'source', queries: [{ name: 'material', source_sql: 'SELECT * FROM nowhere', target_sql: 'SELECT 1' }] })));
    expect(sourceBroken.code).toBe('queries.baseline_failed');
    expect(String(sourceBroken.details?.['report'])).toContain('`material` failed: relation "nowhere" does not exist');
  });
});
