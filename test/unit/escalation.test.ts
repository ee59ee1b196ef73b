import { describe, expect, it } from 'vitest';
import { decide, type Command, type Decision } from '../../runbook/decide.js';
import { dueEscalations, nextTierRecipients, policyOf, recipients, type Contact, type DueEscalation, type EscalationPolicy } from '../../runbook/escalation.js';
import { loadRunbook } from '../../runbook/load.js';
import { escalationSchema } from '../../runbook/schema.js';
import { evolve, type RunState } from '../../runbook/state.js';
import { cmd, deepFreeze, makePlan, planOfSteps, startCommand, stateAfter, T0, USERS } from '../support/runbook-factory.js';

const { lead, lead2, dba1, dba2 } = USERS;
/** The fake clock: T0 plus seconds. */
const sec = (s: number): number => T0 + s * 1000;

const POLICY: EscalationPolicy = {
  remindAfterSeconds: 600,
  escalateAfterSeconds: 1200,
  nextTier: ['lead'],
  runningFactor: 1.5,
  incidentChannel: 'C0INCIDENT',
  sweepSeconds: 30,
  goNoGoRole: 'lead',
  // Said once: these tests are about first sends; repeats and tiers are tested in alert-rounds.test.ts.
  repeatEverySeconds: 0,
  tiers: [],
  approvalTimeoutSeconds: null,
  onTimeout: 'escalate',
  page: [],
};
const CONTACTS: Contact[] = [
  { role: 'dba', name: 'On-call DBA', slack: 'UDBAONCALL', phone: '+49 1', email: null },
  { role: 'lead', name: 'Migration lead', slack: lead, phone: null, email: null },
];

/** The default plan started by lead2 at T0: "ready" (dba, manual) waits for approval. */
const waiting = (): RunState => deepFreeze(stateAfter([startCommand({ actor: { id: lead2 } })]));

/** Records the escalation as the sweep would, failing loudly if the core refuses it. */
function record(state: RunState, due: DueEscalation, at: number): RunState {
  const d = decide(state, { type: 'escalate', at, stepId: due.stepId, attempt: due.attempt, level: due.level, reason: due.reason, to: recipients(due) });
  if (!d.ok) throw new Error(`${d.code}: ${d.message}`);
  return d.events.reduce<RunState>((s, e) => evolve(s, e) as RunState, state);
}

const levels = (list: DueEscalation[]): string[] => list.map((d) => `${d.stepId}:${d.level}`);
const refusal = (d: Decision): string => (d.ok ? 'accepted' : d.code);

describe('escalation policy in the runbook', () => {
  it('defaults to a reminder after 10 minutes, the next tier after 20, ×1.5 for running steps, a 30 s sweep, repeats every 10 minutes until acknowledged, no timeout, Slack only', () => {
    const e = escalationSchema.parse(undefined);
    expect(policyOf(e, ['lead', 'dba'])).toEqual({
      remindAfterSeconds: 600, escalateAfterSeconds: 1200, nextTier: [], runningFactor: 1.5, incidentChannel: null, sweepSeconds: 30, goNoGoRole: 'lead',
      repeatEverySeconds: 600, tiers: [], approvalTimeoutSeconds: null, onTimeout: 'escalate', page: [],
    });
  });

  it('accepts seconds, and refuses an escalation that comes before the reminder', () => {
    expect(escalationSchema.parse({ remind_after: '2s', escalate_after: '4s', sweep: '1s' })).toMatchObject({ remind_after: 2, escalate_after: 4, sweep: 1 });
    const bad = escalationSchema.safeParse({ remind_after: '5m', escalate_after: '5m' });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.path).toEqual(['escalate_after']);
    expect(escalationSchema.safeParse({ remind_after: '5m', escalate_aftr: '10m' }).success).toBe(false);
  });

  it('reports a next_tier role that is not declared at its path', () => {
    const text = [
      'title: t',
      'roles: { lead: { title: Lead, members: [U1] } }',
      'escalation: { next_tier: [lead, boss], incident_channel: not-a-channel }',
      'phases: [{ id: p, title: P, steps: [{ id: s, title: S, approve: lead, action: manual }] }]',
    ].join('\n');
    const result = loadRunbook({ name: 'x', file: 'x.yaml', text, env: {} });
    expect(result.ok).toBe(false);
    const paths = result.ok ? [] : result.problems.map((p) => p.path);
    expect(paths).toContain('escalation.incident_channel');
    const fixed = loadRunbook({ name: 'x', file: 'x.yaml', text: text.replace(', incident_channel: not-a-channel', ''), env: {} });
    expect(fixed.ok ? [] : fixed.problems.map((p) => `${p.path}: ${p.message}`)).toEqual(['escalation.next_tier[1]: role "boss" is not a declared role (expected one of lead)']);
  });
});

describe('dueEscalations: an approval that waits', () => {
  it('is due nothing before remind_after, a reminder to the role\'s members after it', () => {
    const state = waiting();
    expect(dueEscalations(state, POLICY, CONTACTS, sec(599))).toEqual([]);
    const [due, ...rest] = dueEscalations(state, POLICY, CONTACTS, sec(600));
    expect(rest).toEqual([]);
    expect(due).toMatchObject({ stepId: 'ready', attempt: 1, level: 'reminder', mention: [dba1, dba2], dm: [], incidentChannel: null });
    expect(due?.reason).toBe('"Team ready" has waited 10m for approval by Database administrator.');
  });

  it('escalates after escalate_after to the role\'s contacts and the next tier, by DM and in the incident channel', () => {
    const reminded = record(waiting(), dueEscalations(waiting(), POLICY, CONTACTS, sec(600))[0] as DueEscalation, sec(600));
    expect(dueEscalations(reminded, POLICY, CONTACTS, sec(1199))).toEqual([]);
    const [due] = dueEscalations(reminded, POLICY, CONTACTS, sec(1200));
    expect(due).toMatchObject({ level: 'escalation', dm: ['UDBAONCALL', lead, lead2], mention: ['UDBAONCALL', lead, lead2], incidentChannel: 'C0INCIDENT' });
  });

  it('sends each level once: recorded levels are not due again, and the core refuses a duplicate', () => {
    let state = waiting();
    state = record(state, dueEscalations(state, POLICY, CONTACTS, sec(600))[0] as DueEscalation, sec(600));
    const escalation = dueEscalations(state, POLICY, CONTACTS, sec(1200))[0] as DueEscalation;
    state = record(state, escalation, sec(1200));
    expect(dueEscalations(state, POLICY, CONTACTS, sec(5000))).toEqual([]);
    // A second web process that evaluated the same state before the append loses at decide.
    const again = decide(state, { type: 'escalate', at: sec(1201), stepId: 'ready', attempt: 1, level: 'escalation', reason: 'x', to: [] });
    expect(refusal(again)).toBe('escalation.duplicate');
    expect(state.steps['ready']?.escalations.map((e) => e.level)).toEqual(['reminder', 'escalation']);
  });

  it('sends only the escalation when the reminder was never sent in time (e.g. web was down), and no late reminder after it', () => {
    const state = waiting();
    const [due] = dueEscalations(state, POLICY, CONTACTS, sec(1500));
    expect(due?.level).toBe('escalation');
    const after = record(state, due as DueEscalation, sec(1500));
    expect(dueEscalations(after, POLICY, CONTACTS, sec(1530))).toEqual([]);
  });

  it('stops as soon as the approval is given, and the core refuses an escalation evaluated just before it', () => {
    const approved = stateAfter([cmd.approve('ready', dba1, { at: sec(500) })], waiting());
    // "ready" is done; "backup" was requested at 500 s and now waits in its turn.
    expect(levels(dueEscalations(approved, POLICY, CONTACTS, sec(1099)))).toEqual([]);
    const stale = decide(approved, { type: 'escalate', at: sec(1200), stepId: 'ready', attempt: 1, level: 'reminder', reason: 'x', to: [] });
    expect(refusal(stale)).toBe('escalation.cleared');
    expect(levels(dueEscalations(approved, POLICY, CONTACTS, sec(1100)))).toEqual(['backup:reminder']);
  });

  it('chases nobody while the run is paused or the step is held', () => {
    const paused = stateAfter([cmd.pause(lead, 'coffee', { at: sec(10) })], waiting());
    expect(dueEscalations(paused, POLICY, CONTACTS, sec(5000))).toEqual([]);
    const held = stateAfter([cmd.hold('ready', dba1, 'checking backups', { at: sec(10) })], waiting());
    expect(dueEscalations(held, POLICY, CONTACTS, sec(5000))).toEqual([]);
  });

  it('does not remind the requester under separation of duties, nor members who already approved', () => {
    const plan = makePlan({ roles: { dba: { minApprovals: 2, members: [dba1, dba2, lead2] } } });
    const state = stateAfter([startCommand({ plan, actor: { id: lead2 } }), cmd.approve('ready', dba1, { at: sec(10) })]);
    expect(dueEscalations(state, POLICY, CONTACTS, sec(600))[0]?.mention).toEqual([dba2]);
  });
});

describe('dueEscalations: running and failed steps', () => {
  const plan = planOfSteps([{ id: 'load', action: 'sql', plannedSeconds: 60, skippableBy: ['lead'] }]);
  const running = (): RunState =>
    stateAfter([startCommand({ plan }), cmd.approve('load', dba1, { at: sec(0) }), cmd.started('load', { at: sec(10) })]);

  it('alerts once a step runs longer than planned × running_factor, the same way as an escalation', () => {
    expect(dueEscalations(running(), POLICY, CONTACTS, sec(10 + 90))).toEqual([]);
    const [due] = dueEscalations(running(), POLICY, CONTACTS, sec(10 + 91));
    expect(due).toMatchObject({ level: 'overrun', dm: ['UDBAONCALL', lead, lead2], incidentChannel: 'C0INCIDENT' });
    expect(due?.reason).toBe('"Step load" has been running 1m 31s; planned 1m (alert at ×1.5).');
    const alerted = record(running(), due as DueEscalation, sec(101));
    expect(dueEscalations(alerted, POLICY, CONTACTS, sec(5000))).toEqual([]);
    const finished = stateAfter([cmd.succeeded('load', { at: sec(5000) })], alerted);
    expect(dueEscalations(finished, POLICY, CONTACTS, sec(6000))).toEqual([]);
  });

  it('pages at once when a step fails, once per attempt; a retry clears it and keeps the history', () => {
    const failed = stateAfter([cmd.failed('load', { at: sec(20), message: 'deadlock' })], running());
    const [page] = dueEscalations(failed, POLICY, CONTACTS, sec(20));
    expect(page).toMatchObject({ level: 'page', attempt: 1, reason: '"Step load" failed: deadlock' });
    expect(page?.mention).toEqual(expect.arrayContaining([dba1, dba2, 'UDBAONCALL', lead]));
    const paged = record(failed, page as DueEscalation, sec(20));
    expect(dueEscalations(paged, POLICY, CONTACTS, sec(3000))).toEqual([]);
    const retried = stateAfter([cmd.retry('load', dba2, { at: sec(30) })], paged);
    expect(retried.steps['load']?.attempt).toBe(2);
    expect(dueEscalations(retried, POLICY, CONTACTS, sec(40))).toEqual([]);
    expect(retried.steps['load']?.escalations).toHaveLength(1);
    expect(refusal(decide(retried, { type: 'escalate', at: sec(40), stepId: 'load', attempt: 1, level: 'page', reason: 'x', to: [] }))).toBe('step.stale_attempt');
  });

  it('pages the role\'s members directly when the role has no contact', () => {
    const failed = stateAfter([cmd.failed('load', { at: sec(20) })], running());
    const [page] = dueEscalations(failed, { ...POLICY, nextTier: [] }, [], sec(20));
    expect(page?.dm).toEqual([dba1, dba2]);
  });

  it('sends nothing for a finished run', () => {
    const aborted = stateAfter([cmd.failed('load', { at: sec(20) }), cmd.abort(lead, 'window closed', { at: sec(21) })], running());
    expect(dueEscalations(aborted, POLICY, CONTACTS, sec(100))).toEqual([]);
  });
});

describe('go/no-go decision', () => {
  const request: Extract<Command, { type: 'go_no_go.request' }> = { type: 'go_no_go.request', at: sec(100), role: 'lead', reason: 'window at risk', to: [lead] };

  it('is asked once, answered once, by the role only; rollback pauses the run', () => {
    const state = waiting();
    const asked = stateAfter([request], state);
    expect(asked.goNoGo).toMatchObject({ role: 'lead', decision: null });
    expect(refusal(decide(asked, { ...request, at: sec(200) }))).toBe('go_no_go.already_requested');
    expect(refusal(decide(asked, { type: 'go_no_go.decide', at: sec(150), actor: { id: dba1 }, decision: 'continue' }))).toBe('role.not_member');
    const decided = stateAfter([{ type: 'go_no_go.decide', at: sec(150), actor: { id: lead }, decision: 'rollback' }], asked);
    expect(decided.status).toBe('paused');
    expect(decided.goNoGo?.decision).toEqual({ by: lead, at: sec(150), choice: 'rollback' });
    expect(refusal(decide(decided, { type: 'go_no_go.decide', at: sec(160), actor: { id: lead2 }, decision: 'continue' }))).toBe('go_no_go.already_decided');
  });

  it('continue leaves the run going, and nothing can be decided before it is asked', () => {
    expect(refusal(decide(waiting(), { type: 'go_no_go.decide', at: sec(1), actor: { id: lead }, decision: 'continue' }))).toBe('go_no_go.not_requested');
    const cont = stateAfter([request, { type: 'go_no_go.decide', at: sec(150), actor: { id: lead }, decision: 'continue' }], waiting());
    expect(cont.status).toBe('active');
  });
});

describe('nextTierRecipients (roll call)', () => {
  it('reaches the role\'s contacts and every next-tier member and contact, without duplicates', () => {
    expect(nextTierRecipients(makePlan(), POLICY, CONTACTS, 'dba')).toEqual(['UDBAONCALL', lead, lead2]);
  });
});
