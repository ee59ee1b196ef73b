import { randomUUID } from 'node:crypto';
import type { WebClient } from '@slack/web-api';
import type { Redis } from 'ioredis';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunPublisher } from '../../bot/run-publisher.js';
import { redisConnection } from '../../config/job-queue.js';
import { RedisMessageRefs } from '../../config/redis-message-refs.js';
import type { RunState } from '../../runbook/state.js';
import { reportState } from '../support/report-fixture.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `cutover-test-${randomUUID()}`;
let redis: Redis;

/** Only the two chat methods the publisher calls; every post gets a fresh ts. */
function stubClient(): WebClient {
  let ts = 0;
  const stub = {
    chat: {
      postMessage: async () => ({ ok: true, ts: `1.${++ts}` }),
      update: async () => ({ ok: true }),
    },
  };
  // The publisher is typed against the real client; the stub has the subset it uses.
  return stub as unknown as WebClient;
}

function publisher(state: RunState, onFinished: (s: RunState, root: string) => Promise<void>): RunPublisher {
  return new RunPublisher({
    client: stubClient(),
    refs: new RedisMessageRefs(redis, prefix),
    load: async () => state,
    log: pino({ level: 'silent' }),
    minIntervalMs: 1,
    postIntervalMs: 1,
    onFinished,
  });
}

beforeAll(async () => {
  redis = redisConnection(REDIS_URL, 'test report-once');
  await redis.ping();
});

afterAll(async () => {
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
  await redis.quit();
});

describe('end-of-run report hook', () => {
  it('runs once per finished run, across renders, a restarted publisher and two web processes at once', async () => {
    const state = { ...reportState(), runId: `run-${randomUUID()}` };
    const calls: string[] = [];
    const hook = async (s: RunState, root: string) => void calls.push(`${s.runId}@${root}`);
    const a = publisher(state, hook);
    await a.request(state.runId);
    await a.request(state.runId);
    // A restart (new publisher, same Redis) and a second web process rendering concurrently.
    const [b, c] = [publisher(state, hook), publisher(state, hook)];
    await Promise.all([b.request(state.runId), c.request(state.runId)]);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatch(new RegExp(`^${state.runId}@1\\.1$`));
  });

  it('frees the claim when the report fails, so the next render tries again', async () => {
    const state = { ...reportState(), runId: `run-${randomUUID()}` };
    let attempts = 0;
    const flaky = publisher(state, async () => {
      attempts += 1;
      if (attempts === 1) throw new Error('files.uploadV2 failed');
    });
    await flaky.request(state.runId);
    expect(await redis.hget(`${prefix}:run:${state.runId}:messages`, 'report')).toBeNull();
    await flaky.request(state.runId);
    await flaky.request(state.runId);
    expect(attempts).toBe(2);
    expect(await redis.hget(`${prefix}:run:${state.runId}:messages`, 'report')).not.toBeNull();
  });

  it('does not run for a run still in progress', async () => {
    const finished = reportState();
    const active: RunState = { ...finished, runId: `run-${randomUUID()}`, status: 'active', finishedAt: null };
    let called = false;
    await publisher(active, async () => void (called = true)).request(active.runId);
    expect(called).toBe(false);
  });
});
