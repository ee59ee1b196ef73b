import { describe, expect, it } from 'vitest';
import { LatestRuns } from '../../bot/latest-runs.js';
import type { RunState } from '../../runbook/state.js';
import { cmd, startedRun, stateAfter, startCommand, USERS } from '../support/runbook-factory.js';

const run = (runId: string): RunState => startedRun({ runId });

function memo(states: Record<string, RunState>) {
  const loads: string[] = [];
  const latest = new LatestRuns(async (id) => {
    loads.push(id);
    return states[id] ?? null;
  });
  return { latest, loads };
}

describe('LatestRuns (the folds web already made, for the metrics gauges)', () => {
  it('loads a run it has not seen, then answers from memory', async () => {
    const a = run('a');
    const { latest, loads } = memo({ a });
    expect(await latest.active(['a'])).toEqual([a]);
    expect(await latest.active(['a'])).toEqual([a]);
    expect(loads).toEqual(['a']);
  });

  it('keeps the newer fold: a late, older load does not roll the run back', async () => {
    const older = run('a');
    const newer = stateAfter([startCommand({ runId: 'a' }), cmd.approve('ready', USERS.dba1)]);
    const { latest } = memo({ a: older });
    latest.remember(newer);
    await latest.load('a');
    expect((await latest.active(['a']))[0]?.version).toBe(newer.version);
  });

  it('forgets runs that no longer hold a slot, and skips a run whose events are gone', async () => {
    const { latest, loads } = memo({ a: run('a'), b: run('b') });
    await latest.active(['a', 'b']);
    expect((await latest.active(['b', 'gone'])).map((s) => s.runId)).toEqual(['b']);
    await latest.active(['a']);
    expect(loads).toEqual(['a', 'b', 'gone', 'a']);
  });
});
