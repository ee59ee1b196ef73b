import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { RunPublisher } from '../../bot/run-publisher.js';
import { RedisMessageRefs } from '../../config/redis-message-refs.js';
import { cmd, startCommand, stateAfter, USERS } from '../support/runbook-factory.js';
import { publisherBench } from '../support/publisher-bench.js';

const bench = publisherBench('pub');
const { prefix, redis } = bench;

/** A publisher as one web process builds it: its own Slack client, the shared Redis. */
function webProcess(load: () => Promise<ReturnType<typeof stateAfter>>): RunPublisher {
  return new RunPublisher({ ...bench.web(), load, minIntervalMs: 10, postIntervalMs: 0 });
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

    const posts = bench.fake.calls.filter((c) => c.method === 'chat.postMessage' && c.ok);
    const roots = posts.filter((c) => c.args['thread_ts'] === undefined);
    expect(roots).toHaveLength(1);
    // 'ready' (approved, done) and 'backup' (now awaiting approval): one message each.
    const threadTexts = posts.filter((c) => c.args['thread_ts'] !== undefined).map((c) => String(c.args['text']));
    expect(threadTexts.filter((t) => t.startsWith('Team ready'))).toHaveLength(1);
    expect(threadTexts.filter((t) => t.startsWith('Back up the source'))).toHaveLength(1);
    expect(bench.fake.calls.some((c) => c.method === 'chat.update' && c.ok)).toBe(true);
  });

  it('takes over a post claim left by a process that died before recording its message', async () => {
    const state = stateAfter([startCommand({ runId: 'run-stale-claim', channel: 'C0STALE' })]);
    const refs = new RedisMessageRefs(redis, prefix);
    await refs.set(state.runId, { 'posting:root': String(Date.now() - 120_000) });
    await webProcess(async () => state).request(state.runId);
    expect(bench.fake.calls.filter((c) => c.method === 'chat.postMessage' && c.args['channel'] === 'C0STALE' && c.args['thread_ts'] === undefined)).toHaveLength(1);
  });

  it('posts a message once although a long render read the refs before another process recorded it, and keeps no claims', async () => {
    const state = stateAfter([startCommand({ runId: 'run-stale-refs', channel: 'C0STALEREFS' })]);
    const refs = new RedisMessageRefs(redis, prefix);
    const before = await refs.all(state.runId);
    await webProcess(async () => state).request(state.runId);
    const recorded = await refs.all(state.runId);
    expect(Object.keys(recorded).filter((f) => f.startsWith('posting:'))).toEqual([]);
    // B's render read the refs before A posted and recorded (a 3,000-step render paced by Slack takes minutes),
    // and A's claim would look stale by now: B must find the recorded message, not post it again.
    const stale: RedisMessageRefs = Object.assign(Object.create(refs) as RedisMessageRefs, { all: async () => ({ ...before }) });
    await refs.set(state.runId, { 'posting:root': String(Date.now() - 120_000) });
    const b = new RunPublisher({ ...bench.web(), refs: stale, load: async () => state, minIntervalMs: 10, postIntervalMs: 0 });
    await b.request(state.runId);
    const posts = bench.fake.calls.filter((c) => c.method === 'chat.postMessage' && c.ok && c.args['channel'] === 'C0STALEREFS');
    expect(posts.filter((c) => c.args['thread_ts'] === undefined)).toHaveLength(1);
    expect(posts.filter((c) => String(c.args['text']).startsWith('Team ready'))).toHaveLength(1);
    expect(Object.keys(await refs.all(state.runId)).filter((f) => f.startsWith('posting:'))).toEqual([]);
  });
});
