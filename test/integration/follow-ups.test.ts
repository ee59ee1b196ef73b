import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisFollowUpIndex } from '../../config/follow-up-index.js';
import { redisConnection } from '../../config/job-queue.js';
import { RedisRunStore } from '../../config/redis-run-store.js';
import type { FollowUpCommand } from '../../runbook/follow-ups.js';
import type { RunEvent } from '../../runbook/events.js';
import type { JobQueue } from '../../runbook/ports.js';
import { reconcileRuns } from '../../runbook/reconcile.js';
import { RunService } from '../../runbook/run-service.js';
import { actor, cmd, makeFollowUp, planOfSteps, startCommand, USERS } from '../support/runbook-factory.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `cutover-test-${randomUUID()}`;
const DAY = 86_400_000;
const { lead, lead2, dba1, dba2 } = USERS;

let redis: Redis;

/** Manual steps only: nothing is ever enqueued, and the reconciler finds no job to ask about. */
const noJobs: JobQueue = {
  enqueue: async (job) => {
    throw new Error(`unexpected job ${job.jobId}`);
  },
  state: async () => ({ state: 'missing' }),
};

const plan = planOfSteps([{ id: 'signoff', approve: 'lead', action: 'manual' }], {
  runbook: 'fu',
  followUps: [makeFollowUp({ id: 'backup' }), makeFollowUp({ id: 'archive', role: 'lead', afterSeconds: 30 * 86_400 })],
});

/** Each test its own installation (runbook slots are per prefix). */
function setup() {
  const own = `${prefix}:${randomUUID().slice(0, 8)}`;
  const store = new RedisRunStore<RunEvent>(redis, own);
  const index = new RedisFollowUpIndex(redis, own);
  const service = new RunService({ store, queue: noJobs, updates: { publish: async () => undefined }, followUps: index });
  return { store, index, service };
}

/** A run of `fu` started by lead and signed off by lead2 at `at`: completed, its follow-ups due from `at`. */
async function completedRun(service: RunService, runId: string, at: number): Promise<void> {
  expect((await service.start(startCommand({ plan, runId, at }))).ok).toBe(true);
  expect((await service.execute(runId, cmd.approve('signoff', lead2, { at }))).ok).toBe(true);
}

beforeAll(async () => {
  redis = redisConnection(REDIS_URL, 'test follow-ups');
  await redis.ping();
});

afterAll(async () => {
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
  await redis.quit();
});

describe('follow-ups on a completed run, in Redis', () => {
  it('lists the completed run for the sweep, unlists it when all are done, and never touches the next run’s slot', async () => {
    const { store, index, service } = setup();
    const t = Date.UTC(2024, 2, 9, 23);
    await completedRun(service, 'fu-1', t);
    expect(await index.list()).toContain('fu-1');
    expect(await store.active()).toEqual([]);

    // The next run of the runbook is active while the old one's duties are ticked off.
    expect((await service.start(startCommand({ plan, runId: 'fu-2', at: t + 2 * DAY }))).ok).toBe(true);
    const done = (id: string, by: string): FollowUpCommand => ({ type: 'follow_up.done', at: t + 2 * DAY, actor: actor(by), followUpId: id });
    expect((await service.execute('fu-1', done('backup', dba1))).ok).toBe(true);
    expect(await index.list()).toContain('fu-1');
    expect((await service.execute('fu-1', done('archive', lead))).ok).toBe(true);
    expect(await index.list()).not.toContain('fu-1');

    expect(await store.active()).toEqual([{ runbook: 'fu', runId: 'fu-2' }]);
    const old = await service.load('fu-1');
    expect(old).toMatchObject({ status: 'completed', finishedAt: t });
    expect(Object.values(old?.followUps ?? {}).map((f) => f.done?.by)).toEqual([dba1, lead]);
  });

  it('records one reminder and one Done however many writers race (two sweeps, a double click)', async () => {
    const { store, service } = setup();
    const t = Date.UTC(2024, 3, 1);
    await completedRun(service, 'fu-race', t);
    const due = t + DAY;
    const reminders = await Promise.all(
      Array.from({ length: 20 }, () => service.execute('fu-race', { type: 'follow_up.remind', at: due, followUpId: 'backup', level: 'reminder', reason: 'due', to: [dba1, dba2] })),
    );
    expect(reminders.filter((o) => o.ok)).toHaveLength(1);
    expect(new Set(reminders.filter((o) => !o.ok).map((o) => (o.ok ? '' : o.code)))).toEqual(new Set(['follow_up.not_owed']));

    const clicks = await Promise.all(
      Array.from({ length: 20 }, (_, i) => service.execute('fu-race', { type: 'follow_up.done', at: due + 1000, actor: actor(i % 2 ? dba1 : dba2), followUpId: 'backup' })),
    );
    expect(clicks.filter((o) => o.ok)).toHaveLength(1);
    expect(clicks.filter((o) => !o.ok).every((o) => !o.ok && o.code === 'follow_up.already_done')).toBe(true);
    const types = (await store.load('fu-race')).events.map((e) => e.type);
    expect(types.filter((t) => t === 'follow_up.reminded')).toHaveLength(1);
    expect(types.filter((t) => t === 'follow_up.done')).toHaveLength(1);
  });

  it('a crash between completing and listing is repaired by the reconciler, which frees the slot too', async () => {
    const { store, index, service } = setup();
    const t = Date.UTC(2024, 4, 1);
    expect((await service.start(startCommand({ plan, runId: 'fu-crash', at: t }))).ok).toBe(true);
    // The completing events written, the process gone before its effects (listing, freeing the slot) ran.
    const { version } = await store.load('fu-crash');
    const approved: RunEvent[] = [
      { type: 'step.approved', at: t, stepId: 'signoff', attempt: 1, by: lead2 },
      { type: 'step.succeeded', at: t, stepId: 'signoff', attempt: 1, summary: 'Checklist item confirmed' },
      { type: 'run.completed', at: t },
    ];
    expect((await store.append('fu-crash', version, approved)).ok).toBe(true);
    expect(await index.list()).not.toContain('fu-crash');
    expect((await store.active()).map((a) => a.runId)).toContain('fu-crash');

    const report = await reconcileRuns({ store, queue: noJobs, service, now: () => t });
    expect(report.released).toContain('fu-crash');
    expect(await index.list()).toContain('fu-crash');
    expect((await store.active()).map((a) => a.runId)).not.toContain('fu-crash');
  });
});
