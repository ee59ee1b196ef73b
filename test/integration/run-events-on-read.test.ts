/**
 * Events are checked when read (issue 12, part 4): on Redis and in memory, a
 * stream written by the landed version (no format number) still folds to the
 * run it recorded, and a damaged, unknown or newer event stops that run with
 * an error naming the run, the stream entry and the field — never a wrong
 * state, and never the other runs.
 */
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryRunStore } from '../../config/memory/run-store.js';
import { RedisRunStore } from '../../config/redis-run-store.js';
import { EVENT_FORMAT, runEventCodec } from '../../runbook/event-schema.js';
import type { RunEvent } from '../../runbook/events.js';
import type { JobQueue, RunStore } from '../../runbook/ports.js';
import { reconcileRuns } from '../../runbook/reconcile.js';
import { RunService } from '../../runbook/run-service.js';
import { fold } from '../../runbook/state.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `events-on-read-${randomUUID()}`;
let redis: Redis;

beforeAll(() => {
  redis = new Redis(REDIS_URL);
  redis.on('error', () => undefined);
});

afterAll(async () => {
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

/** A backend's store plus a way to put text into a run's stream exactly as a damaged or newer writer would. */
interface Subject {
  store: RunStore<RunEvent>;
  raw(runId: string, text: string, id?: string): Promise<void>;
  /** How the backend names entry n (1-based) of a run in its errors. */
  entryName(runId: string, n: number): Promise<string>;
}

const subjects: Array<[string, () => Subject]> = [
  [
    'redis',
    () => {
      const key = (runId: string) => `${prefix}:run:${runId}:events`;
      return {
        store: new RedisRunStore<RunEvent>(redis, prefix, runEventCodec),
        raw: async (runId, text, id = '*') => void (await redis.xadd(key(runId), id, 'e', text)),
        entryName: async (runId, n) => (await redis.xrange(key(runId), '-', '+'))[n - 1]?.[0] ?? '?',
      };
    },
  ],
  [
    'memory',
    () => {
      const store = new MemoryRunStore<RunEvent>(Date.now, runEventCodec);
      return { store, raw: async (runId, text) => store.appendRaw(runId, text), entryName: async (_runId, n) => `#${n}` };
    },
  ],
];

/** Stream entries recorded from the e2e suite by the landed version, before events carried a format number. */
const fixture = (name: string): Array<[string, string]> =>
  (JSON.parse(readFileSync(new URL(`../fixtures/events/${name}.json`, import.meta.url), 'utf8')) as { entries: Array<[string, string]> }).entries;

const newRunId = () => `run-${randomUUID()}`;

describe.each(subjects)('%s backend', (_name, open) => {
  it('reads a gated run written in today\'s format (no format number) and folds it to what it recorded', async () => {
    const { store, raw } = open();
    const runId = newRunId();
    for (const [id, text] of fixture('gate-run')) await raw(runId, text.replaceAll('gate-20261206-0608-9f62', runId), id);
    const { events, version } = await store.load(runId);
    expect(version).toBe(fixture('gate-run').length);
    const state = fold(events);
    expect(state?.status).toBe('completed');
    const gated = Object.values(state?.steps ?? {}).find((s) => s.override);
    expect(gated?.override).toMatchObject({ verdict: 'red', by: expect.any(String) });
    expect(gated?.override?.evidence.failing.length).toBeGreaterThan(0);
  });

  it('reads a run with health samples and escalations written in today\'s format, and appends after them in the numbered format', async () => {
    const { store, raw } = open();
    const runId = newRunId();
    for (const [id, text] of fixture('health-run')) await raw(runId, text, id);
    const { events, version } = await store.load(runId);
    const state = fold(events);
    expect(state?.status).toBe('aborted');
    expect(events.filter((e) => e.type === 'step.health').length).toBeGreaterThan(0);
    expect(Object.values(state?.steps ?? {}).some((s) => s.escalations.some((e) => e.level === 'blocked'))).toBe(true);
    const follow: RunEvent = { type: 'follow_up.done', at: 1, followUpId: 'none', by: 'U1' };
    expect(await store.append(runId, version, [follow])).toEqual({ ok: true, version: version + 1 });
    expect((await store.load(runId)).events.at(-1)).toEqual(follow);
  });

  const damaged: Array<[string, string, string, RegExp]> = [
    ['a mistyped field', '{"type":"step.progress","at":5,"stepId":"s1","attempt":"two","message":"m"}', 'attempt', /expected number/],
    ['a missing field', '{"v":1,"type":"step.succeeded","at":5,"stepId":"s1","attempt":1}', 'summary', /expected string/],
    ['an unknown event type', '{"type":"step.teleported","at":5,"stepId":"s1"}', 'type', /unknown event type "step\.teleported"/],
    ['an event from a newer format', `{"v":${EVENT_FORMAT + 1},"type":"run.resumed","at":5,"by":"U1"}`, 'v', /newer cutover/],
    ['text that is not JSON', '{"type":"run.resumed", at: 5', '(event)', /JSON/],
  ];

  it.each(damaged)('stops the run at %s, naming the run, the entry and the field', async (_what, text, field, problem) => {
    const { store, raw, entryName } = open();
    const runId = newRunId();
    await store.append(runId, 0, [{ type: 'run.resumed', at: 1, by: 'U1' }]);
    await raw(runId, text);
    const entry = await entryName(runId, 2);
    const error = await store.load(runId).then(
      () => null,
      (err: unknown) => err,
    );
    expect(error).toMatchObject({ code: 'run.corrupt_event' });
    const message = (error as { userMessage: string }).userMessage;
    expect(message).toContain(`Run ${runId} is stopped`);
    expect(message).toContain(`event 2 of its history (stream entry ${entry}`);
    expect(message).toContain(`field \`${field}\``);
    expect(message).toMatch(problem);
  });

  it('stops only the damaged run: a service that had it folded refuses its next read, and the reconciler carries on with the others', async () => {
    const { store, raw } = open();
    const [good, bad] = [newRunId(), newRunId()];
    const gate = fixture('gate-run');
    // Both start from the fixture's first event (run.started), as a fresh run would.
    const started = (runId: string) => JSON.parse(gate[0]?.[1].replaceAll('gate-20261206-0608-9f62', runId) ?? '{}') as RunEvent;
    expect(await store.create(good, `rb-${good}`, [started(good)])).toEqual({ ok: true });
    expect(await store.create(bad, `rb-${bad}`, [started(bad)])).toEqual({ ok: true });
    const queue: JobQueue = { enqueue: async () => undefined, state: async () => ({ state: 'missing' }) };
    const service = new RunService({ store, queue, updates: { publish: async () => undefined } });
    expect((await service.load(bad))?.status).toBe('active');
    await raw(bad, '{"type":"run.paused","at":"soon","by":"U1","reason":"x"}');
    await expect(service.load(bad)).rejects.toMatchObject({ code: 'run.corrupt_event' });
    expect((await service.load(good))?.status).toBe('active');
    const report = await reconcileRuns({ store, queue, service, now: () => 2 });
    expect(report.unreadable).toEqual([{ runId: bad, message: expect.stringContaining('field `at`') }]);
    expect(report.runs).toBeGreaterThanOrEqual(2);
  });
});

describe('stored text', () => {
  it('carries the format number first, so a reader can tell a newer writer\'s events before it parses them', async () => {
    const store = new RedisRunStore<RunEvent>(redis, prefix, runEventCodec);
    const runId = newRunId();
    await store.append(runId, 0, [{ type: 'run.resumed', at: 1, by: 'U1' }]);
    const [[, fields] = ['', []]] = await redis.xrange(`${prefix}:run:${runId}:events`, '-', '+');
    expect(fields[1]).toBe(`{"v":${EVENT_FORMAT},"type":"run.resumed","at":1,"by":"U1"}`);
  });
});
