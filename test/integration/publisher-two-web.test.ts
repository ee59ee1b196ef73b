import { randomBytes } from 'node:crypto';
import { WebClient } from '@slack/web-api';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunPublisher } from '../../bot/run-publisher.js';
import { RedisMessageRefs } from '../../config/redis-message-refs.js';
import { cmd, startCommand, stateAfter, USERS } from '../support/runbook-factory.js';
import { startFakeSlack, type FakeSlack } from '../support/fake-slack.js';

const prefix = `pub-${randomBytes(4).toString('hex')}`;
const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
let fake: FakeSlack;

beforeAll(async () => {
  fake = await startFakeSlack();
});

afterAll(async () => {
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
  await fake.close();
});

/** A publisher as one web process builds it: its own Slack client, the shared Redis. */
function webProcess(load: () => Promise<ReturnType<typeof stateAfter>>): RunPublisher {
  return new RunPublisher({
    client: new WebClient('xoxb-fake', { slackApiUrl: fake.apiUrl }),
    refs: new RedisMessageRefs(redis, prefix),
    load,
    log: pino({ level: 'silent' }),
    minIntervalMs: 10,
    postIntervalMs: 0,
  });
}

describe('two web processes rendering one run', () => {
  it('post its root message and each step message once, then both only edit them', async () => {
    let state = stateAfter([startCommand({ channel: 'C0TWOWEB' })]);
    const a = webProcess(async () => state);
    const b = webProcess(async () => state);
    await Promise.all([a.request(state.runId), b.request(state.runId), a.request(state.runId), b.request(state.runId)]);
    // A skipped post is picked up by the next render, as the sweep would do.
    await Promise.all([a.request(state.runId), b.request(state.runId)]);
    state = stateAfter([startCommand({ channel: 'C0TWOWEB' }), cmd.approve('ready', USERS.dba1)]);
    await Promise.all([a.request(state.runId), b.request(state.runId)]);
    await Promise.all([a.request(state.runId), b.request(state.runId)]);

    const posts = fake.calls.filter((c) => c.method === 'chat.postMessage' && c.ok);
    const roots = posts.filter((c) => c.args['thread_ts'] === undefined);
    expect(roots).toHaveLength(1);
    // 'ready' (approved, done) and 'backup' (now awaiting approval): one message each.
    const threadTexts = posts.filter((c) => c.args['thread_ts'] !== undefined).map((c) => String(c.args['text']));
    expect(threadTexts.filter((t) => t.startsWith('Team ready'))).toHaveLength(1);
    expect(threadTexts.filter((t) => t.startsWith('Back up the source'))).toHaveLength(1);
    expect(fake.calls.some((c) => c.method === 'chat.update' && c.ok)).toBe(true);
  });

  it('takes over a post claim left by a process that died before recording its message', async () => {
    const state = stateAfter([startCommand({ runId: 'run-stale-claim', channel: 'C0STALE' })]);
    const refs = new RedisMessageRefs(redis, prefix);
    await refs.set(state.runId, { 'posting:root': String(Date.now() - 120_000) });
    await webProcess(async () => state).request(state.runId);
    expect(fake.calls.filter((c) => c.method === 'chat.postMessage' && c.args['channel'] === 'C0STALE' && c.args['thread_ts'] === undefined)).toHaveLength(1);
  });
});
