/**
 * One contract, two backends: what web and worker rely on behaves the same on
 * Redis (production) and in process memory (local mode without Redis) — the
 * expected-version check, the single active slot, a job id run once, failed
 * jobs keeping their reason, first-delivery dedup, token-guarded locks,
 * claims, schedules and run-changed notices.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import type { StateBackend } from '../../config/backend.js';
import { openMemoryBackend } from '../../config/memory/backend.js';
import { openRedisBackend } from '../../config/redis-backend.js';
import type { ScheduledRun } from '../../config/schedule-store.js';
import type { RunEvent } from '../../runbook/events.js';
import { stepJobId, type StepJob } from '../../runbook/ports.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefixes: string[] = [];

afterAll(async () => {
  const redis = new Redis(REDIS_URL);
  for (const prefix of prefixes) {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
  }
  redis.disconnect();
});

const backends: Array<[string, () => StateBackend]> = [
  ['redis', () => {
    const prefix = `contract-${randomUUID()}`;
    prefixes.push(prefix);
    return openRedisBackend({ REDIS_URL, REDIS_PREFIX: prefix }, 'contract-test');
  }],
  ['memory', () => openMemoryBackend()],
];

// Both backends check events when read (runbook/event-schema.ts), so the stand-in is a real, small RunEvent.
const ev = (n: number): RunEvent => ({ type: 'run.resumed', at: n, by: 'U1' });
const job = (runId: string, stepId = 's1', attempt = 1): StepJob => ({ jobId: stepJobId(runId, stepId, attempt), runId, stepId, attempt });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (ok(value) || Date.now() > deadline) return value;
    await sleep(25);
  }
}

describe.each(backends)('%s backend', (_name, open) => {
  const withBackend = (test: (b: StateBackend) => Promise<void>) => async () => {
    const backend = open();
    try {
      await test(backend);
    } finally {
      await backend.close();
    }
  };

  it('appends only at the expected version, and one of 50 concurrent appends wins', withBackend(async ({ store }) => {
    const runId = `run-${randomUUID()}`;
    expect(await store.append(runId, 0, [ev(1), ev(2)])).toEqual({ ok: true, version: 2 });
    expect(await store.append(runId, 1, [ev(3)])).toEqual({ ok: false, reason: 'conflict', actualVersion: 2 });
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => store.append(runId, 2, [ev(100 + i)])));
    expect(results.filter((r) => r.ok)).toEqual([{ ok: true, version: 3 }]);
    const loaded = await store.load(runId);
    expect(loaded.version).toBe(3);
    expect(loaded.events.slice(0, 2)).toEqual([ev(1), ev(2)]);
  }));

  it('reads only what was appended after a known version, and says when the stream is shorter than that', withBackend(async ({ store }) => {
    const runId = `run-${randomUUID()}`;
    await store.append(runId, 0, [ev(1), ev(2)]);
    const first = await store.loadAfter(runId, { version: 0, cursor: null });
    expect(first?.version).toBe(2);
    await store.append(runId, 2, [ev(3), ev(4)]);
    const next = await store.loadAfter(runId, { version: 2, cursor: first?.cursor ?? null });
    expect(next).toMatchObject({ version: 4, events: [ev(3), ev(4)] });
    expect(await store.loadAfter(runId, { version: 4, cursor: next?.cursor ?? null })).toMatchObject({ version: 4, events: [] });
    expect(await store.loadAfter(`run-${randomUUID()}`, { version: 2, cursor: first?.cursor ?? null })).toBeNull();
  }));

  it('gives back copies: changing a loaded event changes nothing stored', withBackend(async ({ store }) => {
    const runId = `run-${randomUUID()}`;
    const original = ev(1);
    await store.append(runId, 0, [original]);
    original.at = 99;
    const [loaded] = (await store.load(runId)).events;
    if (loaded) loaded.at = 42;
    expect((await store.load(runId)).events).toEqual([ev(1)]);
  }));

  it('holds one active run per runbook; only the holder releases; recent lists newest first', withBackend(async ({ store }) => {
    const runbook = `rb-${randomUUID()}`;
    const [a, b] = [`a-${randomUUID()}`, `b-${randomUUID()}`];
    expect(await store.create(a, runbook, [ev(0)])).toEqual({ ok: true });
    expect(await store.create(b, runbook, [ev(0)])).toEqual({ ok: false, activeRunId: a });
    await store.release(runbook, b);
    expect(await store.active()).toContainEqual({ runbook, runId: a });
    await store.release(runbook, a);
    await sleep(5);
    expect(await store.create(b, runbook, [ev(0)])).toEqual({ ok: true });
    await expect(store.create(a, `${runbook}-other`, [ev(0)])).rejects.toMatchObject({ code: 'run.id_taken' });
    const recent = (await store.recent(10)).filter((r) => r.runbook === runbook).map((r) => r.runId);
    expect(recent).toEqual([b, a]);
  }));

  it('runs a job id once, keeps a failure\'s reason, and refuses ids with ":"', withBackend(async (backend) => {
    const runs: string[] = [];
    const worker = backend.startStepWorker(async (j) => {
      runs.push(j.stepId);
      if (j.stepId === 'bad') throw new Error('boom in step');
    }, { concurrency: 1, lockDurationMs: 5000, stalledIntervalMs: 5000 });
    await worker.ready();
    const runId = `run-${randomUUID()}`;
    const good = job(runId, 'good');
    await backend.queue.enqueue(good);
    await backend.queue.enqueue(good);
    expect((await until(() => backend.queue.state(good.jobId), (s) => s.state === 'completed')).state).toBe('completed');
    await backend.queue.enqueue(good); // retained: a re-enqueue after completion runs nothing
    const bad = job(runId, 'bad');
    await backend.queue.enqueue(bad);
    expect(await until(() => backend.queue.state(bad.jobId), (s) => s.state === 'failed')).toEqual({ state: 'failed', failedReason: 'boom in step' });
    expect(runs).toEqual(['good', 'bad']);
    expect(await backend.queue.state('never-queued')).toEqual({ state: 'missing' });
    await expect(backend.queue.enqueue({ ...good, jobId: 'a:b' })).rejects.toMatchObject({ code: 'queue.bad_job_id' });
    await worker.close();
  }));

  it('runs up to `concurrency` jobs at once and close() waits for the running ones', withBackend(async (backend) => {
    let running = 0;
    let peak = 0;
    const done: string[] = [];
    const worker = backend.startStepWorker(async (j) => {
      running += 1;
      peak = Math.max(peak, running);
      await sleep(300);
      running -= 1;
      done.push(j.stepId);
    }, { concurrency: 2 });
    await worker.ready();
    const runId = `run-${randomUUID()}`;
    for (const step of ['a', 'b', 'c']) await backend.queue.enqueue(job(runId, step));
    await until(async () => running, (n) => n === 2);
    await worker.close();
    expect(peak).toBe(2);
    expect(done.sort()).toEqual(['a', 'b']);
    expect((await backend.queue.state(job(runId, 'c').jobId)).state).toBe('waiting');
  }));

  it('sees a delivery first once, and again after its ttl', withBackend(async ({ dedup }) => {
    const key = `delivery-${randomUUID()}`;
    const firsts = await Promise.all(Array.from({ length: 20 }, () => dedup.firstDelivery(key, 1)));
    expect(firsts.filter(Boolean)).toHaveLength(1);
    expect(await dedup.firstDelivery(`${key}-other`, 1)).toBe(true);
    await sleep(1100);
    expect(await dedup.firstDelivery(key, 1)).toBe(true);
  }));

  it('gives a lock to one holder, renews and releases only with its token, and lets it lapse', withBackend(async (backend) => {
    const name = `lock-${randomUUID()}`;
    const [one, two] = [backend.lock(name, 300), backend.lock(name, 300)];
    const tokens = await Promise.all([one.acquire(), two.acquire()]);
    const token = tokens.find((t) => t !== null);
    expect(tokens.filter((t) => t !== null)).toHaveLength(1);
    expect(await two.renew('not-the-token')).toBe(false);
    expect(await two.release('not-the-token')).toBe(false);
    expect(await one.renew(token ?? '')).toBe(true);
    await sleep(400);
    expect(await two.acquire('second')).toBe('second');
    expect(await one.release(token ?? '')).toBe(false);
    expect(await two.release('second')).toBe(true);
  }));

  it('keeps message refs and lets one caller claim a field', withBackend(async ({ refs }) => {
    const runId = `run-${randomUUID()}`;
    await refs.set(runId, { root: '1.1', 'step:a': '1.2' });
    expect(await refs.all(runId)).toEqual({ root: '1.1', 'step:a': '1.2' });
    const claims = await Promise.all(Array.from({ length: 10 }, (_, i) => refs.claim(runId, 'report', String(i))));
    expect(claims.filter(Boolean)).toHaveLength(1);
    await refs.unset(runId, 'step:a');
    expect(await refs.get(runId, 'step:a')).toBeNull();
    expect(await refs.get(runId, 'root')).toBe('1.1');
  }));

  it('stores schedules soonest first, claims milestones once, records roll calls, and forgets all on remove', withBackend(async ({ schedules }) => {
    const base = { runbook: 'demo', channel: 'C1', by: 'U1', createdAt: 1 };
    const later: ScheduledRun = { ...base, id: `s-${randomUUID()}`, at: 2000, runId: 'r2' };
    const sooner: ScheduledRun = { ...base, id: `s-${randomUUID()}`, at: 1000, runId: 'r1' };
    await schedules.add(later);
    await schedules.add(sooner);
    const mine = (await schedules.list()).filter((s) => s.id === later.id || s.id === sooner.id);
    expect(mine.map((s) => s.id)).toEqual([sooner.id, later.id]);
    expect(await schedules.get(later.id)).toEqual(later);
    expect(await Promise.all([schedules.claim(later.id, 't-1h', 5), schedules.claim(later.id, 't-1h', 6)])).toEqual([true, false]);
    expect(await schedules.done(later.id)).toEqual(new Set(['t-1h']));
    await schedules.confirm(later.id, 1, 'dba', 'U2', 7);
    await schedules.confirm(later.id, 2, 'lead', 'U1', 8);
    expect(await schedules.confirmations(later.id, 1)).toEqual({ dba: ['U2'] });
    await schedules.setMessage(later.id, 'rollcall-1', '1.5');
    expect(await schedules.message(later.id, 'rollcall-1')).toBe('1.5');
    expect(await schedules.remove(later.id)).toBe(true);
    expect(await schedules.remove(later.id)).toBe(false);
    expect(await schedules.get(later.id)).toBeNull();
    expect(await schedules.done(later.id)).toEqual(new Set());
    expect(await schedules.message(later.id, 'rollcall-1')).toBeNull();
  }));

  it('tells subscribers which run changed until they unsubscribe', withBackend(async ({ updates }) => {
    const heard: string[] = [];
    const unsubscribe = await updates.subscribe((runId) => heard.push(runId));
    await updates.publish('run-1');
    await until(async () => heard.length, (n) => n === 1);
    await unsubscribe();
    await updates.publish('run-2');
    await sleep(200);
    expect(heard).toEqual(['run-1']);
  }));

  it('keeps names by Slack id until their TTL runs out (issue 16)', withBackend(async ({ names }) => {
    expect(await names.get([])).toEqual(new Map());
    await names.put(new Map([['U1', 'Sabine Krüger'], ['U2', 'Dr. Ingrid Hoffmann']]), 1);
    expect(await names.get(['U1', 'U3', 'U2'])).toEqual(new Map([['U1', 'Sabine Krüger'], ['U2', 'Dr. Ingrid Hoffmann']]));
    const gone = await until(() => names.get(['U1']), (m) => m.size === 0, 5_000);
    expect(gone.size).toBe(0);
  }));

  it('reports itself healthy', withBackend(async (backend) => {
    expect(await backend.health()).toMatchObject({ ok: true });
  }));
});
