import { describe, expect, it } from 'vitest';
import { MemoryRunStore } from '../../config/memory/run-store.js';
import { runEventCodec } from '../../runbook/event-schema.js';
import type { RunEvent } from '../../runbook/events.js';
import { FoldCache } from '../../runbook/fold-cache.js';
import { fold } from '../../runbook/state.js';
import { oneStepRunStarted } from '../support/one-step-run.js';

const progress = (i: number): RunEvent => ({ type: 'step.progress', at: 10 + i, stepId: 'a', attempt: 1, message: `chunk ${i}` });

async function runWith(store: MemoryRunStore<RunEvent>, runId: string, n: number): Promise<void> {
  await store.create(runId, `rb-${runId}`, [oneStepRunStarted(runId)]);
  await store.append(runId, 1, Array.from({ length: n }, (_, i) => progress(i)));
}

describe('FoldCache (issue 12, part 5)', () => {
  it('folds a long run once, then only the events appended since, and gives what a full fold gives', async () => {
    const store = new MemoryRunStore<RunEvent>(Date.now, runEventCodec);
    await runWith(store, 'r1', 2000);
    const cache = new FoldCache(store);
    expect((await cache.load('r1')).version).toBe(2001);
    expect(cache.folded).toBe(2001);
    await store.append('r1', 2001, [progress(5000), { type: 'run.paused', at: 9000, by: 'U1', reason: 'lunch' }]);
    const { state, version } = await cache.load('r1');
    expect(cache.folded).toBe(2003);
    expect(version).toBe(2003);
    expect(state).toEqual(fold((await store.load('r1')).events));
    expect(state?.status).toBe('paused');
    await cache.load('r1');
    expect(cache.folded).toBe(2003);
  });

  it('goes on from a memo without changing the run it handed out earlier (issue 14: no copy of every step per event)', async () => {
    const store = new MemoryRunStore<RunEvent>(Date.now, runEventCodec);
    await runWith(store, 'r1', 3);
    const cache = new FoldCache(store);
    const before = (await cache.load('r1')).state;
    const snapshot = structuredClone(before);
    // A run-level event first (its state shares the memo's steps), then step events.
    await store.append('r1', 4, [{ type: 'run.paused', at: 50, by: 'U1', reason: 'lunch' }, progress(7), progress(8)]);
    const after = (await cache.load('r1')).state;
    expect(before).toEqual(snapshot);
    expect(before?.steps['a']?.progress?.message).toBe('chunk 2');
    expect(after?.steps['a']?.progress?.message).toBe('chunk 8');
    expect(after).toEqual(fold((await store.load('r1')).events));
  });

  it('folds from the start again when the stream is shorter than what it remembered (never serves a stale run)', async () => {
    const first = new MemoryRunStore<RunEvent>(Date.now, runEventCodec);
    await runWith(first, 'r1', 10);
    let store = first;
    const cache = new FoldCache({ load: (id) => store.load(id), loadAfter: (id, k) => store.loadAfter(id, k), append: (id, v, e) => store.append(id, v, e), create: (id, rb, e) => store.create(id, rb, e), release: async () => undefined, active: async () => [], recent: async () => [] });
    expect((await cache.load('r1')).version).toBe(11);
    store = new MemoryRunStore<RunEvent>(Date.now, runEventCodec);
    await runWith(store, 'r1', 2);
    const again = await cache.load('r1');
    expect(again.version).toBe(3);
    expect(again.state?.steps['a']?.progress?.message).toBe('chunk 1');
  });

  it('keeps the runs read most recently, up to its capacity', async () => {
    const store = new MemoryRunStore<RunEvent>(Date.now, runEventCodec);
    for (const id of ['r1', 'r2', 'r3']) await runWith(store, id, 100);
    const cache = new FoldCache(store, 2);
    for (const id of ['r1', 'r2', 'r3']) await cache.load(id);
    expect(cache.folded).toBe(303);
    await cache.load('r3');
    await cache.load('r2');
    expect(cache.folded).toBe(303);
    await cache.load('r1'); // evicted by r3: folded in full again
    expect(cache.folded).toBe(404);
  });
});
