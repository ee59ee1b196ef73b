import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunEvent } from '../../runbook/events.js';
import { eventually, TEST_DATABASE_URL, type Installation, type ProductProcess } from '../support/cutover-processes.js';
import { click, migrate } from '../support/cutover-slack.js';
import type { FakeSlack } from '../support/fake-slack.js';
import { startOwnRedis, type OwnRedis } from '../support/own-redis.js';
import { startE2E, stopE2E } from '../support/e2e-installation.js';

/**
 * Issue 12: a worker that loses a job's lock (its Redis stalled longer than
 * the lock) must stop the step before another worker takes the job over, and
 * a job BullMQ fails for stalling too often resolves from the effect ledger by
 * itself. Real web and worker processes on a Redis of this test's own (it is
 * SIGSTOPped), real PostgreSQL, real BullMQ; lock 2 s, stalled check 1 s.
 */
const SCHEMA = `e2e_lockloss_${process.pid}`;
const MARKER = `lockloss_marker_${process.pid}`;
const roles = `
roles:
  dba: { title: Database administrator, members: [U0DBA1, U0DBA2] }
  lead: { title: Migration lead, members: [U0LEAD] }
connections:
  target: { kind: postgres, url: "\${TEST_DATABASE_URL}" }
`;
const insert = (step: string) => `INSERT INTO ${SCHEMA}.applied (step) VALUES ('${step}');`;
const runbook = `title: Lock loss ${SCHEMA}
${roles}
phases:
  - id: steps
    title: Steps
    steps:
      - id: create
        title: Create marker table
        approve: dba
        action: sql
        params: { connection: target, sql: "DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE; CREATE SCHEMA ${SCHEMA}; CREATE TABLE ${SCHEMA}.applied (step text NOT NULL);" }
      - id: long-insert
        title: A long transaction
        approve: dba
        action: sql
        params: { connection: target, sql: "SELECT pg_sleep(4) AS ${MARKER}; ${insert('long-insert')}" }
      - id: committed-then-stalled
        title: Committed, then its worker died and BullMQ gave up on the job
        approve: dba
        action: sql
        params: { connection: target, sql: "${insert('committed-then-stalled')}" }
      - id: uncommitted-then-stalled
        title: Killed inside its transaction, then BullMQ gave up on the job
        approve: dba
        action: sql
        params: { connection: target, sql: "${insert('uncommitted-then-stalled')}" }
`;

let fake: FakeSlack;
let redis: OwnRedis;
let inst: Installation;
let workers: ProductProcess[] = [];
let runId: string;
const db = new pg.Pool({ connectionString: TEST_DATABASE_URL });

const rows = async (step: string): Promise<number> =>
  Number((await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${SCHEMA}.applied WHERE step = $1`, [step])).rows[0]?.n);
const stepEvents = async (stepId: string): Promise<RunEvent[]> => (await inst.events(runId)).filter((e) => 'stepId' in e && e.stepId === stepId);
const status = async (stepId: string) => (await inst.state(runId))?.steps[stepId]?.status;
const markerRunning = async (): Promise<boolean> =>
  (await db.query("SELECT 1 FROM pg_stat_activity WHERE state = 'active' AND query LIKE $1 AND pid <> pg_backend_pid()", [`%AS ${MARKER}%`])).rows.length > 0;
const output = (): string => workers.flatMap((w) => w.output).join('\n');

async function replaceWorkers(...envs: Array<Record<string, string>>): Promise<void> {
  await Promise.all(workers.map((w) => w.kill('SIGTERM')));
  workers = [];
  for (const env of envs) workers.push(await inst.startWorker(env));
}

/** A started event per entry, with its resumed flag, and how many success events the step has. */
async function reported(stepId: string): Promise<{ started: boolean[]; succeeded: number }> {
  const events = await stepEvents(stepId);
  return {
    started: events.flatMap((e) => (e.type === 'step.started' ? [e.resumed] : [])),
    succeeded: events.filter((e) => e.type === 'step.succeeded').length,
  };
}

beforeAll(async () => {
  redis = await startOwnRedis();
  ({ fake, inst } = await startE2E({ runbooks: { lockloss: runbook }, redisUrl: redis.url, worker: false }));
  await replaceWorkers({}, {});
  await migrate(inst.botUrl, 'U0LEAD', 'start lockloss');
  runId = await eventually(() => inst.activeRunId('lockloss'));
  await click(fake, inst.botUrl, 'U0DBA1', 'create', 'approve');
  await eventually(async () => (await status('create')) === 'succeeded', 20_000, 'create succeeded');
}, 90_000);

afterAll(async () => {
  redis?.resume();
  await stopE2E({ inst, fake });
  await redis?.stop();
  await db.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
  await db.end();
});

describe('a worker that loses its job lock', () => {
  it('stops its transactional step while Redis is stalled, before anyone can take the job over; the step runs to its effect once and is reported once', async () => {
    await click(fake, inst.botUrl, 'U0DBA1', 'long-insert', 'approve');
    await eventually(async () => (await status('long-insert')) === 'running' && (await markerRunning()), 20_000, 'long-insert inside its transaction');
    const pausedAt = Date.now();
    redis.pause();
    try {
      // Redis answers nothing now, so no other worker can take the job over: the step must stop on this worker's own judgement.
      await eventually(async () => !(await markerRunning()), 10_000, 'the step cancelled while Redis is stalled');
      expect(await rows('long-insert')).toBe(0);
      // Held past the 2 s lock, so its key expires on the server and another worker may take the job once Redis answers.
      await eventually(async () => Date.now() - pausedAt > 3_000, 5_000, 'the lock outlived');
    } finally {
      redis.resume();
    }
    await eventually(async () => (await status('long-insert')) === 'succeeded', 40_000, 'long-insert succeeded after Redis came back');
    expect(await rows('long-insert')).toBe(1);
    expect(await reported('long-insert')).toEqual({ started: [false, true], succeeded: 1 });
    expect(output()).toContain('worker.lock_lost');
  }, 90_000);
});

describe('a job BullMQ declares stalled more than allowed (WORKER_MAX_STALLED_COUNT=0: the first stall fails it)', () => {
  it('on a step whose effect committed: resolves from the effect ledger by itself, not run again, no person asked', async () => {
    await replaceWorkers({ NODE_ENV: 'test', CUTOVER_TEST_KILL_AT: 'committed-then-stalled@after-commit', WORKER_MAX_STALLED_COUNT: '0' });
    await click(fake, inst.botUrl, 'U0DBA1', 'committed-then-stalled', 'approve');
    await workers[0]?.exitCode();
    expect(await rows('committed-then-stalled')).toBe(1);
    await replaceWorkers({ WORKER_MAX_STALLED_COUNT: '0' });
    await eventually(async () => (await status('committed-then-stalled')) === 'succeeded', 40_000, 'committed-then-stalled succeeded');
    expect(output()).toMatch(/"outcome":"requeued".*job stalled more than allowed/);
    expect(await rows('committed-then-stalled')).toBe(1);
    expect((await inst.state(runId))?.steps['committed-then-stalled']?.result?.summary).toContain('from the effect ledger: attempt 1 committed it');
    expect(await reported('committed-then-stalled')).toEqual({ started: [false, true], succeeded: 1 });
  }, 90_000);

  it('on a step killed inside its transaction: the ledger holds nothing, so it runs again by itself, once', async () => {
    await replaceWorkers({ NODE_ENV: 'test', CUTOVER_TEST_KILL_AT: 'uncommitted-then-stalled@in-effect', WORKER_MAX_STALLED_COUNT: '0' });
    await click(fake, inst.botUrl, 'U0DBA1', 'uncommitted-then-stalled', 'approve');
    await workers[0]?.exitCode();
    expect(await rows('uncommitted-then-stalled')).toBe(0);
    await replaceWorkers({ WORKER_MAX_STALLED_COUNT: '0' });
    await eventually(async () => (await status('uncommitted-then-stalled')) === 'succeeded', 40_000, 'uncommitted-then-stalled succeeded');
    expect(output()).toMatch(/"outcome":"requeued".*job stalled more than allowed/);
    expect(await rows('uncommitted-then-stalled')).toBe(1);
    expect(await reported('uncommitted-then-stalled')).toEqual({ started: [false, true], succeeded: 1 });
    expect((await inst.state(runId))?.status).toBe('completed');
  }, 90_000);
});
