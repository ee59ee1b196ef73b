import { describe, expect, it } from 'vitest';
import { RunPublisher } from '../../bot/run-publisher.js';
import type { PlanPhase } from '../../runbook/plan.js';
import type { RunState } from '../../runbook/state.js';
import { at, makePlan, makeStep, startCommand, stateAfter, USERS } from '../support/runbook-factory.js';
import { publisherBench } from '../support/publisher-bench.js';

const bench = publisherBench('digest');

/** A started run of `count` manual steps in phases of 100, in its own channel. */
function bigRun(runId: string, count: number): RunState {
  const phases: PlanPhase[] = [];
  for (let p = 0; p * 100 < count; p++) {
    const steps = Array.from({ length: Math.min(100, count - p * 100) }, (_, i) => p * 100 + i).map((n) =>
      makeStep({ id: `step-${n}`, title: `Check item ${n}`, phaseId: `phase-${p}`, approve: 'lead', action: 'manual', plannedSeconds: 60 }),
    );
    phases.push({ id: `phase-${p}`, title: `Phase ${p}`, plannedSeconds: null, steps });
  }
  return stateAfter([startCommand({ runId, channel: `C${runId.toUpperCase()}`, plan: makePlan({ phases }) })]);
}

/** The first `count` steps approved (so done) and the next waiting, as a burst of direct approvals leaves them. */
function doneUpTo(state: RunState, count: number): RunState {
  const steps = { ...state.steps };
  state.order.forEach((id, i) => {
    const step = steps[id];
    if (!step || i > count) return;
    const when = at(2 + i / 100);
    steps[id] = i < count
      ? { ...step, status: 'succeeded', requestedAt: when, approvedAt: when, finishedAt: when, approvals: [{ by: USERS.lead2, at: when }] }
      : { ...step, status: 'awaiting_approval', requestedAt: when };
  });
  return { ...state, steps, version: state.version + count };
}

function publisher(load: () => Promise<RunState>, postIntervalMs: number): RunPublisher {
  return new RunPublisher({ ...bench.web(), load, minIntervalMs: 10, postIntervalMs });
}

/** Every thread message's text and blocks in posting order, and the step ids each names (`step-N`), in order. */
function threadStepIds(channel: string): { ids: string[]; posts: number } {
  const posts = bench.fake.calls.filter((c) => c.method === 'chat.postMessage' && c.ok && c.args['channel'] === channel && c.args['thread_ts'] !== undefined);
  const ids = posts.flatMap((c) => {
    const text = String(c.args['blocks'] ?? '');
    const own = /step `(step-\d+)`/.exec(text);
    return own ? [own[1] ?? ''] : [...text.matchAll(/`(step-\d+)`/g)].map((m) => m[1] ?? '');
  });
  return { ids, posts: posts.length };
}

describe('a run whose steps finish faster than Slack takes messages (issue 14)', () => {
  it('posts every finished step once, in plan order, in far fewer messages than steps', async () => {
    let state = bigRun('rdigest1', 400);
    const web = publisher(async () => state, 20);
    await web.request(state.runId);
    for (const done of [1, 2, 250, 251, 399, 400]) {
      state = doneUpTo(state, done);
      await web.request(state.runId);
    }
    const { ids, posts } = threadStepIds(state.channel);
    const expected = state.order.slice(0, 400);
    expect(ids).toEqual(expected);
    // Steps 0-2 had messages of their own (posted while waiting); the bursts went out as digests.
    expect(posts).toBeLessThan(20);
    const digests = bench.fake.calls.filter((c) => c.method === 'chat.postMessage' && c.args['channel'] === state.channel && String(c.args['text']).includes('steps finished'));
    expect(digests.length).toBeGreaterThan(1);
  });

  it('two web processes rendering the same burst still report each step once', async () => {
    let state = bigRun('rdigest2', 300);
    const a = publisher(async () => state, 0);
    const b = publisher(async () => state, 0);
    await Promise.all([a.request(state.runId), b.request(state.runId)]);
    state = doneUpTo(state, 300);
    await Promise.all([a.request(state.runId), b.request(state.runId), a.request(state.runId)]);
    await Promise.all([a.request(state.runId), b.request(state.runId)]);
    const { ids } = threadStepIds(state.channel);
    expect([...ids].sort()).toEqual([...state.order].sort());
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('a few steps done at once still get a message each', async () => {
    let state = bigRun('rdigest3', 10);
    const web = publisher(async () => state, 0);
    await web.request(state.runId);
    state = doneUpTo(state, 3);
    await web.request(state.runId);
    const posts = bench.fake.calls.filter((c) => c.method === 'chat.postMessage' && c.args['channel'] === state.channel && c.args['thread_ts'] !== undefined);
    expect(posts.map((c) => String(c.args['text']))).toEqual(['Check item 0: waiting for approval', 'Check item 1: done', 'Check item 2: done', 'Check item 3: waiting for approval']);
  });
});
