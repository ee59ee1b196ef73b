import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { rollbackTruncateAction } from '../../engine/actions/rollback-truncate.js';
import { schemaApplyAction } from '../../engine/actions/schema-apply.js';
import { sqlAction } from '../../engine/actions/sql.js';
import { switchAction } from '../../engine/actions/switch.js';
import { ensureCheckpointTables, insertCheckpoint } from '../../engine/etl/checkpoints.js';
import { EffectAlreadyCommitted, effectKeyOf } from '../../engine/ledger/effect-key.js';
import { findEffect } from '../../engine/ledger/find-effect.js';
import type { SchemaModel } from '../../engine/schema/model.js';
import { ACTIONS } from '../../runbook/action-catalog.js';
import { sqlParams, type SqlParams } from '../../runbook/actions/sql.js';
import { switchParams } from '../../runbook/actions/switch.js';
import { truncateLoadedParams } from '../../runbook/actions/rollback-truncate-loaded.js';
import { actionContext, TEST_DATABASE_URL, thrown, type TestContext } from '../support/engine-context.js';
import { column, table } from '../support/fixtures/kgv-schema.js';
import { MemoryRowSource } from '../support/memory-row-source.js';

/** The effect ledger on PostgreSQL, through the sql action (issue 12: a committed effect is never run twice). */
const S = `cutover_ledger_${process.pid}`;
const RUN = `run-ledger-${process.pid}`;
const params = (p: Record<string, unknown>): SqlParams => sqlParams.parse({ connection: 'target', ...p });
const insert = (id: number, extra = ''): SqlParams => params({ sql: `INSERT INTO ${S}.effects VALUES (${id});${extra}` });

let admin: pg.Pool;
const contexts: TestContext[] = [];
const ctxFor = (stepId: string, attempt = 1, overrides: Partial<TestContext> = {}): TestContext => {
  const ctx = actionContext({ runId: RUN, stepId, attempt, effectKey: effectKeyOf(RUN, stepId, attempt), ...overrides });
  contexts.push(ctx);
  return ctx;
};
const rows = async (id: number): Promise<number> => Number((await admin.query(`SELECT count(*) AS n FROM ${S}.effects WHERE id = $1`, [id])).rows[0].n);
const ledgerRows = async (stepId: string) =>
  (await admin.query<{ job_id: string; attempt: number; result: unknown }>('SELECT job_id, attempt, result FROM cutover.step_effects WHERE run_id = $1 AND step_id = $2', [RUN, stepId])).rows;

beforeAll(async () => {
  admin = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 3 });
  // "Created on first use": start from a database without the ledger (this suite's database; files run one at a time).
  await admin.query(`DROP SCHEMA IF EXISTS cutover CASCADE; DROP SCHEMA IF EXISTS ${S} CASCADE; CREATE SCHEMA ${S}; CREATE TABLE ${S}.effects (id int)`);
});

afterEach(async () => {
  await Promise.all(contexts.splice(0).map((c) => c.connections.close()));
});

afterAll(async () => {
  await admin.query(`DROP SCHEMA IF EXISTS ${S} CASCADE; DELETE FROM cutover.step_effects WHERE run_id = '${RUN}'`);
  await admin.end();
});

describe('the effect ledger on PostgreSQL (sql action)', () => {
  it('answers "not committed" before the ledger exists, creates it on first use, and records the result in the step\'s transaction', async () => {
    const ctx = ctxFor('first');
    expect(await findEffect(ctx.connections, 'target', RUN, 'first')).toBeNull();
    const result = await sqlAction.run(ctx, insert(1));
    expect(await rows(1)).toBe(1);
    const entry = await findEffect(ctx.connections, 'target', RUN, 'first');
    expect(entry).toMatchObject({ jobId: `${RUN}__first__1`, attempt: 1, result });
    expect(entry?.finishedAt).toBeInstanceOf(Date);
  });

  it('refuses to run a step whose effect another attempt committed: nothing runs, the effect stays once', async () => {
    await sqlAction.run(ctxFor('twice', 1), insert(2));
    const err = await thrown(() => sqlAction.run(ctxFor('twice', 2), insert(2)));
    expect(err).toBeInstanceOf(EffectAlreadyCommitted);
    expect(err.code).toBe('ledger.already_committed');
    expect(await rows(2)).toBe(1);
    expect((await ledgerRows('twice')).map((r) => r.attempt)).toEqual([1]);
  });

  it('makes a concurrent second attempt wait on the ledger key and roll back once the first commits', async () => {
    const first = sqlAction.run(ctxFor('concurrent', 1), insert(3, ' SELECT pg_sleep(0.5);'));
    await waitForLedgerLock();
    const second = thrown(() => sqlAction.run(ctxFor('concurrent', 1), insert(3)));
    await first;
    expect(await second).toBeInstanceOf(EffectAlreadyCommitted);
    expect(await rows(3)).toBe(1);
  });

  it('lets the waiting attempt run when the first one is aborted and rolls back (a worker that lost its lock)', async () => {
    const a = ctxFor('aborted', 1);
    const first = thrown(() => sqlAction.run(a, insert(4, ' SELECT pg_sleep(5);')));
    await waitForLedgerLock();
    const second = sqlAction.run(ctxFor('aborted', 1), insert(4));
    a.controller.abort(new Error('lock lost'));
    expect((await first).code).toBe('sql.cancelled');
    await second;
    expect(await rows(4)).toBe(1);
    expect(await ledgerRows('aborted')).toHaveLength(1);
  });

  it('leaves no ledger row when the step fails, so a later attempt runs', async () => {
    const failing = params({ sql: `INSERT INTO ${S}.effects VALUES (5)`, expect: { rows: 2 } });
    expect((await thrown(() => sqlAction.run(ctxFor('fails', 1), failing))).code).toBe('sql.expectation');
    expect(await ledgerRows('fails')).toEqual([]);
    await sqlAction.run(ctxFor('fails', 2), insert(5));
    expect(await rows(5)).toBe(1);
    expect((await ledgerRows('fails')).map((r) => r.attempt)).toEqual([2]);
  });

  it('writes nothing to the ledger in a dry run or without a key', async () => {
    await sqlAction.run(ctxFor('dry', 1, { dryRun: true, effectKey: null }), insert(6));
    await sqlAction.run(actionContext({ runId: RUN, stepId: 'keyless' }), insert(6));
    expect(await ledgerRows('dry')).toEqual([]);
    expect(await ledgerRows('keyless')).toEqual([]);
    expect(await rows(6)).toBe(1);
  });

  it('keeps a result holding U+0000 (json, not jsonb)', async () => {
    const ctx = ctxFor('nul');
    const result = await sqlAction.run(ctx, params({ sql: `INSERT INTO ${S}.effects VALUES (7); SELECT '"a\\u0000b"'::json AS v` }));
    expect(result.details?.rows).toEqual([['a\u0000b']]);
    expect((await findEffect(ctx.connections, 'target', RUN, 'nul'))?.result).toEqual(result);
  });

  it('fails a step whose SQL commits on its own, and its ledger row says the outcome is unknown', async () => {
    const ctx = ctxFor('self-commit');
    const err = await thrown(() => sqlAction.run(ctx, params({ sql: `COMMIT; INSERT INTO ${S}.effects VALUES (8)` })));
    expect(err.code).toBe('sql.transaction_ended');
    expect(await rows(8)).toBe(1);
    const entry = await findEffect(ctx.connections, 'target', RUN, 'self-commit');
    expect(entry).toMatchObject({ attempt: 1, result: null, finishedAt: null });
  });
});

/** Waits until a session of this suite holds an uncommitted ledger row (the first statement of a step's transaction). */
async function waitForLedgerLock(): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const { rows: active } = await admin.query(
      "SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND state = 'active' AND query LIKE '%pg_sleep%' AND pid <> pg_backend_pid()",
    );
    if (active.length > 0) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('the first attempt never reached its statement');
}

describe('the effect ledger in the other actions that commit one transaction', () => {
  const T = `${S}_tx`;
  const ETL = `${S}_etl`;
  const count = async (table: string): Promise<number> => Number((await admin.query(`SELECT count(*) AS n FROM ${T}.${table}`)).rows[0].n);

  beforeAll(async () => {
    await admin.query(`DROP SCHEMA IF EXISTS ${T} CASCADE; CREATE SCHEMA ${T}; CREATE TABLE ${T}.loaded (id int); CREATE TABLE ${T}.flips (at timestamptz DEFAULT now())`);
    await ensureCheckpointTables(admin, ETL);
    await insertCheckpoint(admin, ETL, { loadId: `${RUN}/load`, table: `${T}.loaded`, chunkId: 'c1', rows: 3, quarantined: 0, bytes: 10, startedAt: new Date() });
  });
  afterAll(async () => {
    await admin.query(`DROP SCHEMA IF EXISTS ${T} CASCADE; DROP SCHEMA IF EXISTS ${ETL} CASCADE`);
  });

  it('rollback.truncate_loaded truncates once: a second attempt leaves rows loaded since alone', async () => {
    await admin.query(`INSERT INTO ${T}.loaded SELECT generate_series(1, 3)`);
    const params = truncateLoadedParams.parse({ target: 'target', etl_schema: ETL });
    const first = await rollbackTruncateAction.run(ctxFor('truncate', 1), params);
    expect(await count('loaded')).toBe(0);
    await admin.query(`INSERT INTO ${T}.loaded VALUES (9)`);
    expect(await thrown(() => rollbackTruncateAction.run(ctxFor('truncate', 2), params))).toBeInstanceOf(EffectAlreadyCommitted);
    expect(await count('loaded')).toBe(1);
    expect((await ledgerRows('truncate'))[0]?.result).toEqual(first);
  });

  it('switch flips once: a later attempt keeps the committed flip and its go-live time, and runs the smoke checks again', async () => {
    const params = switchParams.parse({
      flip: { action: 'sql', params: { connection: 'target', sql: `INSERT INTO ${T}.flips DEFAULT VALUES` } },
      smoke: [{ action: 'sql', params: { connection: 'target', sql: `SELECT 1 FROM ${T}.flips` } }],
    });
    const first = await switchAction(() => new Date('2026-03-01T12:00:00.000Z')).run(ctxFor('switch', 1), params);
    expect(first.details?.goLiveAt).toBe('2026-03-01T12:00:00.000Z');
    const ctx = ctxFor('switch', 2);
    const again = await switchAction(() => new Date('2026-03-01T13:00:00.000Z')).run(ctx, params);
    expect(await count('flips')).toBe(1);
    const entry = await findEffect(ctx.connections, 'target', RUN, 'switch');
    expect(again.details?.goLiveAt).toBe(entry?.finishedAt?.toISOString());
    expect(again.summary).toMatch(/taken from the effect ledger, not run again\); 1 smoke checks passed$/);
  });

  it('schema.apply pre-load: an attempt that meets the tables another attempt committed reports that commit, not "tables exist"', async () => {
    // The second attempt runs as one whose ledger lookup came just before the first committed (a worker that lost the job's lock).
    const model: SchemaModel = { sourceKind: 'mssql', database: 'kgv', serverVersion: 'test', collation: 'Latin1_General_CI_AS', others: [], tables: [table('Ort', [column('ort_ID', { nullable: false })], { rowCount: 1 })] };
    const apply = schemaApplyAction(async () => new MemoryRowSource(model, { Ort: [] }));
    const params = ACTIONS['schema.apply']?.params.parse({ source: 'src', target: 'target', phase: 'pre-load', target_schema: `${T}_met` });
    try {
      const first = await apply.run(ctxFor('pre-met', 1), params);
      expect(await thrown(() => apply.run(ctxFor('pre-met', 1), params))).toBeInstanceOf(EffectAlreadyCommitted);
      expect((await ledgerRows('pre-met'))[0]?.result).toEqual(first);
      // Tables made outside this step are still refused, saying so.
      const other = await thrown(() => apply.run(ctxFor('pre-other', 1), params));
      expect(other.code).toBe('schema.tables_exist');
    } finally {
      await admin.query(`DROP SCHEMA IF EXISTS ${T}_met CASCADE`);
    }
  });

  it('schema.apply pre-load creates the tables once: a second attempt with replace: true does not drop what the first made', async () => {
    const model: SchemaModel = { sourceKind: 'mssql', database: 'kgv', serverVersion: 'test', collation: 'Latin1_General_CI_AS', others: [], tables: [table('Bezirk', [column('bez_ID', { nullable: false })], { rowCount: 1 })] };
    const apply = schemaApplyAction(async () => new MemoryRowSource(model, { Bezirk: [] }));
    const params = (replace: boolean) => ACTIONS['schema.apply']?.params.parse({ source: 'src', target: 'target', phase: 'pre-load', target_schema: `${T}_schema`, replace });
    try {
      const first = await apply.run(ctxFor('pre-load', 1), params(false));
      await admin.query(`INSERT INTO ${T}_schema.bezirk VALUES (1)`);
      expect(await thrown(() => apply.run(ctxFor('pre-load', 2), params(true)))).toBeInstanceOf(EffectAlreadyCommitted);
      expect(Number((await admin.query(`SELECT count(*) AS n FROM ${T}_schema.bezirk`)).rows[0].n)).toBe(1);
      expect((await ledgerRows('pre-load'))[0]?.result).toEqual(first);
    } finally {
      await admin.query(`DROP SCHEMA IF EXISTS ${T}_schema CASCADE`);
    }
  });
});
