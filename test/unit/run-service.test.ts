import { describe, expect, it } from 'vitest';
import type { Command } from '../../runbook/decide.js';
import type { RunEvent } from '../../runbook/events.js';
import type { AppendResult, JobQueue, RunStore, StepJob } from '../../runbook/ports.js';
import { reconcileRuns } from '../../runbook/reconcile.js';
import { RunService, type RunUpdates } from '../../runbook/run-service.js';
import { at, cmd, makePlan, planOfSteps, RUN_ID, startCommand, USERS } from '../support/runbook-factory.js';

const { lead, dba1, dba2 } = USERS;

type JobState = Awaited<ReturnType<JobQueue['state']>>;

/** In-memory RunStore with the same contract as the Redis one: append only at the expected version. */
class MemoryRunStore implements RunStore<RunEvent> {
  readonly streams = new Map<string, RunEvent[]>();
  readonly slots = new Map<string, string>();
  readonly started = new Map<string, { runbook: string; startedAt: number }>();
  appends = 0;
  conflicts = 0;
  /**
   * Runs once, after the caller loaded and before its append is checked: the
   * place where a concurrent writer (another web process, a double click) gets in.
   */
  interleave: (() => Promise<void>) | null = null;

  async load(runId: string): Promise<{ events: RunEvent[]; version: number }> {
    const events = this.streams.get(runId) ?? [];
    return { events: [...events], version: events.length };
  }

  async loadAfter(runId: string, known: { version: number }): Promise<{ events: RunEvent[]; version: number; cursor: null } | null> {
    const events = this.streams.get(runId) ?? [];
    return events.length < known.version ? null : { events: events.slice(known.version), version: events.length, cursor: null };
  }

  async append(runId: string, expectedVersion: number, events: RunEvent[]): Promise<AppendResult> {
    const concurrent = this.interleave;
    this.interleave = null;
    if (concurrent) await concurrent();
    this.appends++;
    const stream = this.streams.get(runId) ?? [];
    if (stream.length !== expectedVersion) {
      this.conflicts++;
      return { ok: false, reason: 'conflict', actualVersion: stream.length };
    }
    stream.push(...events);
    this.streams.set(runId, stream);
    return { ok: true, version: stream.length };
  }

  async create(runId: string, runbook: string, events: RunEvent[]): Promise<{ ok: true } | { ok: false; activeRunId: string }> {
    const active = this.slots.get(runbook);
    if (active !== undefined) return { ok: false, activeRunId: active };
    this.slots.set(runbook, runId);
    this.streams.set(runId, [...events]);
    this.started.set(runId, { runbook, startedAt: events[0]?.at ?? 0 });
    return { ok: true };
  }

  async release(runbook: string, runId: string): Promise<void> {
    if (this.slots.get(runbook) === runId) this.slots.delete(runbook);
  }

  async active(): Promise<Array<{ runbook: string; runId: string }>> {
    return [...this.slots].map(([runbook, runId]) => ({ runbook, runId }));
  }

  async recent(limit: number): Promise<Array<{ runId: string; runbook: string; startedAt: number }>> {
    return [...this.started]
      .map(([runId, s]) => ({ runId, ...s }))
      .sort((a, b) => b.startedAt - a.startedAt)
      .slice(0, limit);
  }

  /** Writes events behind the service's back, as a crash-interrupted writer would have. */
  force(runId: string, ...events: RunEvent[]): void {
    this.streams.set(runId, [...(this.streams.get(runId) ?? []), ...events]);
  }
}

/** In-memory JobQueue keyed by job id, like BullMQ: enqueuing an existing id adds nothing. */
class MemoryQueue implements JobQueue {
  readonly calls: StepJob[] = [];
  readonly jobs = new Map<string, { job: StepJob; state: JobState }>();

  async enqueue(job: StepJob): Promise<void> {
    this.calls.push(job);
    if (!this.jobs.has(job.jobId)) this.jobs.set(job.jobId, { job, state: { state: 'waiting' } });
  }

  async state(jobId: string): Promise<JobState> {
    return this.jobs.get(jobId)?.state ?? { state: 'missing' };
  }

  set(jobId: string, state: JobState): void {
    const known = this.jobs.get(jobId);
    if (!known) throw new Error(`no job ${jobId}`);
    known.state = state;
  }

  drop(jobId: string): void {
    this.jobs.delete(jobId);
  }
}

class MemoryUpdates implements RunUpdates {
  readonly published: string[] = [];
  async publish(runId: string): Promise<void> {
    this.published.push(runId);
  }
}

function setup(maxRounds?: number, observe?: ConstructorParameters<typeof RunService>[0]['observe']) {
  const store = new MemoryRunStore();
  const queue = new MemoryQueue();
  const updates = new MemoryUpdates();
  const service = new RunService({ store, queue, updates, ...(maxRounds ? { maxRounds } : {}), ...(observe ? { observe } : {}) });
  return { store, queue, updates, service };
}

type RunCommand = Exclude<Command, { type: 'start' }>;

async function run(service: RunService, commands: RunCommand[], runId = RUN_ID): Promise<void> {
  for (const c of commands) {
    const outcome = await service.execute(runId, c);
    if (!outcome.ok) throw new Error(`fixture command ${c.type} refused: ${outcome.code} ${outcome.message}`);
  }
}

/** Default plan started and "ready" approved: "backup" waits for a DBA. */
async function atBackup() {
  const env = setup();
  expect((await env.service.start(startCommand())).ok).toBe(true);
  await run(env.service, [cmd.approve('ready', dba1)]);
  return env;
}

const eventsOf = (store: MemoryRunStore, type: RunEvent['type'], runId = RUN_ID): RunEvent[] =>
  (store.streams.get(runId) ?? []).filter((e) => e.type === type);

describe('RunService', () => {
  it('start creates the run in the runbook’s slot, requests the first approval and publishes', async () => {
    const { store, updates, service } = setup();
    const outcome = await service.start(startCommand());
    expect(outcome.ok).toBe(true);
    expect(store.slots.get('demo')).toBe(RUN_ID);
    expect(store.streams.get(RUN_ID)?.map((e) => e.type)).toEqual(['run.started', 'step.approval_requested']);
    expect(updates.published).toEqual([RUN_ID]);
    expect((await service.load(RUN_ID))?.steps.ready?.status).toBe('awaiting_approval');
  });

  it('enqueues a queued step once, with its deterministic job id', async () => {
    const { queue, service } = await atBackup();
    const outcome = await service.execute(RUN_ID, cmd.approve('backup', dba2));
    expect(outcome.ok && outcome.events.map((e) => e.type)).toEqual(['step.approved', 'step.queued']);
    // Later commands on the same step (a second click, the worker's reports) enqueue nothing more.
    expect((await service.execute(RUN_ID, cmd.approve('backup', dba1))).ok).toBe(false);
    await run(service, [cmd.started('backup'), cmd.progress('backup', 'half')]);
    expect(queue.calls).toEqual([{ jobId: 'run-demo-1__backup__1', runId: RUN_ID, stepId: 'backup', attempt: 1 }]);
  });

  it('a refusal appends nothing and publishes nothing', async () => {
    const { store, updates, service } = await atBackup();
    const before = store.streams.get(RUN_ID)?.length;
    const published = updates.published.length;
    const outcome = await service.execute(RUN_ID, cmd.approve('backup', USERS.owner));
    expect(outcome).toMatchObject({ ok: false, code: 'role.not_member' });
    expect(outcome.state?.steps.backup?.status).toBe('awaiting_approval');
    expect(store.streams.get(RUN_ID)?.length).toBe(before);
    expect(updates.published.length).toBe(published);
  });

  it('tells its observer of each batch it appended, with the run after it; nothing for a refusal', async () => {
    const seen: Array<{ version: number; types: string[] }> = [];
    const { service } = setup(undefined, (state, events) => seen.push({ version: state.version, types: events.map((e) => e.type) }));
    await service.start(startCommand());
    await run(service, [cmd.approve('ready', dba1)]);
    expect((await service.execute(RUN_ID, cmd.approve('backup', USERS.owner))).ok).toBe(false);
    expect(seen).toEqual([
      { version: 2, types: ['run.started', 'step.approval_requested'] },
      { version: 5, types: ['step.approved', 'step.succeeded', 'step.approval_requested'] },
    ]);
  });

  it('a throwing observer fails neither the command nor its effects (metrics are secondary)', async () => {
    const { queue, updates, service } = setup(undefined, () => {
      throw new Error('metrics broke');
    });
    await service.start(startCommand());
    await run(service, [cmd.approve('ready', dba1)]);
    const outcome = await service.execute(RUN_ID, cmd.approve('backup', dba2));
    expect(outcome.ok).toBe(true);
    expect(queue.calls.map((j) => j.jobId)).toEqual(['run-demo-1__backup__1']);
    expect(updates.published).toHaveLength(3);
  });

  it('a retry enqueues the new attempt under a new job id', async () => {
    const { queue, service } = await atBackup();
    await run(service, [cmd.approve('backup', dba2), cmd.started('backup'), cmd.failed('backup'), cmd.retry('backup', dba1)]);
    expect(queue.calls.map((j) => j.jobId)).toEqual(['run-demo-1__backup__1', 'run-demo-1__backup__2']);
  });

  describe('a concurrent writer between load and append', () => {
    it('makes the service re-decide, and a duplicate approval becomes a refusal', async () => {
      const { store, service } = setup();
      await service.start(startCommand({ plan: makePlan({ roles: { dba: { minApprovals: 2 } } }) }));
      const other = new RunService({ store, queue: new MemoryQueue(), updates: new MemoryUpdates() });
      // The same click delivered twice (a Slack retry reaching the other web process first).
      store.interleave = async () => {
        expect((await other.execute(RUN_ID, cmd.approve('ready', dba1, { at: at(1) }))).ok).toBe(true);
      };
      const outcome = await service.execute(RUN_ID, cmd.approve('ready', dba1, { at: at(1) }));
      expect(store.conflicts).toBe(1);
      expect(outcome).toMatchObject({ ok: false, code: 'approval.duplicate', message: 'You already approved "Team ready" at 22:01 UTC.' });
      // The refusal's state is the one the second decision saw: with the other writer's approval in it.
      expect(outcome.state?.steps.ready?.approvals).toEqual([{ by: dba1, at: at(1) }]);
      expect(eventsOf(store, 'step.approved')).toHaveLength(1);
    });

    it('the second decision builds on the first: two different approvers make 2-of-2 once', async () => {
      const { store, service } = setup();
      await service.start(startCommand({ plan: makePlan({ roles: { dba: { minApprovals: 2 } } }) }));
      const other = new RunService({ store, queue: new MemoryQueue(), updates: new MemoryUpdates() });
      store.interleave = async () => void (await other.execute(RUN_ID, cmd.approve('ready', dba2)));
      const outcome = await service.execute(RUN_ID, cmd.approve('ready', dba1));
      expect(outcome.ok && outcome.events.map((e) => e.type)).toEqual(['step.approved', 'step.succeeded', 'step.approval_requested']);
      expect(eventsOf(store, 'step.approved').map((e) => ('by' in e ? e.by : null))).toEqual([dba2, dba1]);
      expect(eventsOf(store, 'step.succeeded')).toHaveLength(1);
    });

    it('a step queued by the other writer is not queued again', async () => {
      const { store, queue, service } = await atBackup();
      const otherQueue = new MemoryQueue();
      const other = new RunService({ store, queue: otherQueue, updates: new MemoryUpdates() });
      store.interleave = async () => void (await other.execute(RUN_ID, cmd.approve('backup', dba2, { at: at(2) })));
      const outcome = await service.execute(RUN_ID, cmd.approve('backup', dba1, { at: at(2) }));
      expect(outcome).toMatchObject({ ok: false, code: 'step.not_waiting', message: '"Back up the source" is already approved by <@UDBA2> at 22:02 UTC and is queued.' });
      expect(eventsOf(store, 'step.queued')).toHaveLength(1);
      expect([...otherQueue.calls, ...queue.calls].map((j) => j.jobId)).toEqual(['run-demo-1__backup__1']);
    });

    it('gives up after maxRounds with a sentence, writing and enqueuing nothing', async () => {
      const { store, queue, updates, service } = await (async () => {
        const env = setup(3);
        await env.service.start(startCommand());
        return env;
      })();
      // Every round, someone else writes first.
      const original = store.append.bind(store);
      store.append = async (runId, expected, events) => {
        store.force(runId, { type: 'step.progress', at: at(1), stepId: 'nope', attempt: 1, message: 'noise' });
        return original(runId, expected, events);
      };
      const outcome = await service.execute(RUN_ID, cmd.approve('ready', dba1));
      expect(outcome).toMatchObject({ ok: false, code: 'run.contended', message: 'Too many people changed this run at the same moment; try again.' });
      expect(store.conflicts).toBe(3);
      expect(eventsOf(store, 'step.approved')).toHaveLength(0);
      expect(queue.calls).toEqual([]);
      expect(updates.published).toEqual([RUN_ID]);
    });
  });

  it('an aborted run releases its active slot, so the runbook can be started again', async () => {
    const { store, service } = await atBackup();
    await run(service, [cmd.abort(lead, 'window closed')]);
    expect(store.slots.has('demo')).toBe(false);
    const again = await service.start(startCommand({ runId: 'run-demo-2' }));
    expect(again.ok).toBe(true);
    expect(store.slots.get('demo')).toBe('run-demo-2');
  });

  it('a completed run releases its active slot', async () => {
    const { store, service } = setup();
    await service.start(startCommand({ plan: planOfSteps([{ id: 'only', approve: 'dba', action: 'sql' }]) }));
    await run(service, [cmd.approve('only', dba1), cmd.started('only')]);
    expect(store.slots.get('demo')).toBe(RUN_ID);
    await run(service, [cmd.succeeded('only')]);
    expect((await service.load(RUN_ID))?.status).toBe('completed');
    expect(store.slots.has('demo')).toBe(false);
  });

  it('refuses a second start of the same runbook, naming the active run, and writes nothing for it', async () => {
    const { store, updates, service } = setup();
    await service.start(startCommand());
    const outcome = await service.start(startCommand({ runId: 'run-demo-2', actor: { id: dba1 } }));
    expect(outcome).toMatchObject({
      ok: false,
      code: 'run.already_active',
      message: 'A run of demo is already active (run-demo-1); finish or abort it first.',
    });
    expect(outcome.state?.runId).toBe(RUN_ID);
    expect(store.streams.has('run-demo-2')).toBe(false);
    expect(updates.published).toEqual([RUN_ID]);
  });

  it('a start the runbook does not permit claims no slot', async () => {
    const { store, service } = setup();
    const outcome = await service.start(startCommand({ plan: makePlan({ permissions: { start: ['lead'] } }), actor: { id: dba1 } }));
    expect(outcome).toMatchObject({ ok: false, code: 'role.not_permitted', state: null });
    expect(store.slots.size).toBe(0);
  });

  it('another runbook may run at the same time', async () => {
    const { store, service } = setup();
    await service.start(startCommand());
    const other = await service.start(startCommand({ runId: 'run-erp-1', plan: makePlan({ runbook: 'erp' }) }));
    expect(other.ok).toBe(true);
    expect(await store.active()).toEqual([
      { runbook: 'demo', runId: RUN_ID },
      { runbook: 'erp', runId: 'run-erp-1' },
    ]);
  });
});

describe('reconcileRuns', () => {
  const now = () => at(30);
  const reconcile = (env: ReturnType<typeof setup>) => reconcileRuns({ store: env.store, queue: env.queue, service: env.service, now });

  it('re-enqueues a queued step whose job is missing, under the same job id', async () => {
    const env = await atBackup();
    await run(env.service, [cmd.approve('backup', dba2)]);
    env.queue.drop('run-demo-1__backup__1'); // Redis lost the job, or the web process died before enqueuing.
    const report = await reconcile(env);
    expect(report).toEqual({ runs: 1, requeued: ['run-demo-1__backup__1'], failed: [], released: [], unreadable: [] });
    expect(env.queue.calls.at(-1)).toEqual({ jobId: 'run-demo-1__backup__1', runId: RUN_ID, stepId: 'backup', attempt: 1 });
    expect(await env.queue.state('run-demo-1__backup__1')).toEqual({ state: 'waiting' });
    expect((await env.service.load(RUN_ID))?.steps.backup?.status).toBe('queued');
  });

  it('leaves a step whose job is waiting or active alone', async () => {
    const env = await atBackup();
    await run(env.service, [cmd.approve('backup', dba2), cmd.started('backup')]);
    env.queue.set('run-demo-1__backup__1', { state: 'active' });
    const calls = env.queue.calls.length;
    expect(await reconcile(env)).toEqual({ runs: 1, requeued: [], failed: [], released: [], unreadable: [] });
    expect(env.queue.calls.length).toBe(calls);
    expect((await env.service.load(RUN_ID))?.steps.backup?.status).toBe('running');
  });

  it('fails a running step whose job BullMQ gave up on, with BullMQ’s reason', async () => {
    const env = await atBackup();
    await run(env.service, [cmd.approve('backup', dba2), cmd.started('backup')]);
    env.queue.set('run-demo-1__backup__1', { state: 'failed', failedReason: 'job stalled more than allowable limit' });
    const report = await reconcile(env);
    expect(report.failed).toEqual(['run-demo-1__backup__1']);
    const step = (await env.service.load(RUN_ID))?.steps.backup;
    expect(step).toMatchObject({ status: 'failed', finishedAt: at(30), error: { code: 'worker.lost' } });
    expect(step?.error?.message).toBe(
      'The step did not finish: the worker gave up on it: job stalled more than allowable limit. Check its effect, then Retry or Skip.',
    );
  });

  it('fails a step still running whose job completed without reporting', async () => {
    const env = await atBackup();
    await run(env.service, [cmd.approve('backup', dba2), cmd.started('backup')]);
    env.queue.set('run-demo-1__backup__1', { state: 'completed' });
    expect((await reconcile(env)).failed).toEqual(['run-demo-1__backup__1']);
    expect((await env.service.load(RUN_ID))?.steps.backup?.error?.message).toContain('its job ended without reporting a result');
  });

  it('fails a running step whose job vanished instead of re-running it', async () => {
    const env = await atBackup();
    await run(env.service, [cmd.approve('backup', dba2), cmd.started('backup')]);
    env.queue.drop('run-demo-1__backup__1');
    const report = await reconcile(env);
    expect(report).toMatchObject({ requeued: [], failed: ['run-demo-1__backup__1'] });
    expect(env.queue.calls).toHaveLength(1);
  });

  it('releases the slot of a run that finished but kept it (crash between append and release)', async () => {
    const env = await atBackup();
    env.store.force(RUN_ID, { type: 'run.aborted', at: at(9), by: lead, reason: 'crash test' });
    expect(env.store.slots.get('demo')).toBe(RUN_ID);
    expect(await reconcile(env)).toEqual({ runs: 1, requeued: [], failed: [], released: [RUN_ID], unreadable: [] });
    expect(await env.store.active()).toEqual([]);
  });

  it('releases a slot whose run has no events at all', async () => {
    const env = setup();
    env.store.slots.set('demo', 'run-ghost');
    expect((await reconcile(env)).released).toEqual(['run-ghost']);
    expect(env.store.slots.size).toBe(0);
  });

  it('is idempotent: a second pass after a repair changes nothing', async () => {
    const env = await atBackup();
    await run(env.service, [cmd.approve('backup', dba2), cmd.started('backup')]);
    env.queue.set('run-demo-1__backup__1', { state: 'failed', failedReason: 'stalled' });
    await reconcile(env);
    const events = env.store.streams.get(RUN_ID)?.length;
    expect(await reconcile(env)).toEqual({ runs: 1, requeued: [], failed: [], released: [], unreadable: [] });
    expect(env.store.streams.get(RUN_ID)?.length).toBe(events);
  });
});
