import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisConnection } from '../../config/job-queue.js';
import { LeaderLease, RedisLock } from '../../config/redis-lock.js';
import { RedisScheduleStore } from '../../config/schedule-store.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `cutover-test-lock-${randomUUID()}`;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let a: Redis;
let b: Redis;

beforeAll(async () => {
  // Two connections, as two web processes would have.
  a = redisConnection(REDIS_URL, 'lock-a');
  b = redisConnection(REDIS_URL, 'lock-b');
  await Promise.all([a.ping(), b.ping()]);
});

afterAll(async () => {
  const keys = await a.keys(`${prefix}:*`);
  if (keys.length) await a.del(...keys);
  a.disconnect();
  b.disconnect();
});

describe('RedisLock (the escalation scheduler lock)', () => {
  it('has exactly one winner when two holders race for it, 100 rounds in a row', async () => {
    const key = `${prefix}:race`;
    const lockA = new RedisLock(a, key, 5000);
    const lockB = new RedisLock(b, key, 5000);
    const winners: string[] = [];
    for (let round = 0; round < 100; round++) {
      const [ta, tb] = await Promise.all([lockA.acquire(), lockB.acquire()]);
      const won = [ta && 'a', tb && 'b'].filter(Boolean);
      expect(won).toHaveLength(1);
      winners.push(won[0] as string);
      expect(await (ta ? lockA.release(ta) : lockB.release(tb as string))).toBe(true);
    }
    expect(winners).toHaveLength(100);
  });

  it('renews and releases only with the holder\'s token', async () => {
    const lock = new RedisLock(a, `${prefix}:token`, 5000);
    const token = await lock.acquire();
    expect(token).not.toBeNull();
    expect(await lock.acquire()).toBeNull();
    expect(await lock.renew('someone-else')).toBe(false);
    expect(await lock.release('someone-else')).toBe(false);
    expect(await a.get(`${prefix}:token`)).toBe(token);
    expect(await lock.renew(token as string)).toBe(true);
    expect(await a.pttl(`${prefix}:token`)).toBeGreaterThan(4000);
    expect(await lock.release(token as string)).toBe(true);
    expect(await a.exists(`${prefix}:token`)).toBe(0);
  });

  it('lapses after its TTL when the holder dies, so another process takes over', async () => {
    const key = `${prefix}:lapse`;
    const dead = new RedisLock(a, key, 300);
    expect(await dead.acquire()).not.toBeNull();
    const other = new RedisLock(b, key, 300);
    expect(await other.acquire()).toBeNull();
    await sleep(400);
    expect(await other.acquire()).not.toBeNull();
  });
});

describe('LeaderLease', () => {
  it('keeps one leader across many ticks, renews it in the background, and hands over on release', async () => {
    const key = `${prefix}:lease`;
    const one = new LeaderLease(new RedisLock(a, key, 600));
    const two = new LeaderLease(new RedisLock(b, key, 600));
    for (let tick = 0; tick < 20; tick++) {
      const [x, y] = await Promise.all([one.hold(), two.hold()]);
      expect(Number(x) + Number(y)).toBe(1);
    }
    const leader = one.held ? one : two;
    const follower = leader === one ? two : one;
    // Longer than the TTL without a tick: the background renewal keeps the lease.
    await sleep(900);
    expect(await follower.hold()).toBe(false);
    await leader.release();
    expect(await follower.hold()).toBe(true);
    await follower.release();
  });
});

describe('RedisScheduleStore claims', () => {
  it('lets exactly one of two concurrent sweeps claim a milestone', async () => {
    const sa = new RedisScheduleStore(a, prefix);
    const sb = new RedisScheduleStore(b, prefix);
    for (let round = 0; round < 50; round++) {
      const claims = await Promise.all([sa.claim('s1', `remind-${round}`, 1), sb.claim('s1', `remind-${round}`, 1)]);
      expect(claims.filter(Boolean)).toHaveLength(1);
    }
    expect((await sa.done('s1')).size).toBe(50);
    await sa.remove('s1');
    expect((await sb.done('s1')).size).toBe(0);
  });
});
