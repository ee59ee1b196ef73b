import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { openMemoryBackend } from '../../config/memory/backend.js';
import { ActionError, type ActionContext, type ActionImpl, type ActionResult } from '../../engine/action.js';
import type { EngineActions } from '../../engine/actions/index.js';
import { ConnectionRegistry, type ConnectionOpener } from '../../engine/connections.js';
import { RunWatch } from '../../engine/run-watch.js';
import { runStepJob, type StepRunnerDeps } from '../../engine/step-runner.js';
import type { RunEvent } from '../../runbook/events.js';
import { loadRunbook } from '../../runbook/load.js';
import type { StepJob } from '../../runbook/ports.js';
import { RunService } from '../../runbook/run-service.js';

/**
 * The step runner on fake actions: no database, no queue worker. What is
 * asserted is what the runner owns (the events it records for an attempt,
 * the crash-recovery decision, closing the job's connections), not what any
 * action does.
 */
const PASSWORD = 's3cret-pw';
const RUNBOOK = {
  title: 'Runner',
  connections: { target: { kind: 'postgres', url: `postgres://app:${PASSWORD}@127.0.0.1:1/app` } },
  roles: { lead: { title: 'Lead', members: ['ULEAD'], requester_may_approve: true } },
  phases: [
    {
      id: 'p',
      title: 'P',
      steps: [
        { id: 'load', title: 'Load', approve: 'lead', action: 'sql', params: { connection: 'target', sql: 'SELECT 1' } },
        { id: 'notify', title: 'Notify', approve: 'lead', action: 'shell', params: { argv: ['notify-app'] } },
      ],
    },
  ],
};
const text = stringify(RUNBOOK);
const lead = { id: 'ULEAD', groups: [] };
const RUN = 'runner-1';
let now = 1_700_000_000_000;

/** A fake action that records its calls and answers with `outcome`. */
function fakeAction(id: string, outcome: (ctx: ActionContext) => Promise<ActionResult>) {
  const calls: Array<{ ctx: ActionContext; params: unknown }> = [];
  const impl: ActionImpl<unknown> = { id, run: async (ctx, params) => (calls.push({ ctx, params }), outcome(ctx)) };
  return { impl, calls };
}

/** An opener that never connects (ConnectionRegistry is lazy) and remembers what it opened and closed. */
function recordingOpener() {
  const opened: Array<{ names: string[]; closed: boolean }> = [];
  const open: ConnectionOpener = (specs, log) => {
    const registry = new ConnectionRegistry(specs, log);
    const entry = { names: registry.names(), closed: false };
    opened.push(entry);
    registry.close = async () => void (entry.closed = true);
    return registry;
  };
  return { open, opened };
}

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (closers.length > 0) await closers.pop()?.();
});

async function startedRun(impls: Record<string, ActionImpl<unknown>>) {
  const backend = openMemoryBackend(() => now);
  closers.push(() => backend.close());
  const service = new RunService({ store: backend.store, queue: backend.queue, updates: backend.updates, followUps: backend.followUps });
  const loaded = loadRunbook({ name: 'runner', file: 'runner.yaml', text, env: {} });
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
  const started = await service.start({ type: 'start', at: now, actor: lead, runId: RUN, channel: 'C1', dryRun: false, plan: loaded.runbook.plan, runbookFile: 'runner.yaml', runbookText: text });
  expect(started.ok).toBe(true);
  const connections = recordingOpener();
  const actions: EngineActions = { impls, connections: connections.open };
  const deps: StepRunnerDeps = { service, actions, log: pino({ level: 'silent' }), sqlDir: '/nowhere', env: {}, now: () => ++now, watch: new RunWatch(60_000) };
  const approve = async (stepId: string) => expect((await service.execute(RUN, { type: 'approve', at: ++now, actor: lead, stepId, attempt: 1 })).ok).toBe(true);
  const events = async (stepId: string): Promise<RunEvent['type'][]> => {
    const { events: all } = await backend.store.load(RUN);
    return all.filter((e) => 'stepId' in e && e.stepId === stepId).map((e) => e.type);
  };
  const step = async (stepId: string) => (await service.load(RUN))?.steps[stepId];
  /** The job the run queued for the step, as the queue would hand it over (attempt overridden for a stale job). */
  const job = async (stepId: string, attempt = 1): Promise<StepJob> => {
    const { events: all } = await backend.store.load(RUN);
    const queued = all.find((e) => e.type === 'step.queued' && e.stepId === stepId);
    if (queued?.type !== 'step.queued') throw new Error(`${stepId} was not queued`);
    return { runId: RUN, stepId, attempt, jobId: queued.jobId };
  };
  return { service, deps, connections, approve, events, step, job };
}

describe('runStepJob with injected actions', () => {
  it('runs the step\'s action with its parsed params and records started then succeeded with its result', async () => {
    const sql = fakeAction('sql', async () => ({ summary: '1 row', details: { rows: 1 } }));
    const run = await startedRun({ sql: sql.impl });
    await run.approve('load');

    await runStepJob(await run.job('load'), run.deps);

    expect(sql.calls).toHaveLength(1);
    expect(sql.calls[0]?.params).toEqual({ connection: 'target', sql: 'SELECT 1', transaction: true });
    expect(sql.calls[0]?.ctx).toMatchObject({ runId: RUN, stepId: 'load', attempt: 1, dryRun: false, sqlDir: '/nowhere' });
    expect(sql.calls[0]?.ctx.effectKey).not.toBeNull();
    expect(await run.events('load')).toEqual(['step.approval_requested', 'step.approved', 'step.queued', 'step.started', 'step.succeeded']);
    expect(await run.step('load')).toMatchObject({ status: 'succeeded', result: { summary: '1 row', details: { rows: 1 } } });
    // The job's connections came from the injected opener and were closed when it ended.
    expect(run.connections.opened).toEqual([{ names: ['target'], closed: true }]);
  });

  it('records an ActionError as the step\'s failure: its code, its details, and its message without the connection\'s password', async () => {
    const sql = fakeAction('sql', async () => {
      throw new ActionError('sql.failed', `relation "x" does not exist (password ${PASSWORD})`, { details: { sqlstate: '42P01' } });
    });
    const run = await startedRun({ sql: sql.impl });
    await run.approve('load');

    await runStepJob(await run.job('load'), run.deps);

    expect(await run.events('load')).toEqual(['step.approval_requested', 'step.approved', 'step.queued', 'step.started', 'step.failed']);
    const failed = await run.step('load');
    expect(failed).toMatchObject({ status: 'failed', error: { code: 'sql.failed', details: { sqlstate: '42P01' } } });
    expect(failed?.error?.message).toContain('relation "x" does not exist');
    expect(failed?.error?.message).not.toContain(PASSWORD);
    expect(run.connections.opened).toEqual([{ names: ['target'], closed: true }]);
  });

  it('does not run again a step a worker died in when its action may not be repeated, and says why', async () => {
    const sql = fakeAction('sql', async () => ({ summary: 'loaded' }));
    const shell = fakeAction('shell', async () => ({ summary: 'notified' }));
    const run = await startedRun({ sql: sql.impl, shell: shell.impl });
    await run.approve('load');
    await runStepJob(await run.job('load'), run.deps);
    await run.approve('notify');
    // The worker that took the job reported it started, then died.
    expect((await run.service.execute(RUN, { type: 'report.started', at: ++now, stepId: 'notify', attempt: 1, resumed: false })).ok).toBe(true);

    await runStepJob(await run.job('notify'), run.deps);

    expect(shell.calls).toHaveLength(0);
    expect(await run.step('notify')).toMatchObject({ status: 'failed', error: { code: 'worker.crashed' } });
    expect((await run.step('notify'))?.error?.message).toContain('not marked idempotent');
  });

  it('does nothing for the job of an attempt that is not the step\'s current one', async () => {
    const sql = fakeAction('sql', async () => ({ summary: 'loaded' }));
    const run = await startedRun({ sql: sql.impl });
    await run.approve('load');

    await runStepJob(await run.job('load', 2), run.deps);

    expect(sql.calls).toHaveLength(0);
    expect(await run.events('load')).toEqual(['step.approval_requested', 'step.approved', 'step.queued']);
    expect(run.connections.opened).toEqual([]);
  });
});
