import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunEvent } from '../../runbook/events.js';
import type { StepState } from '../../runbook/state.js';
import { eventually, TEST_DATABASE_URL, type Installation } from '../support/cutover-processes.js';
import { CHANNEL, click, migrate } from '../support/cutover-slack.js';
import type { FakeSlack } from '../support/fake-slack.js';
import { startE2E, stopE2E } from '../support/e2e-installation.js';

/**
 * Issue 13: a transient error retries by itself. A real worker runs sql steps
 * (effect ledger) that meet a real deadlock and a backend terminated with
 * pg_terminate_backend, each once: the step is tried again after its backoff,
 * the retry is an event and a post in the run's thread, the attempt stays 1,
 * and the effect lands once. A division by zero fails at once.
 */
const P = process.pid;
const S = `e2e_retry_${P}`;
/** Advisory lock keys the test holds to make the step wait exactly where it should. */
const GATE_DEADLOCK = 7_000_000 + (P % 100_000);
const GATE_TERMINATE = GATE_DEADLOCK + 1;
const TITLE = `Transient retries ${P}`;

const runbook = `title: ${TITLE}
roles:
  lead: { title: Migration lead, members: [U0LEAD] }
  dba: { title: Database administrator, members: [U0DBA1, U0DBA2] }
connections:
  target: { kind: postgres, url: "\${TEST_DATABASE_URL}" }
phases:
  - id: retry
    title: Retry
    steps:
      - id: deadlock
        title: Deadlocked once
        approve: dba
        action: sql
        retry: { attempts: 3, backoff: 1s }
        params:
          connection: target
          sql: "SET LOCAL deadlock_timeout = '100ms'; UPDATE ${S}.pair SET n = n + 1 WHERE id = 1; SELECT pg_advisory_xact_lock(${GATE_DEADLOCK}); UPDATE ${S}.pair SET n = n + 1 WHERE id = 2; INSERT INTO ${S}.applied (step) VALUES ('deadlock')"
      - id: terminated
        title: Backend terminated once
        approve: dba
        action: sql
        retry: { attempts: 3, backoff: 1s }
        params:
          connection: target
          sql: "SELECT pg_advisory_xact_lock(${GATE_TERMINATE}); INSERT INTO ${S}.applied (step) VALUES ('terminated')"
      - id: broken
        title: Not transient
        approve: dba
        action: sql
        params:
          connection: target
          sql: "INSERT INTO ${S}.applied (step) VALUES ('broken'); SELECT 1 / 0"
`;

let fake: FakeSlack;
let inst: Installation;
let runId: string;
const db = new pg.Pool({ connectionString: TEST_DATABASE_URL });
db.on('error', () => undefined);
/** Sessions of the test itself: one holds a row, one holds the advisory gates. */
const holder = new pg.Client({ connectionString: TEST_DATABASE_URL });
const gate = new pg.Client({ connectionString: TEST_DATABASE_URL });
holder.on('error', () => undefined);
gate.on('error', () => undefined);

const count = async (sql: string, params: unknown[] = []): Promise<number> => Number((await db.query<{ n: string }>(sql, params)).rows[0]?.n);
const applied = (step: string) => count(`SELECT count(*) AS n FROM ${S}.applied WHERE step = $1`, [step]);
const ledgerRows = (step: string) => count('SELECT count(*) AS n FROM cutover.step_effects WHERE run_id = $1 AND step_id = $2', [runId, step]);
const stepOf = async (stepId: string): Promise<StepState | undefined> => (await inst.state(runId))?.steps[stepId];
const eventsOf = async (stepId: string, type: RunEvent['type']) => (await inst.events(runId)).filter((e) => e.type === type && 'stepId' in e && e.stepId === stepId);

/** The pid of a backend waiting on a lock while running SQL that contains `text` (the step's backend runs the whole text). */
const waitingBackend = (text: string, waitEvent?: string) =>
  eventually(async () => {
    const { rows } = await db.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND ($2::text IS NULL OR wait_event = $2) AND position($1 in query) > 0`,
      [text, waitEvent ?? null],
    );
    return rows[0]?.pid;
  }, 60_000, `a backend waiting in "${text}"`);

const settled = (stepId: string): Promise<StepState> =>
  eventually(async () => {
    const step = await stepOf(stepId);
    return step && (step.status === 'succeeded' || step.status === 'failed') ? step : null;
  }, 60_000, `${stepId} settled`);

const rootOf = () => fake.waitFor(() => fake.messages.find(TITLE, { channel: CHANNEL }), 15_000);

beforeAll(async () => {
  await db.query(`DROP SCHEMA IF EXISTS ${S} CASCADE; CREATE SCHEMA ${S}; CREATE TABLE ${S}.applied (step text NOT NULL); CREATE TABLE ${S}.pair (id int PRIMARY KEY, n int NOT NULL); INSERT INTO ${S}.pair VALUES (1, 0), (2, 0)`);
  await holder.connect();
  await gate.connect();
  // The step is the one meant to lose the deadlock: it checks after 100 ms, the test's session only after a minute.
  await holder.query("SET deadlock_timeout = '60s'");
  ({ fake, inst } = await startE2E({ runbooks: { retries: runbook }, worker: { NODE_ENV: 'test' } }));
  await migrate(inst.botUrl, 'U0LEAD', 'start retries');
  runId = await eventually(() => inst.activeRunId('retries'));
}, 180_000);

afterAll(async () => {
  await stopE2E({ inst, fake });
  await holder.end().catch(() => undefined);
  await gate.end().catch(() => undefined);
  await db.query(`DROP SCHEMA IF EXISTS ${S} CASCADE`);
  await db.end();
});

describe('automatic retry of transient errors (issue 13)', () => {
  it('a real deadlock fails the first try; the worker retries after its backoff, says so in the thread, and the effect lands once on attempt 1', async () => {
    await gate.query('SELECT pg_advisory_lock($1)', [GATE_DEADLOCK]);
    await holder.query('BEGIN');
    await holder.query(`UPDATE ${S}.pair SET n = n + 1 WHERE id = 2`);
    await click(fake, inst.botUrl, 'U0DBA1', 'deadlock', 'approve');
    // The step holds row 1 and waits at the gate; the test's session then waits for row 1 while holding row 2…
    await waitingBackend(`pg_advisory_xact_lock(${GATE_DEADLOCK})`, 'advisory');
    const crossing = holder.query(`UPDATE ${S}.pair SET n = n + 1 WHERE id = 1 -- the test's`);
    await waitingBackend("WHERE id = 1 -- the test's");
    // …and the gate opens: the step reaches for row 2, closing the cycle; its deadlock check (100 ms) picks it as the victim.
    await gate.query('SELECT pg_advisory_unlock($1)', [GATE_DEADLOCK]);
    await crossing;
    await holder.query('COMMIT');

    const step = await settled('deadlock');
    expect(step.status).toBe('succeeded');
    expect(step.attempt).toBe(1);
    const retrying = await eventsOf('deadlock', 'step.retrying');
    expect(retrying).toEqual([expect.objectContaining({ attempt: 1, try: 1, of: 3, code: 'postgres.40P01', delayMs: 1000 })]);
    expect(await eventsOf('deadlock', 'step.failed')).toEqual([]);
    expect(await applied('deadlock')).toBe(1);
    expect(await ledgerRows('deadlock')).toBe(1);
    // Both sessions' increments, each once: the step's rolled-back first try left nothing behind.
    expect((await db.query(`SELECT n FROM ${S}.pair ORDER BY id`)).rows.map((r: { n: number }) => r.n)).toEqual([2, 2]);

    const root = await rootOf();
    const post = await fake.waitFor(() => fake.messages.find('Retrying automatically', { channel: CHANNEL, threadTs: root.ts }), 15_000);
    expect(post.text).toContain('"Deadlocked once"');
    expect(post.text).toContain('try 1 of 3');
    expect(post.text).toContain('postgres.40P01');
    expect(post.text).toContain('Try 2 of 3 starts in 1s');
  }, 180_000);

  it('a backend terminated by pg_terminate_backend mid-step is retried; the effect lands once', async () => {
    await gate.query('SELECT pg_advisory_lock($1)', [GATE_TERMINATE]);
    await click(fake, inst.botUrl, 'U0DBA1', 'terminated', 'approve');
    const pid = await waitingBackend(`pg_advisory_xact_lock(${GATE_TERMINATE})`, 'advisory');
    expect((await db.query<{ ok: boolean }>('SELECT pg_terminate_backend($1) AS ok', [pid])).rows[0]?.ok).toBe(true);
    await eventually(async () => (await eventsOf('terminated', 'step.retrying')).length === 1, 60_000, 'the retry on record');
    await gate.query('SELECT pg_advisory_unlock($1)', [GATE_TERMINATE]);

    const step = await settled('terminated');
    expect(step.status).toBe('succeeded');
    expect(step.attempt).toBe(1);
    const [retry] = await eventsOf('terminated', 'step.retrying');
    expect(retry).toMatchObject({ try: 1, of: 3 });
    expect(['postgres.57P01', 'postgres.connection_lost']).toContain((retry as { code: string }).code);
    expect(await applied('terminated')).toBe(1);
    expect(await ledgerRows('terminated')).toBe(1);
    const root = await rootOf();
    await fake.waitFor(() => fake.messages.find('"Backend terminated once"', { channel: CHANNEL, threadTs: root.ts }), 15_000);
  }, 180_000);

  it('a division by zero is not transient: the step fails on its first try, with nothing retried and nothing left behind', async () => {
    await click(fake, inst.botUrl, 'U0DBA1', 'broken', 'approve');
    const step = await settled('broken');
    expect(step.status).toBe('failed');
    expect(step.attempt).toBe(1);
    expect(step.error?.message).toContain('division by zero');
    expect(step.error?.message).not.toContain('try ');
    expect(await eventsOf('broken', 'step.retrying')).toEqual([]);
    expect(await applied('broken')).toBe(0);
    // The audit (every event) holds both retries, in order, with their codes.
    const audit = (await inst.events(runId)).filter((e) => e.type === 'step.retrying').map((e) => ('stepId' in e ? e.stepId : ''));
    expect(audit).toEqual(['deadlock', 'terminated']);
  }, 120_000);
});
