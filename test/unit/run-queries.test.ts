import { describe, expect, it } from 'vitest';
import { MemoryRunStore } from '../../config/memory/run-store.js';
import { runEventCodec } from '../../runbook/event-schema.js';
import type { RunEvent } from '../../runbook/events.js';
import { RunService } from '../../runbook/run-service.js';
import { fold } from '../../runbook/state.js';
import { oneStepRunStarted } from '../support/one-step-run.js';


function serviceOver(store: MemoryRunStore<RunEvent>): RunService {
  return new RunService({
    store,
    queue: { enqueue: async () => undefined, state: async () => ({ state: 'missing' }) },
    updates: { publish: async () => undefined },
  });
}

describe('RunQueries: the bot reads runs through the run service (issue 17)', () => {
  it('lists active and recent runs without reading them, and folds on request', async () => {
    const store = new MemoryRunStore<RunEvent>(Date.now, runEventCodec);
    await store.create('r1', 'one', [oneStepRunStarted('r1', 1_000)]);
    await store.create('r2', 'two', [oneStepRunStarted('r2', 2_000)]);
    await store.release('one', 'r1');
    const runs = serviceOver(store);

    expect(await runs.activeRunIds()).toEqual([{ runbook: 'two', runId: 'r2' }]);
    expect((await runs.recentRunIds(10)).map((r) => r.runId)).toEqual(['r2', 'r1']);
    expect(runs.folds.folded).toBe(0);
    expect((await runs.activeRuns()).map((s) => s.runId)).toEqual(['r2']);
    expect((await runs.recentRuns(1)).map((s) => s.runId)).toEqual(['r2']);
  });

  it("gives a run's whole history folded afresh, outside the cache that serves runs in progress", async () => {
    const store = new MemoryRunStore<RunEvent>(Date.now, runEventCodec);
    await store.create('r1', 'one', [oneStepRunStarted('r1', 1_000)]);
    await store.append('r1', 1, [{ type: 'run.paused', at: 1_500, by: 'U1', reason: 'lunch' }]);
    const runs = serviceOver(store);

    const read = await runs.history('r1');
    expect(read?.events.map((e) => e.type)).toEqual(['run.started', 'run.paused']);
    expect(read?.state).toEqual(fold((await store.load('r1')).events));
    expect(read?.state.status).toBe('paused');
    expect(runs.folds.folded).toBe(0);
    expect(await runs.history('no-such-run')).toBeNull();
  });
});
