import { describe, expect, it } from 'vitest';
import { forecastLine } from '../../bot/render/forecast-line.js';
import { renderRoot } from '../../bot/render/run-blocks.js';
import { forecastRun, measuredDrift, mustDecide, rollbackPlannedSeconds, type StepHistory } from '../../runbook/forecast.js';
import { loadRunbook } from '../../runbook/load.js';
import type { RunEvent } from '../../runbook/events.js';
import type { Plan } from '../../runbook/plan.js';
import { fold, type RunState } from '../../runbook/state.js';
import { reportEvents, reportPlan } from '../support/report-fixture.js';
import { at, T0, USERS } from '../support/runbook-factory.js';

const MIN = 60;

/** The fixture night (see report-fixture.ts) cut at a minute: every event up to and including it. */
function stateAt(minute: number, plan: Plan = reportPlan(), extra: RunEvent[] = []): RunState {
  const events = reportEvents({ plan }).filter((e) => e.at <= at(minute) && e.type !== 'run.completed');
  const state = fold([...events, ...extra]);
  if (!state) throw new Error('no state');
  return state;
}

describe('drift factor = Σ actual / Σ baseline over finished steps, clamped', () => {
  it.each([
    { name: 'nothing finished yet: 1', minute: 0, drift: 1, steps: 0 },
    { name: 'ready took 3m of 5m: 0.6', minute: 3, drift: 0.6, steps: 1 },
    { name: 'ready 3m + backup 9m of 10m: 1.2', minute: 12, drift: 1.2, steps: 2 },
    { name: 'copy 33m added: 45m of 30m = 1.5', minute: 45, drift: 1.5, steps: 3 },
  ])('$name', ({ minute, drift, steps }) => {
    const f = forecastRun(stateAt(minute), at(minute));
    expect(f.driftFactor).toBeCloseTo(drift, 6);
    expect(f.driftBasis.steps).toBe(steps);
  });

  // Issue 16: a rehearsal that took 4 minutes was forecast to go live at 01:46 because drift was capped at −50 %.
  it.each([
    { raw: 0.02, kept: 0.02 },
    { raw: 6, kept: 6 },
    { raw: 1.3, kept: 1.3 },
    { raw: Number.NaN, kept: 1 },
    { raw: Number.POSITIVE_INFINITY, kept: 1 },
  ])('keeps the measured drift $raw as $kept (no cap that hides reality)', ({ raw, kept }) => {
    expect(measuredDrift(raw)).toBe(kept);
  });
});

describe('go-live = now + remaining baselines × drift, minus what the current step has used', () => {
  it.each([
    { name: 'at the start: the whole plan (40m)', minute: 0, remaining: 40 * MIN },
    { name: 'copy just requested: (20m + 10m) × 1.2', minute: 12, remaining: 36 * MIN },
    { name: 'copy 8m in: 20m × 1.2 − 8m + 10m × 1.2', minute: 20, remaining: 28 * MIN },
    { name: 'copy far over its slot: its remainder is 0, validate 10m × 1.2', minute: 44, remaining: 12 * MIN },
  ])('$name', ({ minute, remaining }) => {
    const f = forecastRun(stateAt(minute), at(minute));
    expect(f.remainingSeconds).toBeCloseTo(remaining, 6);
    expect(f.goLiveAt).toBeCloseTo(at(minute) + remaining * 1000, 0);
  });

  it('a completed run went live when it completed; an aborted one never did', () => {
    const events = reportEvents();
    const done = fold(events) as RunState;
    expect(forecastRun(done, at(100)).goLiveAt).toBe(at(52));
    expect(forecastRun(done, at(100)).mustDecide).toBe(false);
    const aborted = fold([...reportEvents().slice(0, 5), { type: 'run.aborted', at: at(4), by: 'ULEAD', reason: 'x' }]) as RunState;
    expect(forecastRun(aborted, at(5)).goLiveAt).toBeNull();
  });

  it('counts steps with neither a plan nor an earlier run as unknown (0), not as a guess', () => {
    const plan = reportPlan();
    const load = plan.phases[1];
    if (!load?.steps[1]) throw new Error('fixture changed');
    load.steps[1] = { ...load.steps[1], plannedSeconds: null };
    const f = forecastRun(stateAt(12, plan), at(12));
    expect(f.unknownSteps).toBe(1);
    expect(f.remainingSeconds).toBeCloseTo(20 * MIN * 1.2, 6);
  });
});

describe('mustDecide(now, remaining, rollback, windowEnd): now + remaining + rollback > window end', () => {
  it.each([
    { name: 'fits with room', now: at(0), remaining: 30 * MIN, rollback: 15 * MIN, end: at(60), expected: false },
    { name: 'exactly at the end still fits', now: at(0), remaining: 45 * MIN, rollback: 15 * MIN, end: at(60), expected: false },
    { name: 'one second over', now: at(0), remaining: 45 * MIN + 1, rollback: 15 * MIN, end: at(60), expected: true },
    { name: 'go-live fits but the rollback would not', now: at(10), remaining: 40 * MIN, rollback: 45 * MIN, end: at(60), expected: true },
    { name: 'no rollback planned: only the go-live counts', now: at(10), remaining: 40 * MIN, rollback: null, end: at(60), expected: false },
    { name: 'no window: never', now: at(10), remaining: 400 * MIN, rollback: 45 * MIN, end: null, expected: false },
  ])('$name', ({ now, remaining, rollback, end, expected }) => {
    expect(mustDecide(now, remaining, rollback, end)).toBe(expected);
  });
});

describe('window breach and rollback margin', () => {
  const withWindowEnd = (minute: number): Plan => reportPlan({ window: { start: T0, end: at(minute) } });
  it.each([
    // At minute 12: go-live forecast 12 + 36 = 48; the longest rollback is 45m.
    { name: 'window end 60: go-live fits, a rollback does not → decide', end: 60, breach: false, decide: true, margin: 60 - 48 - 45, decideBy: 15 },
    { name: 'window end 100: both fit', end: 100, breach: false, decide: false, margin: 100 - 48 - 45, decideBy: 55 },
    { name: 'window end 40: even go-live is late', end: 40, breach: true, decide: true, margin: 40 - 48 - 45, decideBy: -5 },
  ])('$name', ({ end, breach, decide, margin, decideBy }) => {
    const f = forecastRun(stateAt(12, withWindowEnd(end)), at(12));
    expect(f.breach).toBe(breach);
    expect(f.mustDecide).toBe(decide);
    expect(f.marginSeconds).toBeCloseTo(margin * MIN, 6);
    expect(f.decideBy).toBe(at(decideBy));
    expect(f.rollbackSeconds).toBe(45 * MIN);
  });

  it('rollback planned duration is the longest scenario, null when none has a plan', () => {
    expect(rollbackPlannedSeconds(reportPlan())).toBe(2700);
    expect(rollbackPlannedSeconds(reportPlan({ rollbackScenarios: [{ id: 'a', title: 'A', approve: 'lead', plannedSeconds: null }] }))).toBeNull();
    expect(rollbackPlannedSeconds(reportPlan({ rollbackScenarios: [] }))).toBeNull();
  });
});

describe('rehearsal durations replace planned ones', () => {
  it.each<{ name: string; history: StepHistory; drift: number; remaining: number; fromHistory: number }>([
    { name: 'no history: planned', history: {}, drift: 1.2, remaining: 36 * MIN, fromHistory: 0 },
    { name: 'copy took 30m and validate 5m in rehearsal', history: { copy: 30 * MIN, validate: 5 * MIN }, drift: 1.2, remaining: 35 * MIN * 1.2, fromHistory: 2 },
    // backup's baseline becomes its rehearsal 9m: tonight's 12m of 14m baseline is a drift of 6/7.
    { name: 'a finished step with history changes the drift', history: { backup: 9 * MIN }, drift: 12 / 14, remaining: 30 * MIN * (12 / 14), fromHistory: 0 },
  ])('$name', ({ history, drift, remaining, fromHistory }) => {
    const f = forecastRun(stateAt(12), at(12), history);
    expect(f.driftFactor).toBeCloseTo(drift, 6);
    expect(f.remainingSeconds).toBeCloseTo(remaining, 6);
    expect(f.fromHistory).toBe(fromHistory);
  });
});

describe('the forecast on the root message', () => {
  const plan = reportPlan({ window: { start: T0, end: at(60) } });

  it('says when go-live is expected, when the window ends, how long a rollback needs and when to decide', () => {
    const line = forecastLine(stateAt(12, plan), at(12)) ?? '';
    expect(line).toContain('Go-live forecast <!date^');
    expect(line).toContain('|2024-03-09 22:48 UTC>');
    expect(line).toContain('window ends <!date^');
    expect(line).toContain('|2024-03-09 23:00 UTC>');
    expect(line).toContain('rollback needs 45m → decide by <!date^');
    expect(line).toContain('|2024-03-09 22:15 UTC>');
    expect(line).toContain('drift +20 % over 2 steps');
    expect(line).toContain('decide go/no-go now');
  });

  it('is part of renderRoot, uses rehearsal durations when given, and is gone once the run is finished', () => {
    const text = JSON.stringify(renderRoot(stateAt(12, plan), at(12), { copy: 30 * MIN, validate: 5 * MIN }).blocks);
    expect(text).toContain('|2024-03-09 22:54 UTC>'); // 12 + (30 + 5) × 1.2 = 54
    expect(text).toContain('2 steps timed from earlier runs');
    expect(forecastLine(fold(reportEvents()) as RunState, at(60))).toBeNull();
    expect(JSON.stringify(renderRoot(fold(reportEvents()) as RunState, at(60)).blocks)).not.toContain('Go-live forecast');
  });

  it('writes every time as a Slack date token with a dated UTC fallback (issue 16: one convention)', () => {
    const line = forecastLine(stateAt(12, plan), at(12)) ?? '';
    expect(line).toContain(`Go-live forecast <!date^${Math.floor(at(48) / 1000)}^{date_short_pretty} {time}|2024-03-09 22:48 UTC>`);
    expect(line).not.toMatch(/\d\d:\d\d(:\d\d)? ?(AM|PM)|T\d\d:\d\d/);
  });

  it('says "no window set" when the runbook has none, and shows no forecast during a rollback', () => {
    const windowless = reportPlan({ window: undefined });
    expect(forecastLine(stateAt(12, windowless), at(12))).toMatch(/Go-live forecast <!date\^[^>]+> \(no window set\)/);
    const events = reportEvents({ plan }).filter((e) => e.at <= at(12));
    events.push({ type: 'rollback.requested', at: at(12), scenario: 'pre-go-live', by: USERS.lead, reason: 'source corrupt' });
    const rolling = fold(events) as RunState;
    expect(forecastLine(rolling, at(13))).toBeNull();
    expect(JSON.stringify(renderRoot(rolling, at(13)).blocks)).not.toContain('Go-live forecast');
  });

  it('forecasts a fast rehearsal honestly: minutes away, not hours (no drift cap)', () => {
    // The night above at 20× speed: drift 1.2 / 20, where a cap at 0.5 forecast 15m instead of 1m 48s.
    const fast = reportEvents({ plan }).filter((e) => e.at <= at(12)).map((e) => ({ ...e, at: T0 + (e.at - T0) / 20 }));
    const f = forecastRun(fold(fast) as RunState, T0 + 36_000);
    expect(f.driftFactor).toBeCloseTo(1.2 / 20, 6);
    expect(f.remainingSeconds).toBeCloseTo(30 * MIN * (1.2 / 20), 6);
  });

  it('says it cannot forecast when no step has a plan', () => {
    const bare = reportPlan();
    for (const phase of bare.phases) phase.steps = phase.steps.map((s) => ({ ...s, plannedSeconds: null }));
    expect(forecastLine(stateAt(0, bare), at(0))).toContain('forecast unavailable');
  });
});

describe('runbook window: ISO date-times with an offset', () => {
  const text = (window: string) => `title: W
roles: { lead: { title: Lead, members: [ULEAD, ULEAD2] } }
${window}
phases:
  - id: p
    title: P
    steps: [{ id: s, title: S, approve: lead, action: manual }]
rollback:
  fast: { title: Fast, approve: lead, planned: 15m }
  slow: { title: Slow, approve: lead, steps: [{ id: r1, title: R1, approve: lead, action: manual, planned: 20m }, { id: r2, title: R2, approve: lead, action: manual, planned: 25m }] }
`;
  const load = (window: string, env: Record<string, string> = {}) => loadRunbook({ name: 'w', file: 'w.yaml', text: text(window), env });

  it('turns the window into epoch ms and the rollback scenarios into planned seconds', () => {
    const result = load('window: { start: "2024-03-09T22:00:00+01:00", end: "2024-03-10T04:00:00Z" }');
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    expect(result.runbook.plan.window).toEqual({ start: Date.UTC(2024, 2, 9, 21), end: Date.UTC(2024, 2, 10, 4) });
    expect(result.runbook.plan.rollbackScenarios.map((s) => s.plannedSeconds)).toEqual([900, 2700]);
    expect(rollbackPlannedSeconds(result.runbook.plan)).toBe(2700);
  });

  it.each([
    { window: 'window: { end: "2024-03-10 04:00" }', path: 'window.end', message: /expected an ISO date-time with a UTC offset/ },
    { window: 'window: { start: "2024-03-10T04:00:00" }', path: 'window.start', message: /expected an ISO date-time with a UTC offset/ },
    { window: 'window: { start: "2024-03-10T04:00:00Z", end: "2024-03-10T03:00:00Z" }', path: 'window.end', message: /window end must be after its start/ },
  ])('refuses $window', ({ window, path, message }) => {
    const result = load(window);
    if (result.ok) throw new Error('expected a problem');
    const problem = result.problems.find((p) => p.path === path);
    expect(problem?.message).toMatch(message);
    expect(problem?.file).toBe('w.yaml');
  });

  it('treats an unset ${VAR:-} as no window', () => {
    const result = load('window: { start: "${W_START:-}", end: "${W_END:-}" }');
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    expect(result.runbook.plan.window).toEqual({ start: null, end: null });
  });
});
