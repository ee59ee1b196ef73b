import { describe, expect, it } from 'vitest';
import { renderEscalation } from '../../bot/render/escalation-blocks.js';
import { renderRoot } from '../../bot/render/run-blocks.js';
import { renderStep } from '../../bot/render/step-blocks.js';
import { decide, type Decision } from '../../runbook/decide.js';
import { recipients, type Contact, type DueEscalation, type EscalationPolicy } from '../../runbook/escalation.js';
import { dueHealthNotices } from '../../runbook/health-notices.js';
import type { HealthSample } from '../../runbook/health-sample.js';
import { findPlanStep } from '../../runbook/plan.js';
import { evolve, type RunState } from '../../runbook/state.js';
import { blockedFor, database, sampleOf } from '../support/health-fixture.js';
import { at, cmd, deepFreeze, planOfSteps, startCommand, stateAfter, USERS } from '../support/runbook-factory.js';

const POLICY: EscalationPolicy = { remindAfterSeconds: 600, escalateAfterSeconds: 1200, nextTier: ['lead'], runningFactor: 1.5, incidentChannel: 'C0INCIDENT', sweepSeconds: 30, goNoGoRole: 'lead', repeatEverySeconds: 0, tiers: [], approvalTimeoutSeconds: null, onTimeout: 'escalate', page: [] };
const CONTACTS: Contact[] = [{ role: 'dba', name: 'On-call DBA', slack: 'UONCALL', phone: null, email: null }];

/** A run whose "load" step (action load, approved by the DBAs) is running; "check" follows it. */
function loading(): RunState {
  const plan = planOfSteps([
    { id: 'load', title: 'Load snapshot', action: 'load' },
    { id: 'check', title: 'Check by hand', action: 'manual' },
  ]);
  return deepFreeze(stateAfter([startCommand({ plan }), cmd.approve('load', USERS.dba1), cmd.started('load')]));
}

const apply = (state: RunState, d: Decision): RunState => {
  if (!d.ok) throw new Error(`${d.code}: ${d.message}`);
  return d.events.reduce<RunState>((s, e) => evolve(s, e) as RunState, state);
};
const health = (state: RunState, sample: HealthSample, minute: number): RunState =>
  apply(state, decide(state, { type: 'report.health', at: at(minute), stepId: 'load', attempt: 1, sample }));
const escalate = (state: RunState, due: Pick<DueEscalation, 'level' | 'reason' | 'episode'> & Partial<DueEscalation>, minute: number): Decision =>
  decide(state, { type: 'escalate', at: at(minute), stepId: 'load', attempt: 1, level: due.level, reason: due.reason, to: due.mention ? recipients(due as DueEscalation) : [], ...(due.episode !== undefined ? { episode: due.episode } : {}) });
/** Records what is due, as the web process does, and returns the new state. */
const send = (state: RunState, minute: number): RunState => dueHealthNotices(state, POLICY, CONTACTS).reduce((s, due) => apply(s, escalate(s, due, minute)), state);
const levels = (state: RunState): string[] => dueHealthNotices(state, POLICY, CONTACTS).map((d) => `${d.level}#${d.episode}`);

const blocked = (seconds = 90) => sampleOf([blockedFor(seconds)]);
const calm = () => sampleOf([database()]);

describe('health alerts through the escalation path', () => {
  it('a blocking episode is alerted once (role contact and next tier, DM and incident channel), and cleared once', () => {
    let s = health(loading(), calm(), 3);
    expect(levels(s)).toEqual([]);
    s = health(s, blocked(61), 4);
    const [alert] = dueHealthNotices(s, POLICY, CONTACTS);
    expect(alert).toMatchObject({ level: 'blocked', episode: 1, mention: ['UONCALL', USERS.lead, USERS.lead2], dm: ['UONCALL', USERS.lead, USERS.lead2], incidentChannel: 'C0INCIDENT' });
    expect(alert?.reason).toMatch(/^"Load snapshot" — target: pid 4711/);
    s = send(s, 4);
    // Still blocked, several samples later: nothing new is due, and a second record of the same episode is refused.
    s = health(health(s, blocked(120), 5), blocked(180), 6);
    expect(levels(s)).toEqual([]);
    expect(escalate(s, { level: 'blocked', reason: 'again', episode: 1 }, 6)).toMatchObject({ ok: false, code: 'escalation.duplicate' });

    s = health(s, calm(), 7);
    const [cleared] = dueHealthNotices(s, POLICY, CONTACTS);
    expect(cleared).toMatchObject({ level: 'unblocked', episode: 1, mention: [], dm: ['UONCALL', USERS.lead, USERS.lead2], incidentChannel: 'C0INCIDENT' });
    expect(cleared?.reason).toBe('"Load snapshot": the wait on target cleared (over threshold for 3m, longest wait 3m).');
    s = send(s, 7);
    expect(levels(health(s, calm(), 8))).toEqual([]);
    expect(s.steps['load']?.escalations.map((e) => `${e.level}#${e.episode}`)).toEqual(['blocked#1', 'unblocked#1']);
  });

  it('a new block after the clear is a new episode with its own alert', () => {
    let s = send(health(loading(), blocked(), 3), 3);
    s = send(health(s, calm(), 4), 4);
    s = health(s, blocked(), 5);
    expect(levels(s)).toEqual(['blocked#2']);
  });

  it('the core refuses an alert for an episode that cleared, and a cleared notice for one never alerted', () => {
    let s = health(loading(), blocked(), 3);
    const due = dueHealthNotices(s, POLICY, CONTACTS)[0];
    if (!due) throw new Error('nothing due');
    s = health(s, calm(), 4);
    // The block cleared between evaluation and recording (another web process was faster to see it).
    expect(escalate(s, due, 4)).toMatchObject({ ok: false, code: 'escalation.cleared' });
    expect(levels(s)).toEqual([]);
    expect(escalate(s, { level: 'unblocked', reason: 'cleared', episode: 1 }, 4)).toMatchObject({ ok: false, code: 'escalation.cleared' });
  });

  it('a step that finishes while blocked owes the cleared notice, also when the run ended with it', () => {
    let s = send(health(loading(), blocked(), 3), 3);
    s = apply(s, decide(s, cmd.succeeded('load', { at: at(5) })));
    expect(s.steps['load']?.health?.episodes[0]).toMatchObject({ clearedAt: at(5), clearedBy: 'step-ended' });
    expect(levels(s)).toEqual(['unblocked#1']);
    expect(dueHealthNotices(s, POLICY, CONTACTS)[0]?.reason).toBe('"Load snapshot" got past its wait on target and finished (over threshold for 2m, longest wait 1m 30s).');

    // Same, but the blocked step was the last one: the run is completed, and the notice is still taken.
    let last = stateAfter([startCommand({ plan: planOfSteps([{ id: 'load', title: 'Load snapshot', action: 'load' }]) }), cmd.approve('load', USERS.dba1), cmd.started('load')]);
    last = send(health(last, blocked(), 3), 3);
    last = apply(last, decide(last, cmd.succeeded('load', { at: at(5) })));
    expect(last.status).toBe('completed');
    expect(levels(last)).toEqual(['unblocked#1']);
    last = send(last, 6);
    expect(last.steps['load']?.escalations.map((e) => e.level)).toEqual(['blocked', 'unblocked']);
    expect(escalate(last, { level: 'blocked', reason: 'late', episode: 2 }, 7)).toMatchObject({ ok: false, code: 'run.finished' });
  });

  it('health reports are taken only while the step runs, and a retry starts a fresh watch', () => {
    const s = apply(loading(), decide(loading(), cmd.failed('load', { at: at(4) })));
    expect(decide(s, { type: 'report.health', at: at(5), stepId: 'load', attempt: 1, sample: blocked() })).toMatchObject({ ok: false, code: 'step.not_running' });
    const retried = apply(s, decide(s, cmd.retry('load', USERS.dba2, { at: at(6) })));
    expect(retried.steps['load']?.health).toBeNull();
  });
});

describe('the step message and the alert in Slack', () => {
  it('a running step shows the latest sample per database; a finished one only its episodes', () => {
    let s = health(loading(), sampleOf([blockedFor(75, { disk: [{ path: '/var/lib/postgresql/15/main', tablespaces: ['pg_default'], freeBytes: 40 * 2 ** 30, totalBytes: 100 * 2 ** 30, tablespaceBytes: 3 * 2 ** 30 }] }), { ...database({ connection: 'source', kind: 'mssql' }), error: 'login failed for user' }], at(4)), 4);
    const planStep = findPlanStep(s.plan, 'load');
    if (!planStep) throw new Error('no step');
    const text = JSON.stringify(renderStep(s, planStep, s.steps['load'] as never, at(4)).blocks);
    expect(text).toContain('Database health');
    expect(text).toContain('*target* (PostgreSQL): 4 sessions, 2 active, 1 idle in transaction · ⛔ 1 waiting — longest pid 4711 (cutover) 1m 15s on Lock:relation ← pid 4690 (psql · bob@10.0.0.5, idle in transaction, transaction 5m)');
    expect(text).toContain('disk 40 % free (40.0 GiB of 100 GiB, pg_default 3.0 GiB)');
    expect(text).toContain('*source* (SQL Server): ⚠️ not sampled — login failed for user');
    expect(text).toContain('waits over threshold since');
    expect(JSON.stringify(renderRoot(s, at(4)).blocks)).toContain('Load snapshot — _running_ · approval took 1m · running for 2m · ⛔ held up by a database wait since <!date^');

    s = apply(s, decide(s, cmd.succeeded('load', { at: at(6) })));
    const done = JSON.stringify(renderStep(s, planStep, s.steps['load'] as never, at(6)).blocks);
    expect(done).not.toContain('Database health');
    expect(done).toContain('1 wait episode over threshold');
  });

  it('the alert and the cleared notice are headed so a reader sees which is which', () => {
    const s = health(loading(), blocked(), 3);
    const due = dueHealthNotices(s, POLICY, CONTACTS)[0];
    const planStep = findPlanStep(s.plan, 'load');
    if (!due || !planStep) throw new Error('nothing due');
    const rendered = renderEscalation(s, planStep, due);
    expect(rendered.text).toMatch(/^⛔ Blocked: "Load snapshot" — target: pid 4711/);
    expect(rendered.text).toContain('<@UONCALL>');
    expect(JSON.stringify(rendered.blocks)).toContain('blocked · episode 1');
    const cleared = renderEscalation(s, planStep, { ...due, level: 'unblocked', reason: 'cleared', mention: [] });
    expect(cleared.text).toBe('✅ Block cleared: cleared');
  });
});
