import { describe, expect, it } from 'vitest';
import { nextRound } from '../../runbook/alert-rounds.js';
import { decide, type Command, type Decision } from '../../runbook/decide.js';
import { rollbackResolveOwed, stepResolveOwed } from '../../runbook/decide-alerts.js';
import { dueEscalations, dueTimeouts, recipients, type Contact, type DueEscalation, type EscalationPolicy } from '../../runbook/escalation.js';
import { loadRunbook } from '../../runbook/load.js';
import type { Plan } from '../../runbook/plan.js';
import { dueRollbackAlerts, type DueRollbackAlert } from '../../runbook/rollback-alerts.js';
import { evolve, type RunState } from '../../runbook/state.js';
import { actor, cmd, deepFreeze, makePlan, makeStep, planOfSteps, startCommand, stateAfter, T0, USERS } from '../support/runbook-factory.js';

const { lead, lead2, dba1, dba2, owner } = USERS;
const sec = (s: number): number => T0 + s * 1000;
const MIN = 60;

/** Repeats every 10 minutes; the owner joins once an alert has gone 30 minutes unacknowledged. */
const POLICY: EscalationPolicy = {
  remindAfterSeconds: 10 * MIN,
  escalateAfterSeconds: 20 * MIN,
  nextTier: ['lead'],
  runningFactor: 1.5,
  incidentChannel: 'C0INCIDENT',
  sweepSeconds: 30,
  goNoGoRole: 'lead',
  repeatEverySeconds: 10 * MIN,
  tiers: [{ afterSeconds: 30 * MIN, roles: ['owner'] }],
  approvalTimeoutSeconds: null,
  onTimeout: 'escalate',
  page: [],
};
const CONTACTS: Contact[] = [{ role: 'dba', name: 'On-call DBA', slack: 'UDBAONCALL', phone: '+49 1', email: null }];

function apply(state: RunState, d: Decision): RunState {
  if (!d.ok) throw new Error(`${d.code}: ${d.message}`);
  return d.events.reduce<RunState>((s, e) => evolve(s, e) as RunState, state);
}
const code = (d: Decision): string => (d.ok ? 'accepted' : d.code);
const sendStep = (state: RunState, due: DueEscalation, at: number): RunState =>
  apply(state, decide(state, { type: 'escalate', at, stepId: due.stepId, attempt: due.attempt, level: due.level, reason: due.reason, to: recipients(due), ...(due.round ? { round: due.round } : {}) }));
const sendRollback = (state: RunState, due: DueRollbackAlert, at: number): RunState =>
  apply(state, decide(state, { type: 'rollback.escalate', at, requestedAt: due.requestedAt, level: due.level, reason: due.reason, to: [...due.mention, ...due.dm], ...(due.round ? { round: due.round } : {}) }));
const ack = (by: string, extra: Partial<Extract<Command, { type: 'alert.acknowledge' }>>): Command => ({ type: 'alert.acknowledge', at: sec(0), actor: actor(by), level: 'page', ...extra });

describe('nextRound: an alert repeats until someone acknowledges it', () => {
  const policy = { repeatEverySeconds: 600, tiers: [{ afterSeconds: 1800, roles: ['owner'] }] };
  it('is owed repeat_every after the last round, at once when a tier is reached, never once acknowledged', () => {
    expect(nextRound([], false, policy, sec(9999))).toBeNull();
    expect(nextRound([{ at: sec(0) }], false, policy, sec(599))).toBeNull();
    expect(nextRound([{ at: sec(0) }], false, policy, sec(600))).toEqual({ round: 1, tier: 0, sinceFirstSeconds: 600 });
    expect(nextRound([{ at: sec(0) }], true, policy, sec(6000))).toBeNull();
    // Rounds at 0, 600, 1200; the owner's tier is due at 1800 whatever the repeat says.
    const three = [{ at: sec(0) }, { at: sec(600) }, { at: sec(1500) }];
    expect(nextRound(three, false, policy, sec(1799))).toBeNull();
    expect(nextRound(three, false, policy, sec(1800))).toEqual({ round: 3, tier: 1, sinceFirstSeconds: 1800 });
    expect(nextRound([{ at: sec(0) }], false, { repeatEverySeconds: 0, tiers: [] }, sec(99_999))).toBeNull();
  });
});

/** "load" (sql, dba) failed at T0+60 s in a run started by the lead. */
function failed(): RunState {
  const plan = planOfSteps([{ id: 'load', title: 'Load applicants', action: 'sql' }, { id: 'check', title: 'Check', action: 'manual' }]);
  return deepFreeze(stateAfter([startCommand({ plan }), cmd.approve('load', dba1, { at: sec(1) }), cmd.started('load', { at: sec(2) }), cmd.failed('load', { at: sec(60) })]));
}

describe('a failed step pages, and pages again, until someone presses Acknowledge (issue 13, finding 7)', () => {
  it('repeats to the same people every repeat_every, and adds the next tier once it has gone unacknowledged that long', () => {
    let state = failed();
    const first = dueEscalations(state, POLICY, CONTACTS, sec(60))[0] as DueEscalation;
    expect(first).toMatchObject({ level: 'page', stepId: 'load', dm: ['UDBAONCALL', lead, lead2] });
    expect(first.round).toBeUndefined();
    state = sendStep(state, first, sec(60));
    expect(dueEscalations(state, POLICY, CONTACTS, sec(659))).toEqual([]);
    const second = dueEscalations(state, POLICY, CONTACTS, sec(660))[0] as DueEscalation;
    expect(second).toMatchObject({ level: 'page', round: 1, dm: ['UDBAONCALL', lead, lead2] });
    expect(second.reason).toBe('"Load applicants" failed: relation does not exist Still unacknowledged after 10m (repeat 1).');
    state = sendStep(state, second, sec(660));
    state = sendStep(state, dueEscalations(state, POLICY, CONTACTS, sec(1260))[0] as DueEscalation, sec(1260));
    // 30 minutes after the first page the owner's tier joins, at once.
    const tier = dueEscalations(state, POLICY, CONTACTS, sec(1860))[0] as DueEscalation;
    expect(tier).toMatchObject({ round: 3, dm: ['UDBAONCALL', lead, lead2, owner] });
    // Two sweeps racing on the same round: one wins.
    const after = sendStep(state, tier, sec(1860));
    expect(code(decide(after, { type: 'escalate', at: sec(1861), stepId: 'load', attempt: 1, level: 'page', reason: 'x', to: [], round: 3 }))).toBe('escalation.duplicate');
  });

  it('Acknowledge records who and when, stops the repeats, and is refused a second time saying whose it was', () => {
    let state = sendStep(failed(), dueEscalations(failed(), POLICY, CONTACTS, sec(60))[0] as DueEscalation, sec(60));
    // Someone with no role and not reached may not acknowledge; a reached contact may.
    expect(code(decide(state, ack('UNOBODY', { stepId: 'load', attempt: 1 })))).toBe('role.not_member');
    state = apply(state, decide(state, ack('UDBAONCALL', { at: sec(300), stepId: 'load', attempt: 1 })));
    expect(state.steps['load']?.acks).toEqual([{ attempt: 1, level: 'page', by: 'UDBAONCALL', at: sec(300) }]);
    expect(state.story?.at(-1)).toEqual({ kind: 'acknowledged', at: sec(300), by: 'UDBAONCALL', level: 'page', stepId: 'load' });
    expect(dueEscalations(state, POLICY, CONTACTS, sec(9999))).toEqual([]);
    expect(code(decide(state, { type: 'escalate', at: sec(700), stepId: 'load', attempt: 1, level: 'page', reason: 'x', to: [], round: 1 }))).toBe('escalation.acknowledged');
    const again = decide(state, ack(lead, { stepId: 'load', attempt: 1 }));
    expect(again).toEqual({ ok: false, code: 'escalation.already_acknowledged', message: '<@UDBAONCALL> already acknowledged this page at 22:05 UTC.' });
    // A reminder is said once: there is nothing to acknowledge.
    expect(code(decide(state, ack(lead, { stepId: 'load', attempt: 1, level: 'reminder' })))).toBe('escalation.not_acknowledgeable');
  });

  it('a retry clears the page: the pager is owed a resolve, once, and a new failure pages afresh', () => {
    let state = sendStep(failed(), dueEscalations(failed(), POLICY, CONTACTS, sec(60))[0] as DueEscalation, sec(60));
    expect(stepResolveOwed(state, state.steps['load']!)).toBe(false);
    state = apply(state, decide(state, cmd.retry('load', dba2, { at: sec(120) })));
    expect(stepResolveOwed(state, state.steps['load']!)).toBe(true);
    state = apply(state, decide(state, { type: 'alert.resolve', at: sec(121), stepId: 'load' }));
    expect(stepResolveOwed(state, state.steps['load']!)).toBe(false);
    expect(code(decide(state, { type: 'alert.resolve', at: sec(122), stepId: 'load' }))).toBe('escalation.not_resolvable');
  });

  it('resolves on a finished run too: an abort clears every alert', () => {
    let state = sendStep(failed(), dueEscalations(failed(), POLICY, CONTACTS, sec(60))[0] as DueEscalation, sec(60));
    state = apply(state, decide(state, cmd.abort(lead, 'giving up', { at: sec(200) })));
    expect(code(decide(state, { type: 'alert.resolve', at: sec(201), stepId: 'load' }))).toBe('accepted');
  });
});

/** Rollback authority: the lead role; its steps are the DBAs'. Started by the lead, then a rollback requested by lead2. */
function rollbackPlan(planned: number | null = 10 * MIN): Plan {
  return makePlan({
    rollbackScenarios: [
      {
        id: 'pre-go-live',
        title: 'Pre-go-live rollback',
        approve: 'lead',
        plannedSeconds: planned,
        steps: [makeStep({ id: 'rb1', title: 'Truncate', phaseId: 'rollback:pre-go-live', approve: 'dba', action: 'rollback.truncate_loaded' })],
      },
    ],
  });
}
const requested = (): RunState =>
  deepFreeze(stateAfter([startCommand({ plan: rollbackPlan() }), { type: 'rollback.request', at: sec(0), actor: actor(lead2), scenario: 'pre-go-live', reason: 'counts differ' }]));

describe('the rollback pages like a failed step (issue 13, finding 2)', () => {
  it('a waiting rollback approval is reminded to who may approve (not the requester), escalated, repeated, and acknowledged', () => {
    let state = requested();
    expect(dueRollbackAlerts(state, POLICY, CONTACTS, sec(599))).toEqual([]);
    const reminder = dueRollbackAlerts(state, POLICY, CONTACTS, sec(600))[0] as DueRollbackAlert;
    expect(reminder).toMatchObject({ level: 'reminder', mention: [lead], dm: [] });
    state = sendRollback(state, reminder, sec(600));
    const escalation = dueRollbackAlerts(state, POLICY, CONTACTS, sec(1200))[0] as DueRollbackAlert;
    expect(escalation).toMatchObject({ level: 'escalation', incidentChannel: 'C0INCIDENT' });
    expect(escalation.dm).toContain(lead);
    state = sendRollback(state, escalation, sec(1200));
    expect(dueRollbackAlerts(state, POLICY, CONTACTS, sec(1800))[0]).toMatchObject({ level: 'escalation', round: 1 });
    state = apply(state, decide(state, ack(dba1, { at: sec(1300), level: 'escalation', requestedAt: sec(0) })));
    expect(state.rollbackAlerts?.acks).toEqual([{ level: 'escalation', by: dba1, at: sec(1300) }]);
    expect(dueRollbackAlerts(state, POLICY, CONTACTS, sec(5000))).toEqual([]);
    // The approval clears it: the pager is owed a resolve.
    expect(rollbackResolveOwed(state)).toBe(false);
    state = apply(state, decide(state, { type: 'rollback.approve', at: sec(1400), actor: actor(lead) }));
    expect(rollbackResolveOwed(state)).toBe(true);
  });

  it('a rollback step that fails pages at once, though the run is paused, and its waiting approval is chased', () => {
    let state = apply(requested(), decide(requested(), { type: 'rollback.approve', at: sec(10), actor: actor(lead) }));
    expect(state.status).toBe('paused');
    const waiting = dueEscalations(state, POLICY, CONTACTS, sec(10 + 10 * MIN));
    expect(waiting.map((d) => `${d.stepId}:${d.level}`)).toEqual(['rb1:reminder']);
    state = stateAfter([cmd.approve('rb1', dba1, { at: sec(20) }), cmd.started('rb1', { at: sec(21) }), cmd.failed('rb1', { at: sec(30), message: 'permission denied for table antrag' })], state);
    const [page] = dueEscalations(state, POLICY, CONTACTS, sec(30));
    expect(page).toMatchObject({ stepId: 'rb1', level: 'page' });
    expect(page?.reason).toBe('"Truncate" (a rollback step) failed: permission denied for table antrag');
  });

  it('an approved rollback running past its plan × factor is stalled, and repeats until acknowledged', () => {
    let state = apply(requested(), decide(requested(), { type: 'rollback.approve', at: sec(10), actor: actor(lead) }));
    expect(dueRollbackAlerts(state, POLICY, CONTACTS, sec(10 + 15 * MIN))).toEqual([]);
    const stalled = dueRollbackAlerts(state, POLICY, CONTACTS, sec(11 + 15 * MIN))[0] as DueRollbackAlert;
    expect(stalled.level).toBe('stalled');
    expect(stalled.reason).toContain('planned 10m (alert at ×1.5)');
    expect(stalled.dm).toEqual(expect.arrayContaining([lead2, lead]));
    state = sendRollback(state, stalled, sec(11 + 15 * MIN));
    expect(dueRollbackAlerts(state, POLICY, CONTACTS, sec(11 + 25 * MIN))[0]).toMatchObject({ level: 'stalled', round: 1 });
    // The core refuses a stall for a request no longer open.
    const cancelledRun = stateAfter([cmd.abort(lead, 'done', { at: sec(2000) })], state);
    expect(dueRollbackAlerts(cancelledRun, POLICY, CONTACTS, sec(9999))).toEqual([]);
  });
});

describe('approval timeouts: on_timeout escalate | hold | abort', () => {
  const waiting = (): RunState => deepFreeze(stateAfter([startCommand({ actor: actor(lead2) })]));
  const timed = (onTimeout: EscalationPolicy['onTimeout']): EscalationPolicy => ({ ...POLICY, approvalTimeoutSeconds: 60 * MIN, onTimeout });

  it('escalate: a timeout alert to every tier at once, repeating until acknowledged', () => {
    const due = dueEscalations(waiting(), timed('escalate'), CONTACTS, sec(60 * MIN))[0] as DueEscalation;
    expect(due).toMatchObject({ level: 'timeout', dm: ['UDBAONCALL', lead, lead2, owner] });
    const state = sendStep(waiting(), due, sec(60 * MIN));
    expect(dueEscalations(state, timed('escalate'), CONTACTS, sec(70 * MIN))[0]).toMatchObject({ level: 'timeout', round: 1 });
    expect(dueTimeouts(waiting(), timed('escalate'), sec(99 * MIN))).toEqual([]);
  });

  it('hold: the step is held by the timer with the reason; abort: the run is aborted; neither before its time', () => {
    const state = waiting();
    const [hold] = dueTimeouts(state, timed('hold'), sec(60 * MIN));
    expect(hold).toEqual({ stepId: 'ready', attempt: 1, timeoutSeconds: 3600, outcome: 'hold' });
    expect(code(decide(state, { type: 'approval.timeout', at: sec(59 * MIN), ...hold! }))).toBe('timeout.not_yet');
    const held = apply(state, decide(state, { type: 'approval.timeout', at: sec(60 * MIN), ...hold! }));
    expect(held.steps['ready']?.hold).toEqual({ by: 'cutover', at: sec(60 * MIN), reason: 'approval timed out: "Team ready" waited 1h (approval_timeout 1h, on_timeout: hold)' });
    const aborted = apply(state, decide(state, { type: 'approval.timeout', at: sec(60 * MIN), ...hold!, outcome: 'abort' }));
    expect(aborted.status).toBe('aborted');
    expect(aborted.story?.at(-1)).toMatchObject({ kind: 'aborted', by: 'cutover' });
    // Paused on purpose: no timeout.
    expect(dueTimeouts(stateAfter([cmd.pause(lead, 'dinner', { at: sec(5) })], state), timed('abort'), sec(99 * MIN))).toEqual([]);
  });

  it('a rollback step is never held or aborted by a timer: its timeout escalates', () => {
    const approved = apply(requested(), decide(requested(), { type: 'rollback.approve', at: sec(10), actor: actor(lead) }));
    expect(dueTimeouts(approved, timed('abort'), sec(99 * MIN))).toEqual([]);
    expect(code(decide(approved, { type: 'approval.timeout', at: sec(99 * MIN), stepId: 'rb1', attempt: 1, timeoutSeconds: 3600, outcome: 'abort' }))).toBe('timeout.rollback_step');
    expect(dueEscalations(approved, timed('abort'), CONTACTS, sec(99 * MIN))[0]).toMatchObject({ stepId: 'rb1', level: 'timeout' });
  });
});

describe('the escalation policy in the runbook file', () => {
  const load = (escalation: string) =>
    loadRunbook({
      name: 'e',
      file: 'e.yaml',
      text: `title: E\nroles: { lead: { title: Lead, members: [U1, U2] } }\nescalation: ${escalation}\nphases: [{ id: p, title: P, steps: [{ id: s, title: S, approve: lead, action: manual }] }]\n`,
      env: {},
    });
  const problems = (r: ReturnType<typeof load>): string[] => (r.ok ? [] : r.problems.map((p) => `${p.path}: ${p.message}`));

  it('reads tiers, repeat_every, approval_timeout, on_timeout and page targets', () => {
    const r = load('{ repeat_every: 5m, tiers: [{ after: 30m, notify: [lead] }], approval_timeout: 2h, on_timeout: hold, page: [pagerduty, webhook] }');
    expect(problems(r)).toEqual([]);
    expect(r.ok && r.runbook.doc.escalation).toMatchObject({ repeat_every: 300, tiers: [{ after: 1800, notify: ['lead'] }], approval_timeout: 7200, on_timeout: 'hold', page: ['pagerduty', 'webhook'] });
  });

  it('names each mistake at its path', () => {
    expect(problems(load('{ tiers: [{ after: 30m, notify: [boss] }] }'))).toEqual(['escalation.tiers[0].notify[0]: role "boss" is not a declared role (expected one of lead)']);
    expect(problems(load('{ approval_timeout: 5m }'))).toEqual(['escalation.approval_timeout: approval_timeout must not come before escalate_after']);
    expect(problems(load('{ on_timeout: retry }'))).toEqual(['escalation.on_timeout: expected escalate, hold or abort']);
    expect(problems(load('{ page: [opsgenie] }'))).toEqual(['escalation.page[0]: expected pagerduty or webhook']);
  });
});
