import { randomUUID } from 'node:crypto';
import { Queue, type Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BullJobQueue, createStepWorker, redactRedisUrl, redisConnection, STALLED_OUT, STEP_QUEUE } from '../../config/job-queue.js';
import { RedisDeliveryDedup } from '../../config/redis-dedup.js';
import { RedisRunStore } from '../../config/redis-run-store.js';
import { CutoverError } from '../../runbook/errors.js';
import { stepJobId, type StepJob } from '../../runbook/ports.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `cutover-test-${randomUUID()}`;

type Ev = { type: 'started' | 'noted'; n: number; by?: string };
const ev = (n: number, overrides: Partial<Ev> = {}): Ev => ({ type: 'noted', n, ...overrides });

let redis: Redis;
// Extra connections so "concurrent" means separate clients, not one pipelined socket.
let clients: Redis[] = [];
let store: RedisRunStore<Ev>;

beforeAll(async () => {
  redis = redisConnection(REDIS_URL, 'test run-store');
  clients = Array.from({ length: 5 }, (_, i) => redisConnection(REDIS_URL, `test-${i}`));
  store = new RedisRunStore<Ev>(redis, prefix);
  await redis.ping();
});

afterAll(async () => {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    if (keys.length > 0) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
  await Promise.all([redis, ...clients].map((c) => c.quit()));
});

const storeOn = (i: number) => new RedisRunStore<Ev>(clients[i % clients.length] as Redis, prefix);
const runId = () => `run-${randomUUID()}`;

describe('RedisRunStore append/load', () => {
  it('round-trips events in order and reports version = number of events', async () => {
    const id = runId();
    expect(await store.load(id)).toEqual({ events: [], version: 0 });
    expect(await store.append(id, 0, [ev(1), ev(2)])).toEqual({ ok: true, version: 2 });
    expect(await store.append(id, 2, [ev(3, { by: 'U1' })])).toEqual({ ok: true, version: 3 });
    expect(await store.load(id)).toEqual({ events: [ev(1), ev(2), ev(3, { by: 'U1' })], version: 3 });
    expect(await redis.xlen(`${prefix}:run:${id}:events`)).toBe(3);
  });

  it('loads a long run across XRANGE pages without losing or repeating an entry', async () => {
    const id = runId();
    const events = Array.from({ length: 2501 }, (_, i) => ev(i));
    expect(await store.append(id, 0, events)).toEqual({ ok: true, version: 2501 });
    const loaded = await store.load(id);
    expect(loaded.version).toBe(2501);
    expect(loaded.events.map((e) => e.n)).toEqual(events.map((e) => e.n));
  });

  it('refuses an append at a stale expected version with the actual version, writing nothing', async () => {
    const id = runId();
    await store.append(id, 0, [ev(1), ev(2)]);
    expect(await store.append(id, 1, [ev(99)])).toEqual({ ok: false, reason: 'conflict', actualVersion: 2 });
    expect(await store.append(id, 5, [ev(99)])).toEqual({ ok: false, reason: 'conflict', actualVersion: 2 });
    expect((await store.load(id)).events).toEqual([ev(1), ev(2)]);
  });

  it('lets exactly one of 100 concurrent appends at the same version win (one writer per run)', async () => {
    const id = runId();
    await store.append(id, 0, [ev(0, { type: 'started' })]);
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) => storeOn(i).append(id, 1, [ev(i + 1, { by: `U${i}` })])),
    );
    const winners = results.filter((r) => r.ok);
    expect(winners).toEqual([{ ok: true, version: 2 }]);
    expect(results.filter((r) => !r.ok)).toHaveLength(99);
    for (const r of results) if (!r.ok) expect(r).toEqual({ ok: false, reason: 'conflict', actualVersion: 2 });
    const loaded = await store.load(id);
    expect(loaded.version).toBe(2);
    // The stored event is the winner's, not an interleaving of several.
    const winnerIndex = results.findIndex((r) => r.ok);
    expect(loaded.events[1]).toEqual(ev(winnerIndex + 1, { by: `U${winnerIndex}` }));
  });

  it('lets a loser reload, decide again and append successfully', async () => {
    const id = runId();
    await store.append(id, 0, [ev(0)]);
    const [a, b] = await Promise.all([storeOn(0).append(id, 1, [ev(1)]), storeOn(1).append(id, 1, [ev(2)])]);
    const lost = [a, b].filter((r) => r && !r.ok);
    expect(lost).toHaveLength(1);
    const { version } = await store.load(id);
    expect(version).toBe(2);
    expect(await store.append(id, version, [ev(3)])).toEqual({ ok: true, version: 3 });
    expect((await store.load(id)).events.map((e) => e.n).slice(2)).toEqual([3]);
  });

  it('reports a corrupt entry naming the run and entry id instead of skipping it', async () => {
    const id = runId();
    await store.append(id, 0, [ev(1)]);
    const badId = await redis.xadd(`${prefix}:run:${id}:events`, '*', 'e', '{"type":"noted", n: broken');
    await store.append(id, 2, [ev(3)]);
    const err = await store.load(id).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CutoverError);
    expect((err as CutoverError).code).toBe('run.corrupt_event');
    expect((err as CutoverError).message).toContain(id);
    expect((err as CutoverError).message).toContain(String(badId));
    expect((err as CutoverError).cause).toBeInstanceOf(SyntaxError);
  });

  it('reports an entry without the e field, or one that is not an event, as corrupt', async () => {
    const noField = runId();
    await redis.xadd(`${prefix}:run:${noField}:events`, '*', 'x', JSON.stringify(ev(1)));
    await expect(store.load(noField)).rejects.toMatchObject({ code: 'run.corrupt_event' });
    const notEvent = runId();
    await redis.xadd(`${prefix}:run:${notEvent}:events`, '*', 'e', '[1,2]');
    await expect(store.load(notEvent)).rejects.toMatchObject({ code: 'run.corrupt_event' });
  });
});

describe('RedisRunStore create/release/active/recent', () => {
  it('claims the active slot; a second create is refused naming the active run; only the holder releases', async () => {
    const runbook = `kgv-${randomUUID()}`;
    const first = runId();
    const second = runId();
    expect(await store.create(first, runbook, [ev(0, { type: 'started' })])).toEqual({ ok: true });
    expect(await store.load(first)).toEqual({ events: [ev(0, { type: 'started' })], version: 1 });
    expect(await store.active()).toContainEqual({ runbook, runId: first });

    expect(await store.create(second, runbook, [ev(0, { type: 'started' })])).toEqual({ ok: false, activeRunId: first });
    expect(await store.load(second)).toEqual({ events: [], version: 0 });
    expect(await redis.zscore(`${prefix}:runs`, second)).toBeNull();

    await store.release(runbook, second);
    expect(await store.active()).toContainEqual({ runbook, runId: first });

    await store.release(runbook, first);
    expect((await store.active()).find((a) => a.runbook === runbook)).toBeUndefined();
    expect(await store.create(second, runbook, [ev(0, { type: 'started' })])).toEqual({ ok: true });
    expect(await store.active()).toContainEqual({ runbook, runId: second });
  });

  it('refuses to create a run whose stream already holds events, and leaves the slot free', async () => {
    const runbook = `erp-${randomUUID()}`;
    const id = runId();
    await store.append(id, 0, [ev(1)]);
    await expect(store.create(id, runbook, [ev(0)])).rejects.toMatchObject({ code: 'run.id_taken' });
    expect((await store.active()).find((a) => a.runbook === runbook)).toBeUndefined();
    expect((await store.load(id)).events).toEqual([ev(1)]);
  });

  it('lets exactly one of 50 concurrent creates for one runbook win', async () => {
    const runbook = `race-${randomUUID()}`;
    const ids = Array.from({ length: 50 }, runId);
    const results = await Promise.all(ids.map((id, i) => storeOn(i).create(id, runbook, [ev(i, { type: 'started' })])));
    const winners = ids.filter((_, i) => results[i]?.ok);
    expect(winners).toHaveLength(1);
    const winner = winners[0];
    for (const r of results) if (!r.ok) expect(r.activeRunId).toBe(winner);
    expect((await store.active()).filter((a) => a.runbook === runbook)).toEqual([{ runbook, runId: winner }]);
    const indexed = await Promise.all(ids.map((id) => redis.zscore(`${prefix}:runs`, id)));
    expect(indexed.filter((s) => s !== null)).toHaveLength(1);
    const streams = await Promise.all(ids.map((id) => redis.exists(`${prefix}:run:${id}:events`)));
    expect(streams.reduce((a, b) => a + b, 0)).toBe(1);
  });

  it('lists recent runs newest first with runbook and a Redis-clock start time, up to limit', async () => {
    const recentStore = new RedisRunStore<Ev>(redis, `${prefix}:recent`);
    const before = Date.now();
    const made: string[] = [];
    for (let i = 0; i < 4; i++) {
      const id = `r${i}-${randomUUID()}`;
      expect(await recentStore.create(id, `rb-${i}`, [ev(i, { type: 'started' })])).toEqual({ ok: true });
      made.push(id);
      await new Promise((r) => setTimeout(r, 5)); // distinct millisecond scores
    }
    const recent = await recentStore.recent(3);
    expect(recent.map((r) => r.runId)).toEqual([made[3], made[2], made[1]]);
    expect(recent.map((r) => r.runbook)).toEqual(['rb-3', 'rb-2', 'rb-1']);
    for (const r of recent) expect(Math.abs(r.startedAt - before)).toBeLessThan(60_000);
    expect(recent[0]!.startedAt).toBeGreaterThan(recent[2]!.startedAt);
    expect(await recentStore.recent(0)).toEqual([]);
    expect((await recentStore.recent(100)).map((r) => r.runId)).toEqual([...made].reverse());
  });
});

describe('RedisDeliveryDedup', () => {
  it('is true for the first delivery of a key and false for repeats, with the ttl applied', async () => {
    const dedup = new RedisDeliveryDedup(redis, `${prefix}:d1`);
    const key = `slack:event:${randomUUID()}`;
    expect(await dedup.firstDelivery(key)).toBe(true);
    expect(await dedup.firstDelivery(key)).toBe(false);
    expect(await dedup.firstDelivery(`${key}-other`, 60)).toBe(true);
    const keys = await redis.keys(`${prefix}:d1:dedup:*`);
    expect(keys.every((k) => /:dedup:[0-9a-f]{64}$/.test(k))).toBe(true);
    const ttls = await Promise.all(keys.map((k) => redis.ttl(k)));
    expect(ttls.sort((a, b) => a - b)).toEqual([expect.any(Number), expect.any(Number)]);
    expect(ttls[0]).toBeGreaterThan(0);
    expect(ttls[0]).toBeLessThanOrEqual(60);
    expect(ttls[1]).toBeGreaterThan(60);
    expect(ttls[1]).toBeLessThanOrEqual(3600);
  });

  it('gives exactly one true among 20 parallel deliveries of one key', async () => {
    const key = `slack:retry:${randomUUID()}`;
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => new RedisDeliveryDedup(clients[i % clients.length] as Redis, prefix).firstDelivery(key)),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
  });
});

describe('BullJobQueue and createStepWorker', () => {
  const bullPrefix = `${prefix}:bull`;
  let queue: BullJobQueue;
  let inspect: Queue;
  const workers: Worker[] = [];

  beforeAll(() => {
    queue = new BullJobQueue(redis, { prefix: bullPrefix });
    inspect = new Queue(STEP_QUEUE, { connection: redis, prefix: bullPrefix });
  });

  afterAll(async () => {
    await Promise.all(workers.map((w) => w.close()));
    await queue.close();
    await inspect.close();
  });

  const job = (overrides: Partial<StepJob> = {}): StepJob => {
    const base = { runId: `run-${randomUUID()}`, stepId: 'backup-source', attempt: 1, ...overrides };
    return { jobId: stepJobId(base.runId, base.stepId, base.attempt), ...base };
  };

  async function waitForState(jobId: string, want: string, timeoutMs = 10_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = await queue.state(jobId);
      if (s.state === want || Date.now() > deadline) return s;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it('keeps one job when the same jobId is enqueued twice', async () => {
    const j = job();
    await queue.enqueue(j);
    await queue.enqueue({ ...j, attempt: 99 }); // same id: BullMQ must ignore it, data included
    const counts = await inspect.getJobCounts('waiting', 'active', 'completed', 'failed', 'delayed', 'prioritized');
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(1);
    expect((await inspect.getJob(j.jobId))?.data).toEqual(j);
    expect(await queue.state(j.jobId)).toEqual({ state: 'waiting' });
  });

  it('reports a job id it never saw as missing', async () => {
    expect(await queue.state(`never-${randomUUID()}`)).toEqual({ state: 'missing' });
  });

  it('refuses a job id containing ":" instead of letting BullMQ misparse it', async () => {
    await expect(queue.enqueue({ ...job(), jobId: 'a:b:c' })).rejects.toMatchObject({ code: 'queue.bad_job_id' });
    expect(await queue.state('a:b:c')).toEqual({ state: 'missing' });
  });

  it('processes jobs with a worker from createStepWorker: completes once, fails once with its reason', async () => {
    const seen: StepJob[] = [];
    const worker = createStepWorker(
      redis,
      async (j) => {
        seen.push(j);
        if (j.stepId === 'explode') throw new Error('boom in step');
      },
      { prefix: bullPrefix, concurrency: 2, lockDurationMs: 5_000, stalledIntervalMs: 5_000 },
    );
    workers.push(worker);

    const ok = job({ stepId: 'validate-counts' });
    const bad = job({ stepId: 'explode' });
    await queue.enqueue(ok);
    await queue.enqueue(bad);
    expect(await waitForState(ok.jobId, 'completed')).toEqual({ state: 'completed' });
    expect(await waitForState(bad.jobId, 'failed')).toEqual({ state: 'failed', failedReason: 'boom in step' });

    // Retained finished jobs make a re-enqueue a no-op: nothing runs twice, failure is not retried.
    await queue.enqueue(ok);
    await queue.enqueue(bad);
    await new Promise((r) => setTimeout(r, 300));
    expect(seen.filter((s) => s.jobId === ok.jobId)).toEqual([ok]);
    expect(seen.filter((s) => s.jobId === bad.jobId)).toEqual([bad]);
    expect(await queue.state(ok.jobId)).toEqual({ state: 'completed' });
  });
});

describe('a job BullMQ failed for stalling, as the reconciler sees it (issue 12)', () => {
  const bullPrefix = `${prefix}:stalled-out`;

  it('is reported waiting, not failed, when the worker that saw it fail puts it back within a second; failed with its reason when nobody does', async () => {
    const queue = new BullJobQueue(redis, { prefix: bullPrefix });
    const inspect = new Queue(STEP_QUEUE, { connection: redis, prefix: bullPrefix });
    // Fails each job the way BullMQ's stalled check does: with its reason.
    const worker = createStepWorker(redis, async () => Promise.reject(new Error(STALLED_OUT)), { prefix: bullPrefix, lockDurationMs: 5_000, stalledIntervalMs: 5_000 });
    try {
      const failOne = async (stepId: string): Promise<string> => {
        const r = `run-${randomUUID()}`;
        const j: StepJob = { jobId: stepJobId(r, stepId, 1), runId: r, stepId, attempt: 1 };
        await queue.enqueue(j);
        const deadline = Date.now() + 10_000;
        while ((await inspect.getJobState(j.jobId)) !== 'failed') {
          if (Date.now() > deadline) throw new Error(`${j.jobId} never failed`);
          await new Promise((res) => setTimeout(res, 50));
        }
        return j.jobId;
      };
      const putBack = await failOne('put-back');
      const left = await failOne('left');
      await worker.close();
      const asked = queue.state(putBack);
      await new Promise((res) => setTimeout(res, 300));
      await (await inspect.getJob(putBack))?.retry('failed');
      expect(await asked).toEqual({ state: 'waiting' });
      expect(await queue.state(left)).toEqual({ state: 'failed', failedReason: STALLED_OUT });
    } finally {
      await worker.close();
      await queue.close();
      await inspect.close();
    }
  });
});

describe('BullMQ crash detection through createStepWorker options', () => {
  const bullPrefix = `${prefix}:crash`;
  const fast = { prefix: bullPrefix, lockDurationMs: 800, stalledIntervalMs: 300 };
  const hang = () => new Promise<void>(() => {}); // a worker that dies mid-step never settles

  it('re-runs a job whose worker died once, and fails it with a stalled reason after a second death', async () => {
    const queue = new BullJobQueue(redis, { prefix: bullPrefix });
    const started: string[] = [];
    const startedOn = (name: string) => (j: StepJob) => {
      started.push(`${name}:${j.stepId}`);
      return name === 'c' ? Promise.resolve() : hang();
    };
    const until = async (cond: () => boolean | Promise<boolean>, ms = 10_000) => {
      const deadline = Date.now() + ms;
      while (!(await cond())) {
        if (Date.now() > deadline) throw new Error(`timed out; started=${started.join(',')}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    const workers: Worker[] = [];
    try {
      const runIdA = `run-${randomUUID()}`;
      const j: StepJob = { jobId: stepJobId(runIdA, 'etl', 1), runId: runIdA, stepId: 'etl', attempt: 1 };
      await queue.enqueue(j);

      const a = createStepWorker(redis, startedOn('a'), fast);
      workers.push(a);
      await until(() => started.includes('a:etl'));
      await a.close(true); // force: stops lock renewal without waiting, as a crash would

      const b = createStepWorker(redis, startedOn('b'), fast);
      workers.push(b);
      await until(() => started.includes('b:etl'));
      expect(await queue.state(j.jobId)).toEqual({ state: 'active' });
      await b.close(true);

      // maxStalledCount defaults to 1: the second stall is reported as a failure, not retried again.
      const c = createStepWorker(redis, startedOn('c'), fast);
      workers.push(c);
      await until(async () => (await queue.state(j.jobId)).state === 'failed');
      const final = await queue.state(j.jobId);
      expect(final.failedReason).toMatch(/stalled/i);
      expect(started).toEqual(['a:etl', 'b:etl']);
    } finally {
      await Promise.all(workers.map((w) => w.close(true)));
      await queue.close();
    }
  });
});

describe('redisConnection', () => {
  it('is configured for BullMQ and named, and the URL can be logged without its password', async () => {
    const conn = redisConnection(REDIS_URL, 'test naming');
    try {
      expect(conn.options.maxRetriesPerRequest).toBeNull();
      expect(conn.options.enableReadyCheck).toBe(true);
      await conn.ping();
      expect(await conn.client('GETNAME')).toBe('cutover:test_naming');
    } finally {
      await conn.quit();
    }
    expect(redactRedisUrl('redis://user:s3cret@db.example:6380/2')).toBe('redis://user:***@db.example:6380/2');
    expect(redactRedisUrl('not a url s3cret')).not.toContain('s3cret');
  });
});
