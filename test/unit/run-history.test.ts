import { describe, expect, it } from 'vitest';
import { RunHistory } from '../../bot/report/run-history.js';
import type { RunListing, RunQueries } from '../../runbook/run-service.js';
import type { RunState } from '../../runbook/state.js';
import { cmd, RUNBOOK, startCommand, stateAfter, USERS } from '../support/runbook-factory.js';

/** A store of runs as RunQueries shows them, counting the histories read. */
function runsOf(states: Map<string, RunState>): Pick<RunQueries, 'recentRunIds' | 'history'> & { histories: string[] } {
  const histories: string[] = [];
  return {
    histories,
    async recentRunIds(limit: number): Promise<RunListing[]> {
      return [...states.values()].map((s) => ({ runId: s.runId, runbook: s.plan.runbook, startedAt: s.startedAt })).sort((a, b) => b.startedAt - a.startedAt).slice(0, limit);
    },
    async history(runId: string) {
      histories.push(runId);
      const state = states.get(runId);
      return state ? { state, events: [] } : null;
    },
  };
}

const finished = (runId: string, at: number): RunState =>
  stateAfter([startCommand({ runId, at }), cmd.abort(USERS.lead, 'rehearsal over', { at: at + 1_000 })]);
const going = (runId: string, at: number): RunState => stateAfter([startCommand({ runId, at })]);

describe('RunHistory: earlier runs for the forecast and the comparison (issue 14)', () => {
  it('reads a finished run once; a refresh after the TTL reads only runs it has not seen finished', async () => {
    let now = 1_000_000;
    const states = new Map([
      ['r1', finished('r1', 10_000)],
      ['r2', finished('r2', 20_000)],
      ['r3', going('r3', 30_000)],
    ]);
    const runs = runsOf(states);
    const history = new RunHistory({ runs, now: () => now, ttlMs: 60_000 });

    expect((await history.finishedRuns(RUNBOOK)).map((s) => s.runId)).toEqual(['r2', 'r1']);
    expect(runs.histories.sort()).toEqual(['r1', 'r2', 'r3']);

    // r3 finishes in another web process; a new run starts. After the TTL only those two are read.
    states.set('r3', finished('r3', 30_000));
    states.set('r4', going('r4', 40_000));
    runs.histories.length = 0;
    now += 60_001;
    expect((await history.finishedRuns(RUNBOOK)).map((s) => s.runId)).toEqual(['r3', 'r2', 'r1']);
    expect(runs.histories.sort()).toEqual(['r3', 'r4']);
  });
});
