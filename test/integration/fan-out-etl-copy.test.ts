import { randomBytes } from 'node:crypto';
import { Job, Queue } from 'bullmq';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ChunkFlows } from '../../config/chunk-flow.js';
import { BullJobQueue, createStepWorker, redisConnection, STEP_QUEUE } from '../../config/job-queue.js';
import type { ActionResult } from '../../engine/action.js';
import { etlCopyAction } from '../../engine/actions/etl-copy.js';
import { schemaApplyAction } from '../../engine/actions/schema-apply.js';
import { etlCopyParams } from '../../runbook/actions/etl-copy.js';
import { schemaApplyParams } from '../../runbook/actions/schema-apply.js';
import { ProductProcess, REDIS_URL, TEST_DATABASE_URL, eventually } from '../support/cutover-processes.js';
import { actionContext, type TestContext } from '../support/engine-context.js';
import { fanOutSource } from '../support/fan-out-source.js';

/**
 * Issue 15, part 3, for etl.copy (no SQL Server here: a generated source in
 * every process). The step job runs in this process on a real BullMQ step
 * worker; two real chunk-worker processes on the same Redis load its chunks.
 * Every row once and both processes booked chunks; progress adds every
 * chunk up; a failing chunk fails the step with its reason and stops the
 * others; an abort stops every chunk and nothing commits afterwards.
 */
const P = process.pid;
const ROWS = 30_000;
const CHUNK_ROWS = 1000;
const prefix = `fanout-${randomBytes(4).toString('hex')}`;
const redis = redisConnection(REDIS_URL, 'fanout-test');
const db = new pg.Pool({ connectionString: TEST_DATABASE_URL });
db.on('error', () => undefined);
const flows = new ChunkFlows(redis, redis, prefix);
const queue = new BullJobQueue(redis, { prefix });
const children: ProductProcess[] = [];
const schemas: string[] = [];

interface Outcome {
  result?: ActionResult;
  error?: Error & { code?: string };
  ctx: TestContext;
}
const outcomes = new Map<string, (o: Outcome) => void>();
const contexts = new Map<string, TestContext>();

const conversion = (schema: string) => ({ source: 'src', target: 'target', target_schema: schema });
const copyParams = (schema: string) => ({ ...conversion(schema), chunk_rows: CHUNK_ROWS, fan_out: 'always', threads: 0 });

const stepConnection = redisConnection(REDIS_URL, 'fanout-test-steps');
const stepWorker = createStepWorker(
  stepConnection,
  async (job, lease, flow) => {
    const ctx = contexts.get(job.jobId);
    if (!ctx) throw new Error(`no context for ${job.jobId}`);
    const stop = lease ? AbortSignal.any([lease, ctx.controller.signal]) : ctx.controller.signal;
    const schema = job.stepId;
    const source = async () => fanOutSource({ rows: ROWS });
    const run = { ...ctx, signal: stop, ...(flow ? { fanOut: flow } : {}) };
    try {
      outcomes.get(job.jobId)?.({ result: await etlCopyAction(source).run(run, etlCopyParams.parse(copyParams(schema))), ctx });
    } catch (err) {
      outcomes.get(job.jobId)?.({ error: err as Error, ctx });
    }
  },
  { prefix, lockDurationMs: 5000, stalledIntervalMs: 2000, flowOf: (job) => flows.flowOf(job) },
);

function startChunkWorker(name: string, schema: string, extra: Record<string, string> = {}): ProductProcess {
  const child = ProductProcess.start(name, 'test/support/chunk-worker-child.ts', {
    REDIS_URL, PREFIX: prefix, DATABASE_URL: TEST_DATABASE_URL, ROWS: String(ROWS), STEP_PARAMS: JSON.stringify(copyParams(schema)), ...extra,
  });
  children.push(child);
  return child;
}

/** Creates the target table, starts two chunk-worker processes, and runs etl.copy as a step job; resolves with its outcome. */
async function copyOnTwoWorkers(extra: Record<string, string> = {}, whileRunning?: (ctx: TestContext) => Promise<void>): Promise<{ outcome: Outcome; workers: ProductProcess[]; schema: string; runId: string }> {
  const schema = `it_fanout_${P}_${schemas.length}`;
  schemas.push(schema);
  const runId = `run-${randomBytes(3).toString('hex')}`;
  const pre = actionContext({ runId, stepId: 'pre' });
  await schemaApplyAction(async () => fanOutSource({ rows: ROWS })).run(pre, schemaApplyParams.parse({ ...conversion(schema), phase: 'pre-load' }));
  await pre.connections.close();
  const workers = [startChunkWorker('chunks-a', schema, extra), startChunkWorker('chunks-b', schema, extra)];
  await Promise.all(workers.map((w) => w.waitForLog('chunk worker ready', 90_000)));
  const jobId = `${runId}.${schema}.1`;
  const ctx = actionContext({ runId, stepId: schema });
  contexts.set(jobId, ctx);
  const done = new Promise<Outcome>((resolve) => outcomes.set(jobId, resolve));
  await queue.enqueue({ jobId, runId, stepId: schema, attempt: 1 });
  await whileRunning?.(ctx);
  const outcome = await done;
  await ctx.connections.close();
  return { outcome, workers, schema, runId };
}

const count = async (sql: string, params: unknown[] = []): Promise<number> => Number((await db.query<{ n: string | null }>(sql, params)).rows[0]?.n ?? 0);
const loaded = (w: ProductProcess): number => w.output.filter((l) => l.includes('"chunk loaded"')).length;

beforeAll(async () => {
  await stepWorker.waitUntilReady();
});

afterEach(async () => {
  await Promise.all(children.splice(0).map((c) => c.kill('SIGTERM')));
});

afterAll(async () => {
  await stepWorker.close();
  await flows.close();
  await queue.close();
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
  stepConnection.disconnect();
  redis.disconnect();
  for (const s of schemas) await db.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
  await db.end();
});

describe('etl.copy fanned out to two worker processes', () => {
  it('loads every row once, both processes book chunks, and the step\'s progress adds every chunk up', async () => {
    const { outcome, workers, schema, runId } = await copyOnTwoWorkers({ DELAY_MS: '20' });
    expect(outcome.error?.message).toBeUndefined();
    expect(outcome.result?.summary).toContain(`Loaded ${ROWS.toLocaleString('en-US')} rows`);
    expect(await count(`SELECT count(*) AS n FROM "${schema}".item`)).toBe(ROWS);
    expect(await count(`SELECT count(DISTINCT it_id) AS n FROM "${schema}".item`)).toBe(ROWS);
    expect(await count('SELECT count(*) AS n FROM cutover_etl.chunks WHERE load_id = $1', [`${runId}/${schema}`])).toBe(ROWS / CHUNK_ROWS);
    const [a, b] = workers.map(loaded);
    expect(a).toBeGreaterThan(0);
    expect(b).toBeGreaterThan(0);
    expect((a ?? 0) + (b ?? 0)).toBe(ROWS / CHUNK_ROWS);
    // Progress counts rows from both processes' chunks, committed and in flight, against the whole table.
    const figures = outcome.ctx.progressed.flatMap((p) => (p.data ? [p.data as { rows: number; expectedRows: number; rowsPerSecond: number; etaSeconds: number | null }] : []));
    expect(figures.length).toBeGreaterThan(0);
    expect(figures.every((f) => f.expectedRows === ROWS && f.rows <= ROWS)).toBe(true);
    expect(Math.max(...figures.map((f) => f.rows))).toBeGreaterThan(2 * CHUNK_ROWS);
    expect(figures.some((f) => f.rowsPerSecond > 0 && f.etaSeconds !== null)).toBe(true);
  }, 180_000);

  it('a failing chunk fails the step with that chunk\'s reason and stops the others', async () => {
    const { outcome, schema, runId } = await copyOnTwoWorkers({ FAIL_AT: '15500', DELAY_MS: '20' });
    expect(outcome.result).toBeUndefined();
    expect(outcome.error?.message).toContain('reading row 15500 failed (a test fault)');
    expect(outcome.error?.message).toMatch(/chunk i15 of it_fanout_\d+_\d+\.item/);
    // Nothing of the failed chunk is booked; what is in the table is exactly what is booked.
    expect(await count('SELECT count(*) AS n FROM cutover_etl.chunks WHERE load_id = $1 AND chunk_id = $2', [`${runId}/${schema}`, 'i15'])).toBe(0);
    const booked = await count('SELECT sum(rows) AS n FROM cutover_etl.chunks WHERE load_id = $1', [`${runId}/${schema}`]);
    expect(booked).toBeLessThan(ROWS);
    expect(await count(`SELECT count(*) AS n FROM "${schema}".item`)).toBe(booked);
  }, 180_000);

  it('an abort stops every chunk: none commits after the step reported, none is left pending', async () => {
    const { outcome, schema, runId } = await copyOnTwoWorkers({ DELAY_MS: '50' }, async (ctx) => {
      await eventually(async () => (await db.query('SELECT 1 FROM cutover_etl.chunks WHERE load_id = $1', [`${ctx.runId}/${ctx.stepId}`]).catch(() => ({ rowCount: 0 }))).rowCount, 60_000, 'a first chunk booked');
      ctx.controller.abort(new Error('the run was aborted (test)'));
    });
    expect(outcome.error?.message).toContain('cancelled');
    const booked = await count('SELECT count(*) AS n FROM cutover_etl.chunks WHERE load_id = $1', [`${runId}/${schema}`]);
    expect(booked).toBeLessThan(ROWS / CHUNK_ROWS);
    // The step reported only once no chunk job was pending any more: nothing can commit after it.
    const steps = new Queue(STEP_QUEUE, { connection: redis, prefix });
    const step = await Job.fromId(steps, `${runId}.${schema}.1`);
    expect((await step?.getDependenciesCount({ unprocessed: true }))?.unprocessed ?? 0).toBe(0);
    await steps.close();
    expect(await count(`SELECT count(*) AS n FROM "${schema}".item`)).toBe(await count('SELECT sum(rows) AS n FROM cutover_etl.chunks WHERE load_id = $1', [`${runId}/${schema}`]));
  }, 180_000);
});
