/**
 * Effects as data (issue 12): a process that dies after appending a decision's
 * events and before (or while) performing its effects leaves them owed by the
 * run; the reconciler derives the same list and performs it, and performing it
 * again and again changes nothing — on real Redis and a real BullMQ queue.
 */
import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StateBackend } from '../../config/backend.js';
import { redisConnection, STEP_QUEUE } from '../../config/job-queue.js';
import { openRedisBackend } from '../../config/redis-backend.js';
import { owedEffects } from '../../runbook/effects.js';
import { CutoverError } from '../../runbook/errors.js';
import type { FollowUpIndex, JobQueue } from '../../runbook/ports.js';
import { reconcileRuns } from '../../runbook/reconcile.js';
import { RunService } from '../../runbook/run-service.js';
import { at, cmd, makeFollowUp, planOfSteps, startCommand, USERS } from '../support/runbook-factory.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const { lead, lead2, dba1, dba2 } = USERS;
const backends: Array<{ backend: StateBackend; bull: Queue; prefix: string }> = [];
let redis: Redis;

beforeAll(() => {
  redis = redisConnection(REDIS_URL, 'test effects-replay');
});

afterAll(async () => {
  for (const { backend, bull, prefix } of backends) {
    await bull.close();
    await backend.close();
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
  }
  redis.disconnect();
});

/** Dies (throws, as a killed process stops) the first time `what` is attempted; later attempts go through. */
function crashOnce<T extends object>(port: T, method: keyof T & string): T & { crashed: boolean } {
  const wrapped = Object.create(port) as T & { crashed: boolean };
  wrapped.crashed = false;
  const original = (port[method] as (...args: unknown[]) => Promise<unknown>).bind(port);
  Object.assign(wrapped, {
    [method]: async (...args: unknown[]) => {
      if (wrapped.crashed) return original(...args);
      wrapped.crashed = true;
      throw new CutoverError('internal.unexpected', `process died before ${method}`);
    },
  });
  return wrapped;
}

function setup() {
  const prefix = `effects-${randomUUID()}`;
  const backend = openRedisBackend({ REDIS_URL, REDIS_PREFIX: prefix }, 'effects-test');
  const bull = new Queue(STEP_QUEUE, { connection: redis, prefix });
  backends.push({ backend, bull, prefix });
  const jobsHeld = async (): Promise<number> => {
    const counts = await bull.getJobCounts('waiting', 'active', 'completed', 'failed', 'delayed', 'prioritized');
    return Object.values(counts).reduce((a, b) => a + b, 0);
  };
  const service = (queue: JobQueue = backend.queue, followUps: FollowUpIndex = backend.followUps) =>
    new RunService({ store: backend.store, queue, updates: backend.updates, followUps });
  const reconcile = () => reconcileRuns({ store: backend.store, queue: backend.queue, service: service(), now: () => at(30) });
  return { backend, bull, jobsHeld, service, reconcile };
}

describe('re-performing a decision’s effects after a crash (issue 12)', () => {
  it('a crash before the enqueue: the reconciler enqueues the same job id once, and again and again adds nothing', async () => {
    const env = setup();
    const plan = planOfSteps([{ id: 'load', approve: 'dba', action: 'sql' }]);
    const crashing = crashOnce(env.backend.queue, 'enqueue');
    const web = env.service(crashing);
    expect((await web.start(startCommand({ plan }))).ok).toBe(true);
    await expect(web.execute('run-demo-1', cmd.approve('load', dba1))).rejects.toThrow('process died before enqueue');
    expect(crashing.crashed).toBe(true);

    // The approval is stored and the step queued, but no job exists: nothing runs until the effect is performed.
    const state = await env.service().load('run-demo-1');
    expect(state?.steps.load?.status).toBe('queued');
    expect(await env.jobsHeld()).toBe(0);

    const report = await env.reconcile();
    expect(report.requeued).toEqual(['run-demo-1__load__1']);
    expect(await env.jobsHeld()).toBe(1);

    // The same list, performed again by a second reconciler pass and by hand: still one job, still waiting.
    if (!state) throw new Error('run vanished');
    const owed = owedEffects(state);
    expect(owed.map((e) => e.id)).toEqual(['step.enqueue:run-demo-1__load__1']);
    await env.service().applyEffects(owed);
    await env.service().applyEffects(owed);
    expect((await env.reconcile()).requeued).toEqual([]);
    expect(await env.jobsHeld()).toBe(1);
    expect(await env.backend.queue.state('run-demo-1__load__1')).toEqual({ state: 'waiting' });
  });

  it('a crash between listing the follow-ups and freeing the slot: repaired once; a late repeat frees no newer run’s slot', async () => {
    const env = setup();
    const plan = planOfSteps([{ id: 'signoff', approve: 'lead', action: 'manual' }], { followUps: [makeFollowUp({ id: 'backup' })] });
    const index = crashOnce(env.backend.followUps, 'add');
    const web = env.service(env.backend.queue, index);
    expect((await web.start(startCommand({ plan }))).ok).toBe(true);
    await expect(web.execute('run-demo-1', cmd.approve('signoff', lead2))).rejects.toThrow('process died before add');

    // Completed, but neither listed nor released: the slot still names it, so the reconciler will find it.
    expect((await env.service().load('run-demo-1'))?.status).toBe('completed');
    expect(await env.backend.store.active()).toEqual([{ runbook: 'demo', runId: 'run-demo-1' }]);
    expect(await env.backend.followUps.list()).toEqual([]);

    expect((await env.reconcile()).released).toEqual(['run-demo-1']);
    expect(await env.backend.followUps.list()).toEqual(['run-demo-1']);
    expect(await env.backend.store.active()).toEqual([]);

    // A new run of the runbook takes the slot; the old run's list performed again must not free it.
    expect((await env.service().start(startCommand({ plan, runId: 'run-demo-2', actor: { id: lead } }))).ok).toBe(true);
    const old = await env.service().load('run-demo-1');
    if (!old) throw new Error('run-demo-1 vanished');
    await env.service().applyEffects(owedEffects(old));
    await env.service().applyEffects(owedEffects(old));
    expect(await env.backend.store.active()).toEqual([{ runbook: 'demo', runId: 'run-demo-2' }]);
    expect(await env.backend.followUps.list()).toEqual(['run-demo-1']);
  });

  it('a step job that already ran is not run again by re-performing its enqueue (BullMQ keeps the finished job)', async () => {
    const env = setup();
    const plan = planOfSteps([{ id: 'load', approve: 'dba', action: 'sql' }]);
    const web = env.service();
    await web.start(startCommand({ plan }));
    const approved = await web.execute('run-demo-1', cmd.approve('load', dba2));
    expect(approved.ok).toBe(true);
    const ran: string[] = [];
    const worker = env.backend.startStepWorker(async (job) => void ran.push(job.jobId), { lockDurationMs: 5000, stalledIntervalMs: 5000 });
    await worker.ready();
    try {
      await waitFor(async () => (await env.backend.queue.state('run-demo-1__load__1')).state === 'completed');
      // The run still says queued (this worker reported nothing): re-performing its owed effects must not run the job twice.
      const state = await env.service().load('run-demo-1');
      if (!state) throw new Error('run vanished');
      await env.service().applyEffects(owedEffects(state));
      await env.service().applyEffects(owedEffects(state));
      expect(await env.jobsHeld()).toBe(1);
      expect(await env.backend.queue.state('run-demo-1__load__1')).toEqual({ state: 'completed' });
      expect(ran).toEqual(['run-demo-1__load__1']);
    } finally {
      await worker.close();
    }
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
