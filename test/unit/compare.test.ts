import { describe, expect, it } from 'vitest';
import { parseMigrateText } from '../../bot/command-text.js';
import { compareRuns, stepHistoryOf } from '../../runbook/compare.js';
import type { RunEvent } from '../../runbook/events.js';
import { fold, type RunState } from '../../runbook/state.js';
import { reportEvents } from '../support/report-fixture.js';
import { at } from '../support/runbook-factory.js';

const MIN = 60;
const run = (opts: Parameters<typeof reportEvents>[0] = {}, patch: (e: RunEvent) => RunEvent = (e) => e): RunState =>
  fold(reportEvents(opts).map(patch)) as RunState;
const labels = { now: at(200), currentLabel: 'run 3', baselineLabel: 'rehearsal 2' };

describe('compareRuns', () => {
  const baseline = run({ runId: 'r2' });

  it('sets the runs side by side per step: durations, waits, rows, verdicts', () => {
    const c = compareRuns(run({ runId: 'r3', copyMinutes: 30 }), baseline, labels);
    expect([c.current.actualSeconds, c.baseline.actualSeconds]).toEqual([57 * MIN, 52 * MIN]);
    const copy = c.steps.find((s) => s.stepId === 'copy');
    expect(copy?.current).toEqual({ status: 'succeeded', actualSeconds: 38 * MIN, waitSeconds: 8 * MIN, executionSeconds: 30 * MIN, rows: 12000, verdict: null });
    expect(copy?.baseline?.executionSeconds).toBe(25 * MIN);
    expect(copy?.executionChangePct).toBe(20);
    expect(c.steps.find((s) => s.stepId === 'validate')?.current?.verdict).toBe('matched');
  });

  it.each([
    { name: 'identical runs: nothing', copyMinutes: 25, expected: [] },
    { name: 'exactly 20 % slower: not over the threshold', copyMinutes: 30, expected: [] },
    {
      name: '40 % slower: the step and its table',
      copyMinutes: 35,
      expected: ['copy 40 % slower than rehearsal 2 (35m vs 25m)', 'copy Antrag 40 % slower than rehearsal 2 (35m vs 25m)'],
    },
    { name: 'faster: nothing', copyMinutes: 10, expected: [] },
  ])('$name', ({ copyMinutes, expected }) => {
    expect(compareRuns(run({ runId: 'r3', copyMinutes }), baseline, labels).regressions).toEqual(expected);
  });

  it('flags fewer rows copied, a failing verdict and a step that failed where it had succeeded', () => {
    const worse = run({ runId: 'r3', rows: 11000 }, (e) => (e.type === 'step.succeeded' && e.stepId === 'validate' ? { ...e, details: { verdict: 'mismatch' } } : e));
    expect(compareRuns(worse, baseline, labels).regressions).toEqual([
      'copy copied 11000 rows, 1000 fewer than rehearsal 2',
      'validate verdict mismatch (was matched in rehearsal 2)',
    ]);
    const failed = fold([
      ...reportEvents({ runId: 'r4' }).filter((e) => e.at <= at(12) && e.type !== 'run.completed'),
      { type: 'step.approved', at: at(13), stepId: 'copy', attempt: 1, by: 'UDBA1' },
      { type: 'step.queued', at: at(13), stepId: 'copy', attempt: 1, jobId: 'x' },
      { type: 'step.failed', at: at(14), stepId: 'copy', attempt: 1, code: 'etl.failed', message: 'boom' },
    ]) as RunState;
    expect(compareRuns(failed, baseline, labels).regressions).toContain('copy failed; it succeeded in rehearsal 2');
  });

  it('ignores differences below minSeconds whatever the percentage', () => {
    const tiny = (seconds: number, id: string) =>
      fold(reportEvents({ runId: id }).map((e) => (e.type === 'step.succeeded' && e.stepId === 'backup' ? { ...e, at: at(5) + seconds * 1000 } : e))) as RunState;
    expect(compareRuns(tiny(2, 'a'), tiny(1, 'b'), { ...labels, minSeconds: 5 }).regressions).toEqual([]);
    expect(compareRuns(tiny(20, 'a'), tiny(1, 'b'), { ...labels, minSeconds: 5 }).regressions[0]).toMatch(/^backup \d+ % slower/);
  });
});

describe('stepHistoryOf', () => {
  it('takes each step from the most recent real run in which it succeeded, skipping dry runs', () => {
    const newest = run({ runId: 'n', copyMinutes: 30 });
    const older = run({ runId: 'o', copyMinutes: 40 });
    const dry = run({ runId: 'd', copyMinutes: 5 }, (e) => (e.type === 'run.started' ? { ...e, dryRun: true } : e));
    const history = stepHistoryOf([dry, newest, older]);
    expect(history).toEqual({ ready: 3 * MIN, backup: 9 * MIN, copy: 38 * MIN, validate: 7 * MIN });
    const partial = fold(reportEvents({ runId: 'p' }).filter((e) => e.at <= at(12))) as RunState;
    expect(stepHistoryOf([partial, older])['copy']).toBe(48 * MIN);
  });
});

describe('/migrate report and compare parse', () => {
  it.each([
    { text: 'report kgv-20240309-2200-ab12', expected: { kind: 'report', runId: 'kgv-20240309-2200-ab12' } },
    { text: 'compare a-1', expected: { kind: 'compare', runId: 'a-1', other: null } },
    { text: 'compare a-1 b-2', expected: { kind: 'compare', runId: 'a-1', other: 'b-2' } },
  ])('$text', ({ text, expected }) => {
    expect(parseMigrateText(text)).toEqual(expected);
  });

  it.each(['report', 'report a b', 'compare', 'compare a b c', 'compare a <b>'])('"%s" is help with the reason', (text) => {
    const parsed = parseMigrateText(text);
    expect(parsed.kind).toBe('help');
    expect(parsed.kind === 'help' ? parsed.problem : '').toMatch(/needs a run id/);
  });
});
