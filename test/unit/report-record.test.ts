/**
 * The report as the audit record (issue 16): every decision with who, when
 * and why; go-live instant and WAL position; backups with checksums; the
 * rollback and its steps; the outcome in words; and the slips it had
 * ("1 approvals by 1 people", "0s vs 0s (−76 %)").
 */
import { describe, expect, it } from 'vitest';
import { comparisonText, reportSummary } from '../../bot/render/report-summary.js';
import { reportFiles } from '../../bot/report/report-service.js';
import type { RunEvent } from '../../runbook/events.js';
import { loadRunbook } from '../../runbook/load.js';
import { buildReport } from '../../runbook/report/index.js';
import { outcomeInWords } from '../../runbook/report/record.js';
import { fold, type RunState } from '../../runbook/state.js';
import { meaningfulDelta } from '../../runbook/timing.js';
import type { Comparison } from '../../runbook/compare.js';
import { reportEvents, reportPlan } from '../support/report-fixture.js';
import { at, makeStep, USERS } from '../support/runbook-factory.js';

const SHA = 'ab'.repeat(32);
const plan = reportPlan({
  rollbackScenarios: [
    {
      id: 'post-go-live',
      title: 'Back to SQL Server',
      approve: 'lead',
      plannedSeconds: 2700,
      steps: [makeStep({ id: 'rb-flip', title: 'Point the application back', phaseId: 'rollback:post-go-live', action: 'shell', plannedSeconds: 300 })],
    },
  ],
});
plan.phases[1]?.steps.push(makeStep({ id: 'switch', title: 'Switch to PostgreSQL', phaseId: 'load', action: 'switch', plannedSeconds: 60 }));

/** The known night up to validation, then a backup with a go-live checkpoint, the switch, a pause, a cancelled and an approved rollback. */
function nightWithRollback(): RunEvent[] {
  const base = reportEvents({ plan }).filter((e) => e.type !== 'run.completed');
  const backup = base.find((e) => e.type === 'step.succeeded' && e.stepId === 'backup');
  if (backup?.type === 'step.succeeded') {
    backup.details = {
      backup: { id: 'backup', kind: 'postgres', file: '/backups/run-demo-1-backup.dump', bytes: 5_242_880, sha256: SHA, verified: true, tables: 12 },
      checkpoint: { lsn: '0/3000060', at: new Date(at(12)).toISOString() },
    };
  }
  return [
    ...base,
    { type: 'step.approval_requested', at: at(53), stepId: 'switch', attempt: 1 },
    { type: 'step.approved', at: at(54), stepId: 'switch', attempt: 1, by: USERS.lead },
    { type: 'step.queued', at: at(54), stepId: 'switch', attempt: 1, jobId: 'j4' },
    { type: 'step.started', at: at(54), stepId: 'switch', attempt: 1, resumed: false },
    { type: 'step.succeeded', at: at(55), stepId: 'switch', attempt: 1, summary: 'switched', details: { goLiveAt: new Date(at(55)).toISOString() } },
    { type: 'run.paused', at: at(56), by: USERS.owner, reason: 'error rate 4 % after go-live' },
    { type: 'rollback.requested', at: at(57), scenario: 'post-go-live', by: USERS.owner, reason: 'orders fail' },
    { type: 'rollback.cancelled', at: at(58), scenario: 'post-go-live', by: USERS.lead, reason: 'a cache, not the database' },
    { type: 'rollback.requested', at: at(60), scenario: 'post-go-live', by: USERS.owner, reason: 'orders still fail' },
    { type: 'rollback.approved', at: at(61), scenario: 'post-go-live', by: USERS.lead },
    { type: 'step.approval_requested', at: at(61), stepId: 'rb-flip', attempt: 1 },
    { type: 'step.approved', at: at(62), stepId: 'rb-flip', attempt: 1, by: USERS.dba1 },
    { type: 'step.queued', at: at(62), stepId: 'rb-flip', attempt: 1, jobId: 'j5' },
    { type: 'step.started', at: at(62), stepId: 'rb-flip', attempt: 1, resumed: false },
    { type: 'step.succeeded', at: at(64), stepId: 'rb-flip', attempt: 1, summary: 'application points at SQL Server again' },
    { type: 'run.rolled_back', at: at(64), scenario: 'post-go-live', reason: 'orders still fail' },
  ];
}

const names = { [USERS.lead]: 'Sabine Krüger', [USERS.owner]: 'Dr. Ingrid Hoffmann', [USERS.dba1]: 'Jürgen Lehmann', [USERS.dba2]: 'Mehmet Yilmaz' };

describe('the report as the audit record', () => {
  const events = nightWithRollback();
  const state = fold(events) as RunState;
  const report = buildReport(state, events, { now: at(70), names });
  const md = report.markdown;

  it('says the outcome in words, with the rollback and its reason', () => {
    expect(state.status).toBe('rolled_back');
    expect(md).toContain('- Outcome: **rolled back after go-live** — Back to SQL Server, requested by Dr. Ingrid Hoffmann: orders still fail');
    expect(md).not.toContain('rolled_back**');
  });

  it('records the go-live instant and the WAL position', () => {
    expect(md).toContain('- Go-live: 2024-03-09 22:55:00 UTC, WAL position 0/3000060');
  });

  it('lists every decision with who, when and why, the cancelled rollback included', () => {
    const section = md.slice(md.indexOf('## Decisions'), md.indexOf('## Backups'));
    for (const row of [
      '| 2024-03-09 22:00:00 UTC | Sabine Krüger | started the run | — | — |',
      '| 2024-03-09 22:13:00 UTC | Dr. Ingrid Hoffmann | held | Copy Antrag | users still logged in |',
      '| 2024-03-09 22:15:00 UTC | Dr. Ingrid Hoffmann | released the hold | Copy Antrag | — |',
      '| 2024-03-09 22:56:00 UTC | Dr. Ingrid Hoffmann | paused the run | — | error rate 4 % after go-live |',
      '| 2024-03-09 22:57:00 UTC | Dr. Ingrid Hoffmann | requested a rollback | rollback Back to SQL Server | orders fail |',
      '| 2024-03-09 22:58:00 UTC | Sabine Krüger | cancelled the rollback request | rollback Back to SQL Server | a cache, not the database |',
      '| 2024-03-09 23:01:00 UTC | Sabine Krüger | approved the rollback | rollback Back to SQL Server | — |',
      '| 2024-03-09 23:02:00 UTC | Jürgen Lehmann | approved | Point the application back | — |',
    ]) expect(section).toContain(row);
    expect(report.figures.decisions.filter((d) => d.what === 'approved')).toHaveLength(6);
  });

  it('lists the backups with their checksums', () => {
    expect(md).toContain(`| \`backup\` | postgres | \`/backups/run-demo-1-backup.dump\` | 5.0 MB | \`${SHA}\` | yes | 2024-03-09 22:12:00 UTC |`);
  });

  it('shows the rollback: request, approval and its steps', () => {
    const section = md.slice(md.indexOf('## Rollback: Back to SQL Server'));
    expect(section).toContain('- Requested by Dr. Ingrid Hoffmann at 2024-03-09 23:00:00 UTC: orders still fail');
    expect(section).toContain('- Approved: by Sabine Krüger at 2024-03-09 23:01:00 UTC');
    expect(section).toContain('| Point the application back | succeeded | 2024-03-09 23:02:00 UTC | 2024-03-09 23:04:00 UTC | application points at SQL Server again |');
  });

  it('counts in words that agree with the number', () => {
    const one = reportEvents().filter((e) => !(e.type === 'step.approved' && e.stepId !== 'ready'));
    const f = buildReport(fold(one) as RunState, one, { now: at(60) }).figures;
    expect(reportSummary(f, null)).toContain('1 approval by 1 person · 1 escalation');
    expect(reportSummary(report.figures, null)).toContain('6 approvals by 3 people');
    expect(reportSummary(report.figures, null)).toContain('↩️ rolled back after go-live');
  });
});

describe('the runbook\'s time zone in files (issue 16: one time convention)', () => {
  it('writes every time of the report in the runbook\'s zone, and says which', () => {
    const zoned = reportPlan({ timeZone: 'Europe/Berlin' });
    const events = reportEvents({ plan: zoned });
    const md = buildReport(fold(events) as RunState, events, { now: at(60) }).markdown;
    expect(md).toContain('started by @ULEAD at 2024-03-09 23:00:00 CET');
    expect(md).toContain('times in Europe/Berlin, the runbook\'s time zone');
    expect(md).toContain('| Copy Antrag | @UDBA1 | 2024-03-09 23:20:00 CET | 8m |');
    expect(md).not.toMatch(/\d\d:\d\d:\d\d UTC|\dT\d\d:|Z\b/);
  });

  it('refuses a time zone that does not exist, at load', () => {
    const text = `title: T\ntimezone: Europe/Atlantis\nroles: { lead: { title: Lead, members: [U1] } }\nphases: [{ id: p, title: P, steps: [{ id: s, title: S, approve: lead, action: manual }] }]\n`;
    const result = loadRunbook({ name: 't', file: 't.yaml', text, env: {} });
    expect(result.ok).toBe(false);
    expect(JSON.stringify(result.ok ? null : result.problems)).toContain('expected an IANA time zone such as Europe/Berlin or UTC');
  });
});

describe('outcome words and honest deltas', () => {
  it('never shows a state name', () => {
    expect(outcomeInWords('rolled_back', false, false)).toBe('rolled back before go-live');
    expect(outcomeInWords('aborted', true, false)).toBe('aborted after go-live');
    expect(outcomeInWords('completed', false, true)).toBe('completed (dry run: SQL rolled back)');
  });

  it('gives no percentage where the durations read the same or there is no plan', () => {
    expect(meaningfulDelta(0.2, 0.4)).toBeNull();
    expect(meaningfulDelta(120, 0)).toBeNull();
    expect(meaningfulDelta(150, 120)).toBe('+25 %');
    const c = {
      baseline: { label: 'run 1', runId: 'r1', actualSeconds: 1, status: 'completed' },
      current: { label: 'run 2', runId: 'r2', actualSeconds: 1, status: 'completed' },
      steps: [{ title: 'Create', current: { executionSeconds: 0.1 }, baseline: { executionSeconds: 0.4 }, executionChangePct: -76 }],
      regressions: [],
    } as unknown as Comparison;
    expect(comparisonText(c)).toContain('• Create: 0s vs 0s\n');
  });

  it('reports no reconciliation verdict for a run that ended before any validation ran', () => {
    const gated = reportPlan();
    const last = gated.phases[1]?.steps[1];
    if (last) Object.assign(last, { action: 'validate.counts', gate: null });
    const events = reportEvents({ plan: gated }).filter((e) => !('stepId' in e && e.stepId === 'validate') && e.type !== 'run.completed');
    events.push({ type: 'run.aborted', at: at(50), by: USERS.lead, reason: 'window closed' });
    const files = reportFiles(fold(events) as RunState, events, at(50), null);
    expect(files.summary).not.toContain('🔴');
    expect(files.summary).toContain('Reconciliation: no validation ran — the run ended before it.');
    expect(files.summary).toContain('aborted before go-live');
    expect(files.reconciliation).toBeNull();
  });

  it('says nothing of reconciliation for a runbook without validation steps, even one with a gate', () => {
    const plan = reportPlan();
    const last = plan.phases[1]?.steps[1];
    if (last) Object.assign(last, { gate: 'validation' });
    const events = reportEvents({ plan });
    const files = reportFiles(fold(events) as RunState, events, at(50), null);
    expect(files.summary).not.toMatch(/Reconciliation/i);
    expect(files.markdown).not.toMatch(/Reconciliation/i);
    expect(files.reconciliation).toBeNull();
  });
});
