import { describe, expect, it } from 'vitest';
import { reportSummary } from '../../bot/render/report-summary.js';
import { compareRuns } from '../../runbook/compare.js';
import type { RunEvent } from '../../runbook/events.js';
import { buildReport, nameOf, peopleOf, timelineOf } from '../../runbook/report/index.js';
import { stepOutcome } from '../../runbook/report/details.js';
import { fold, type RunState } from '../../runbook/state.js';
import { reportEvents, reportState } from '../support/report-fixture.js';
import { at, T0, USERS } from '../support/runbook-factory.js';

const MIN = 60;
const events = reportEvents();
const state = reportState(events);
const report = buildReport(state, events, { now: at(60) });
const f = report.figures;

describe('report figures of a run with known events', () => {
  it('gives planned vs actual per phase, with waiting and execution apart', () => {
    expect(f.phases.map((p) => [p.phaseId, p.plannedSeconds, p.actualSeconds, p.driftSeconds, p.waitSeconds, p.executionSeconds])).toEqual([
      ['prep', 10 * MIN, 12 * MIN, 2 * MIN, 5 * MIN, 7 * MIN],
      ['load', 30 * MIN, 40 * MIN, 10 * MIN, 9 * MIN, 31 * MIN],
    ]);
  });

  it('gives planned vs actual per step', () => {
    expect(f.steps.map((s) => [s.stepId, s.plannedSeconds, s.actualSeconds, s.waitSeconds, s.executionSeconds, s.driftSeconds])).toEqual([
      ['ready', 5 * MIN, 3 * MIN, 3 * MIN, 0, -2 * MIN],
      ['backup', 5 * MIN, 9 * MIN, 2 * MIN, 7 * MIN, 4 * MIN],
      ['copy', 20 * MIN, 33 * MIN, 8 * MIN, 25 * MIN, 13 * MIN],
      ['validate', 10 * MIN, 7 * MIN, MIN, 6 * MIN, -3 * MIN],
    ]);
  });

  it('takes the run total from its start and end (not the report time), against the summed plan', () => {
    expect(f.run).toEqual({ plannedSeconds: 40 * MIN, actualSeconds: 52 * MIN, waitSeconds: 14 * MIN, executionSeconds: 38 * MIN, driftSeconds: 12 * MIN });
  });

  it('lists approvals with who gave them, when, and how long each waited', () => {
    expect(f.approvals.map((a) => [a.stepId, a.by, a.at, a.waitedSeconds])).toEqual([
      ['ready', USERS.dba1, at(3), 3 * MIN],
      ['backup', USERS.dba2, at(5), 2 * MIN],
      ['copy', USERS.dba1, at(20), 8 * MIN],
      ['validate', USERS.dba2, at(46), MIN],
    ]);
  });

  it('names the people involved, the top waits and the top overruns', () => {
    expect(f.people).toEqual([USERS.lead, USERS.dba1, USERS.dba2, USERS.owner]);
    expect(f.topWaits.map((s) => s.stepId)).toEqual(['copy', 'ready', 'backup']);
    expect(f.topOverruns.map((s) => s.stepId)).toEqual(['copy', 'backup']);
  });

  it('reads escalations and load/validation figures from the events', () => {
    expect(f.escalations).toEqual([{ at: at(14), type: 'escalation.sent', stepId: 'copy', level: 'reminder', reason: 'waiting 2m for approval', to: [USERS.dba1, USERS.dba2] }]);
    const copy = f.results.find((r) => r.stepId === 'copy');
    expect(copy).toMatchObject({ rows: 12000, quarantined: 50, tables: [{ table: 'Antrag', rows: 12000, seconds: 25 * MIN }] });
    expect(f.results.find((r) => r.stepId === 'validate')?.verdict).toBe('matched');
  });

  it('counts earlier failed attempts in a step\'s actual time, and attempts', () => {
    const retried: RunEvent[] = [
      ...events.slice(0, 5),
      { type: 'step.approved', at: at(5), stepId: 'backup', attempt: 1, by: USERS.dba2 },
      { type: 'step.queued', at: at(5), stepId: 'backup', attempt: 1, jobId: 'j1' },
      { type: 'step.failed', at: at(6), stepId: 'backup', attempt: 1, code: 'shell.exit_code', message: 'disk full' },
      { type: 'step.retried', at: at(8), stepId: 'backup', attempt: 2, by: USERS.lead },
      { type: 'step.approved', at: at(9), stepId: 'backup', attempt: 2, by: USERS.dba1 },
      { type: 'step.queued', at: at(9), stepId: 'backup', attempt: 2, jobId: 'j1b' },
      { type: 'step.succeeded', at: at(12), stepId: 'backup', attempt: 2, summary: 'ok' },
    ];
    const r = buildReport(fold(retried) as RunState, retried, { now: at(12) }).figures;
    const backup = r.steps.find((s) => s.stepId === 'backup');
    expect(backup).toMatchObject({ attempt: 2, actualSeconds: 9 * MIN, waitSeconds: MIN, executionSeconds: 3 * MIN });
    expect(r.approvals.filter((a) => a.stepId === 'backup').map((a) => a.waitedSeconds)).toEqual([2 * MIN, MIN]);
  });

  it('handles a run without escalations or results', () => {
    const plain = events.filter((e) => e.type !== 'escalation.sent');
    const r = buildReport(fold(plain) as RunState, plain, { now: at(60) });
    expect(r.figures.escalations).toEqual([]);
    expect(r.markdown).toMatch(/## Escalations\n\nNone\./);
  });
});

describe('the audit trail', () => {
  it('has every event, in order, with its time and Slack user', () => {
    expect(report.audit.events).toHaveLength(events.length);
    expect(report.audit.events.map((e) => e.type)).toEqual(events.map((e) => e.type));
    expect(report.audit.events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    const approval = report.audit.events.find((e) => e.type === 'step.approved');
    expect(approval).toMatchObject({ at: at(3), time: '2024-03-09T22:03:00.000Z', user: USERS.dba1 });
    expect(report.audit.events.find((e) => e.type === 'step.queued')?.user).toBeNull();
    expect(JSON.parse(JSON.stringify(report.audit)).events[0].event.type).toBe('run.started');
  });
});

describe('people by name (issue 16)', () => {
  const names = { [USERS.lead]: 'Sabine Krüger', [USERS.dba1]: 'Jürgen Lehmann' };
  const named = buildReport(state, events, { now: at(60), names });

  it('names people in the Markdown, and shows by id only whom no name was found for', () => {
    expect(named.markdown).toContain('started by Sabine Krüger at');
    expect(named.markdown).toContain('| Copy Antrag | Jürgen Lehmann | 2024-03-09 22:20:00 UTC | 8m |');
    expect(named.markdown).toContain(`- Team Size: 4 people (Sabine Krüger, Jürgen Lehmann, @${USERS.dba2}, @${USERS.owner})`);
    expect(named.markdown).toContain('| 2024-03-09 22:14:00 UTC | escalation.sent | copy | reminder | Jürgen Lehmann, @UDBA2 |');
    expect(named.markdown).not.toContain(`@${USERS.dba1}`);
  });

  it('names people quoted in messages and reasons (the core writes <@U…>, which a file does not render)', () => {
    const quoted: RunEvent[] = [...events.slice(0, 3), { type: 'run.paused', at: at(2), by: USERS.lead, reason: `<@${USERS.dba1}> is checking the source` }, ...events.slice(3)];
    const md = buildReport(reportState(quoted), quoted, { now: at(60), names }).markdown;
    expect(md).toContain('Jürgen Lehmann is checking the source');
    expect(md).not.toMatch(/<@U/);
  });

  it('gives the audit trail each event\'s person by name and every person the events name', () => {
    expect(named.audit.events.find((e) => e.type === 'step.approved')).toMatchObject({ user: USERS.dba1, userName: 'Jürgen Lehmann' });
    expect(named.audit.events.find((e) => e.user === USERS.dba2)?.userName).toBeNull();
    expect(named.audit.people).toEqual({ [USERS.lead]: 'Sabine Krüger', [USERS.dba1]: 'Jürgen Lehmann', [USERS.dba2]: null, [USERS.owner]: null });
  });

  it('finds everyone the events name, acting or told, once each, processes left out', () => {
    expect(peopleOf(events)).toEqual([USERS.lead, USERS.dba1, USERS.dba2, USERS.owner]);
    expect(peopleOf([{ type: 'step.retried', at: 1, stepId: 's', attempt: 2, by: 'worker' }])).toEqual([]);
    expect(nameOf({}, 'worker')).toBe('worker');
    expect(nameOf({}, 'U0KGVDBA2')).toBe('@U0KGVDBA2');
  });
});

describe('the Markdown report', () => {
  const md = report.markdown;
  it('has the summary, the phase and step tables and the approvals', () => {
    expect(md).toContain('# Cutover report — KGV cutover rehearsal');
    expect(md).toContain('- Duration: 52m actual vs 40m planned (+30 %)');
    expect(md).toContain('| 2. Data loading | 30m | 40m | +10m | 9m | 31m |');
    expect(md).toContain('| Copy Antrag | `copy` | succeeded | 20m | 33m | 8m | 25m | +13m | 1 |');
    expect(md).toContain('| Copy Antrag | @UDBA1 | 2024-03-09 22:20:00 UTC | 8m |');
    expect(md).toContain('| Copy Antrag | Antrag loaded | 12000 | 50 | — |');
    expect(md).toContain('| Antrag | 12000 | 25m |');
  });

  it('pre-fills seed 000\'s lessons-learned section with the figures', () => {
    const lessons = md.slice(md.indexOf('## Lessons learned'));
    expect(lessons).toContain('### What went well');
    expect(lessons).toContain('- 2 of 4 steps finished within their planned time.');
    expect(lessons).toContain('- Overrun: Copy Antrag took 33m against 20m planned (+13m).');
    expect(lessons).toContain('- Planned vs. Actual Duration: 40m vs 52m');
    expect(lessons).toContain('- Team Size: 4 people (@ULEAD, @UDBA1, @UDBA2, @UOWNER)');
    expect(lessons).toContain('- Where the time went: 14m waiting for approval (27 % of the run), 38m executing');
    expect(lessons).toContain('- Longest waits: Copy Antrag waited 8m for approval');
    expect(lessons).toContain('- Key Success Factors: [List factors]');
  });

  it('escapes pipes and line breaks in table cells', () => {
    const odd = reportEvents().map((e) => (e.type === 'step.succeeded' && e.stepId === 'backup' ? { ...e, summary: 'a | b\nc' } : e));
    expect(buildReport(fold(odd) as RunState, odd, { now: at(60) }).markdown).toContain('| Back up the source | a \\| b c |');
  });

  it('includes the comparison with an earlier run when given, and the summary says so', () => {
    const slower = reportEvents({ copyMinutes: 35, runId: 'run-2' });
    const current = fold(slower) as RunState;
    const comparison = compareRuns(current, state, { now: at(100), currentLabel: 'run 2', baselineLabel: 'run 1' });
    const md2 = buildReport(current, slower, { now: at(100), comparison }).markdown;
    expect(md2).toContain('## Comparison with run 1');
    expect(md2).toContain('copy 40 % slower than run 1');
    const summary = reportSummary(buildReport(current, slower, { now: at(100) }).figures, comparison);
    expect(summary).toContain('Took 1h 2m against 40m planned (+55 %)');
    expect(summary).toContain('⚠️ copy 40 % slower than run 1 (35m vs 25m)');
  });
});

describe('details and the timeline layout', () => {
  it.each([
    { details: { rowsLoaded: 5, rows: [{ a: 1 }] }, rows: 5 },
    { details: { rows: [{ a: 1 }] }, rows: null },
    { details: { totals: { rows: 7, quarantined: 1 } }, rows: 7 },
    { details: undefined, rows: null },
  ])('rows of $details → $rows', ({ details, rows }) => {
    expect(stepOutcome(details).rows).toBe(rows);
  });

  it('derives a table\'s seconds from rows and rows per second when the action gives no seconds (the load action)', () => {
    expect(stepOutcome({ rows: 1000, tables: [{ table: 'dbo.Antrag', rows: 1000, rowsPerSecond: 250 }] }).tables).toEqual([{ table: 'dbo.Antrag', rows: 1000, seconds: 4 }]);
  });

  it('lays the plan end to end and the actual bars where they happened', () => {
    const t = timelineOf(f, at(60));
    const copy = t.rows.find((r) => r.stepId === 'copy');
    expect(copy).toEqual({ stepId: 'copy', label: 'Copy Antrag', status: 'succeeded', planned: { start: 10 * MIN * 1000, end: 30 * MIN * 1000 }, wait: { start: 12 * MIN * 1000, end: 20 * MIN * 1000 }, execution: { start: 20 * MIN * 1000, end: 45 * MIN * 1000 } });
    expect(t.spanMs).toBe(52 * MIN * 1000);
    expect(t.startedAt).toBe(T0);
  });
});
