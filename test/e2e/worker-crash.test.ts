import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunEvent } from '../../runbook/events.js';
import { eventually, TEST_DATABASE_URL, type Installation, type ProductProcess } from '../support/cutover-processes.js';
import { CHANNEL, click, migrate } from '../support/cutover-slack.js';
import { slowRunbook } from '../support/e2e-runbooks.js';
import type { FakeSlack } from '../support/fake-slack.js';
import { startE2E, stopE2E } from '../support/e2e-installation.js';

const SCHEMA = `e2e_crash_${process.pid}`;
let fake: FakeSlack;
let inst: Installation;
let worker: ProductProcess;
let runId: string;
const db = new pg.Pool({ connectionString: TEST_DATABASE_URL });

const rows = async (step: string): Promise<number> =>
  Number((await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${SCHEMA}.applied WHERE step = $1`, [step])).rows[0]?.n);
const stepEvents = async (stepId: string): Promise<RunEvent[]> => (await inst.events(runId)).filter((e) => 'stepId' in e && e.stepId === stepId);
const status = async (stepId: string) => (await inst.state(runId))?.steps[stepId]?.status;

/** Kills the worker with SIGKILL once the step has started, and brings up a fresh one (lock 2 s, stall check 1 s). */
async function crashWorkerDuring(stepId: string, ready: () => Promise<boolean> = async () => true): Promise<void> {
  await eventually(async () => (await status(stepId)) === 'running' && (await ready()), 20_000, `${stepId} running`);
  await worker.kill('SIGKILL');
  worker = await inst.startWorker();
}

beforeAll(async () => {
  ({ fake, inst, worker } = await startE2E({ runbooks: { slow: slowRunbook(SCHEMA) } }));
  await migrate(inst.botUrl, 'U0LEAD', 'start slow');
  runId = await eventually(() => inst.activeRunId('slow'));
  await click(fake, inst.botUrl, 'U0DBA1', 'create', 'approve');
  await eventually(async () => (await status('create')) === 'succeeded', 20_000);
}, 60_000);

afterAll(async () => {
  await stopE2E({ inst, fake });
  await db.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
  await db.end();
});

describe('the worker dies mid-step', () => {
  it('re-runs a transactional SQL step on another worker: its first attempt rolled back, one row in the end', async () => {
    await click(fake, inst.botUrl, 'U0DBA1', 'slow-insert', 'approve');
    await crashWorkerDuring('slow-insert');
    await eventually(async () => (await status('slow-insert')) === 'succeeded', 30_000, 'slow-insert succeeded');
    expect(await rows('slow-insert')).toBe(1);
    const started = (await stepEvents('slow-insert')).filter((e) => e.type === 'step.started');
    expect(started.map((e) => e.type === 'step.started' && e.resumed)).toEqual([false, true]);
  }, 60_000);

  it('reports a transactional SQL step from the effect ledger when the worker died after its COMMIT, before its success event (issue 12)', async () => {
    await worker.kill('SIGTERM');
    worker = await inst.startWorker({ NODE_ENV: 'test', CUTOVER_TEST_KILL_AT: 'ledger-insert@after-commit' });
    await click(fake, inst.botUrl, 'U0DBA1', 'ledger-insert', 'approve');
    await worker.exitCode();
    expect(worker.output.join('\n')).toContain('fault injection: SIGKILL at after-commit of step ledger-insert');
    expect(await rows('ledger-insert')).toBe(1);
    expect(await status('ledger-insert')).toBe('running');
    worker = await inst.startWorker();
    await eventually(async () => (await status('ledger-insert')) === 'succeeded', 30_000, 'ledger-insert succeeded');
    expect(await rows('ledger-insert')).toBe(1);
    const summary = (await inst.state(runId))?.steps['ledger-insert']?.result?.summary;
    expect(summary).toMatch(/^INSERT 1 on "target" .*from the effect ledger: attempt 1 committed it at .* not run again/);
    const started = (await stepEvents('ledger-insert')).filter((e) => e.type === 'step.started');
    expect(started.map((e) => e.type === 'step.started' && e.resumed)).toEqual([false, true]);
  }, 60_000);

  it('does not re-run a shell step that is not idempotent: marks it failed with the reason, and Retry runs it again', async () => {
    await click(fake, inst.botUrl, 'U0DBA2', 'slow-shell', 'approve');
    await crashWorkerDuring('slow-shell');
    await eventually(async () => (await status('slow-shell')) === 'failed', 30_000, 'slow-shell failed');
    const failed = (await stepEvents('slow-shell')).find((e) => e.type === 'step.failed');
    expect(failed).toMatchObject({ code: 'worker.crashed' });
    await fake.waitFor(() => fake.messages.find('not idempotent', { channel: CHANNEL }));
    expect((await stepEvents('slow-shell')).filter((e) => e.type === 'step.started')).toHaveLength(1);

    // The lead started the run, so a DBA retries; the retry counts as the approval of attempt 2.
    await click(fake, inst.botUrl, 'U0DBA2', 'slow-shell', 'retry');
    await eventually(async () => (await status('slow-shell')) === 'succeeded', 30_000, 'slow-shell retried');
    expect((await inst.state(runId))?.steps['slow-shell']?.attempt).toBe(2);
  }, 60_000);

  it('asks the done_when probe after a crash: the effect is there, so the step is marked done without running again', async () => {
    await click(fake, inst.botUrl, 'U0DBA1', 'probed-shell', 'approve');
    await crashWorkerDuring('probed-shell', async () => (await rows('probed-shell')) === 1);
    await eventually(async () => (await status('probed-shell')) === 'succeeded', 30_000, 'probed-shell succeeded');
    expect(await rows('probed-shell')).toBe(1);
    expect((await inst.state(runId))?.steps['probed-shell']?.result?.summary).toContain('Already done');
    expect((await inst.state(runId))?.status).toBe('completed');
  }, 60_000);
});
