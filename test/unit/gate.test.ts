import { describe, expect, it } from 'vitest';
import { decide, type Command, type Decision } from '../../runbook/decide.js';
import type { RunEvent } from '../../runbook/events.js';
import { gateEvidence, rollbackAuthority } from '../../runbook/gate.js';
import type { Plan } from '../../runbook/plan.js';
import { auditTrail } from '../../runbook/report/audit.js';
import type { RunState } from '../../runbook/state.js';
import type { ValidationItem, Verdict } from '../../runbook/validation-result.js';
import { actor, at, cmd, decideAll, planOfSteps, type PlanOverrides, startCommand, stateAfter, T0, USERS, type C } from '../support/runbook-factory.js';

const { lead, lead2, dba1, dba2, owner, outsider } = USERS;

const RED_COUNTS: ValidationItem = { subject: 'antrag', verdict: 'red', message: 'source 12000 ≠ target 11999', figures: { source: 12000, target: 11999 } };
const GREEN_COUNTS: ValidationItem = { subject: 'antrag', verdict: 'green', message: 'source 12000 = target 12000', figures: { source: 12000, target: 12000 } };
const AMBER_RULE: ValidationItem = { subject: 'email-format', verdict: 'amber', message: '3 of 1000 rows (0.3 %) violate the WARNING rule (threshold 5 %)' };

const details = (check: string, verdict: Verdict, items: ValidationItem[]) => ({ validation: { check, verdict, items, at: T0, seconds: 2 }, report: `*${check}*` });

/** counts (validate.counts, dba) → rules (validate.rules, dba) → go-live (gated, approved by 2 owners) → signoff. Rollback authority: lead. */
function gatedPlan(overrides: Pick<PlanOverrides, 'permissions' | 'roles'> = {}): Plan {
  return planOfSteps(
    [
      { id: 'counts', title: 'Count rows', action: 'validate.counts' },
      { id: 'rules', title: 'Quality rules', action: 'validate.rules' },
      { id: 'golive', title: 'Switch to PostgreSQL', action: 'sql', approve: 'owner', gate: 'validation' },
      { id: 'signoff', title: 'Sign off', action: 'manual', approve: 'lead' },
    ],
    {
      roles: { owner: { members: [owner, lead2], minApprovals: 2 }, ...overrides.roles },
      permissions: { rollback: ['lead'], ...overrides.permissions },
    },
  );
}

/** Runs validation step `id` (attempt) to success with the given details. */
function runValidation(id: string, d: Record<string, unknown>, attempt = 1, minute = 2): Command[] {
  return [
    cmd.approve(id, dba1, { at: at(minute), attempt }),
    cmd.started(id, { at: at(minute + 1), attempt }),
    cmd.succeeded(id, { at: at(minute + 2), attempt, summary: 'checked', details: d }),
  ];
}

/** A run waiting at the gated step after counts and rules reported these verdicts. */
function atGate(counts: [Verdict, ValidationItem[]], rules: [Verdict, ValidationItem[]], plan = gatedPlan()): RunState {
  return stateAfter([
    startCommand({ plan }),
    ...runValidation('counts', details('counts', ...counts), 1, 1),
    ...runValidation('rules', details('rules', ...rules), 1, 4),
  ]);
}

const approveGolive = (by: string, opts: Partial<C<'approve'>> = {}): C<'approve'> => cmd.approve('golive', by, { at: at(10), ...opts });
const override = (by: string, reason: string): C<'gate.override'> => ({ type: 'gate.override', at: at(9), actor: actor(by), stepId: 'golive', reason });

function refused(decision: Decision): { code: string; message: string } {
  if (decision.ok) throw new Error(`expected a refusal, got ${decision.events.map((e) => e.type).join(', ')}`);
  return decision;
}
function accepted(decision: Decision): RunEvent[] {
  if (!decision.ok) throw new Error(`expected acceptance, got ${decision.code}: ${decision.message}`);
  return decision.events;
}

describe('gate: approving a gated step', () => {
  it('refuses on red, naming the failing check with its figures', () => {
    const state = atGate(['red', [RED_COUNTS]], ['green', []]);
    expect(state.steps.golive?.status).toBe('awaiting_approval');
    const r = refused(decide(state, approveGolive(owner)));
    expect(r.code).toBe('gate.blocked');
    expect(r.message).toBe(
      '"Switch to PostgreSQL" needs a green validation verdict, and it is 🔴 red — counts: antrag source 12000 ≠ target 11999. ' +
        'Fix and re-run the validation, or only the rollback authority, Migration lead (<@ULEAD>, <@ULEAD2>), can override it with `/migrate override golive <reason>`.',
    );
  });

  it('refuses on amber too, naming the amber rule', () => {
    const r = refused(decide(atGate(['green', [GREEN_COUNTS]], ['amber', [AMBER_RULE]]), approveGolive(owner)));
    expect(r.code).toBe('gate.blocked');
    expect(r.message).toContain('🟠 amber — rules: email-format 3 of 1000 rows (0.3 %) violate the WARNING rule');
    expect(r.message).not.toContain('antrag');
  });

  it('passes on green and records the evidence on the approval', () => {
    const events = accepted(decide(atGate(['green', [GREEN_COUNTS]], ['green', []]), approveGolive(owner)));
    expect(events).toEqual([
      {
        type: 'step.approved',
        at: at(10),
        stepId: 'golive',
        attempt: 1,
        by: owner,
        evidence: {
          verdict: 'green',
          results: [
            { stepId: 'counts', attempt: 1, check: 'counts', verdict: 'green' },
            { stepId: 'rules', attempt: 1, check: 'rules', verdict: 'green' },
          ],
          failing: [],
        },
      },
    ]);
  });

  it('is red with "no validation has run" when no validate.* step precedes it', () => {
    const plan = planOfSteps([{ id: 'golive', title: 'Go live', action: 'sql', approve: 'owner', gate: 'validation' }], { permissions: { rollback: ['lead'] } });
    const state = stateAfter([startCommand({ plan })]);
    expect(gateEvidence(state, 'golive').evidence).toEqual({ verdict: 'red', results: [], failing: ['no validation has run'] });
    expect(refused(decide(state, approveGolive(owner))).message).toContain('🔴 red — no validation has run');
  });

  it('counts a skipped validation as amber, never as passing', () => {
    const plan = gatedPlan();
    plan.phases[0]?.steps.forEach((s) => {
      if (s.id === 'rules') s.skippableBy = ['lead'];
    });
    const state = stateAfter([startCommand({ plan }), ...runValidation('counts', details('counts', 'green', [GREEN_COUNTS]), 1, 1), cmd.skip('rules', lead, 'no rules yet', { at: at(5) })]);
    const { evidence } = gateEvidence(state, 'golive');
    expect(evidence.verdict).toBe('amber');
    expect(evidence.failing).toEqual(['"Quality rules" was skipped by <@ULEAD>: no rules yet']);
  });

  it('keeps a failed (red) validation red when it is skipped to reach the gate', () => {
    const plan = gatedPlan();
    plan.phases[0]?.steps.forEach((s) => {
      if (s.id === 'counts') s.skippableBy = ['lead'];
    });
    const state = stateAfter([
      startCommand({ plan }),
      cmd.approve('counts', dba1),
      cmd.started('counts'),
      cmd.failed('counts', { code: 'validate.counts_red', message: 'counts: 0/1 tables green', details: details('counts', 'red', [RED_COUNTS]) }),
      cmd.skip('counts', lead, 'go on to the gate', { at: at(5) }),
      ...runValidation('rules', details('rules', 'green', []), 1, 6),
    ]);
    expect(state.steps.golive?.status).toBe('awaiting_approval');
    const { evidence } = gateEvidence(state, 'golive');
    expect(evidence.verdict).toBe('red');
    expect(evidence.failing).toEqual(['counts: antrag source 12000 ≠ target 11999', '"Count rows" was skipped after failing, by <@ULEAD>: go on to the gate']);
    expect(refused(decide(state, approveGolive(owner))).code).toBe('gate.blocked');
  });

  it('leaves steps without a gate alone', () => {
    const plan = planOfSteps([{ id: 'plain', action: 'sql', approve: 'owner' }]);
    expect(accepted(decide(stateAfter([startCommand({ plan })]), cmd.approve('plain', owner))).map((e) => e.type)).toEqual(['step.approved', 'step.queued']);
  });
});

describe('gate: override by the rollback authority', () => {
  const red = () => atGate(['red', [RED_COUNTS]], ['green', []]);

  it('is refused to anyone outside the rollback authority, even the approving role', () => {
    for (const who of [owner, dba1, outsider]) {
      const r = refused(decide(red(), override(who, 'business accepts one missing row')));
      expect(r.code).toBe('role.not_member');
      expect(r.message).toBe('Only the rollback authority, Migration lead (<@ULEAD>, <@ULEAD2>), may override the validation gate of "Switch to PostgreSQL".');
    }
  });

  it('is refused without a written reason', () => {
    for (const reason of ['', '   ', 'no reason given']) expect(refused(decide(red(), override(lead, reason))).code).toBe('gate.reason_required');
  });

  it('records who, why, the verdict and the evidence; then the step is approved normally and the audit trail shows it', () => {
    const { state, events, refusals } = decideAll(red(), [override(lead, 'row 4711 is a known test record'), approveGolive(owner), approveGolive(lead2, { at: at(11) })]);
    expect(refusals).toEqual([]);
    const overridden = events[0];
    expect(overridden).toEqual({
      type: 'gate.overridden',
      at: at(9),
      stepId: 'golive',
      attempt: 1,
      by: lead,
      reason: 'row 4711 is a known test record',
      verdict: 'red',
      evidence: {
        verdict: 'red',
        results: [
          { stepId: 'counts', attempt: 1, check: 'counts', verdict: 'red' },
          { stepId: 'rules', attempt: 1, check: 'rules', verdict: 'green' },
        ],
        failing: ['counts: antrag source 12000 ≠ target 11999'],
      },
    });
    expect(events.map((e) => e.type)).toEqual(['gate.overridden', 'step.approved', 'step.approved', 'step.queued']);
    expect(state?.steps.golive).toMatchObject({ status: 'queued', override: { by: lead, reason: 'row 4711 is a known test record', verdict: 'red' } });
    const audit = auditTrail('r', 'demo', events, at(20));
    expect(audit.events[0]).toMatchObject({ type: 'gate.overridden', user: lead, event: { reason: 'row 4711 is a known test record' } });
  });

  it('is refused on green, twice for the same verdict, and on a step without a gate', () => {
    expect(refused(decide(atGate(['green', []], ['green', []]), override(lead, 'just in case'))).code).toBe('gate.green');
    const once = stateAfter([override(lead, 'accepted by the owner')], red());
    expect(refused(decide(once, override(lead2, 'again'))).code).toBe('gate.already_overridden');
    expect(refused(decide(once, { ...override(lead, 'x'), stepId: 'counts' })).code).toBe('gate.not_gated');
  });

  it('falls back to a role with id "rollback", and refuses when the runbook names no authority', () => {
    const withRole = gatedPlan({ permissions: { rollback: null }, roles: { rollback: { title: 'Rollback authority', members: [dba2] } } });
    expect(rollbackAuthority(withRole)?.id).toBe('rollback');
    expect(accepted(decide(atGate(['red', [RED_COUNTS]], ['green', []], withRole), override(dba2, 'signed off by the CFO')))[0]?.type).toBe('gate.overridden');
    const none = gatedPlan({ permissions: { rollback: null } });
    expect(rollbackAuthority(none)).toBeNull();
    const r = refused(decide(atGate(['red', [RED_COUNTS]], ['green', []], none), override(lead, 'please')));
    expect(r.code).toBe('gate.no_authority');
    expect(refused(decide(atGate(['red', [RED_COUNTS]], ['green', []], none), approveGolive(owner))).message).toContain('so nobody can override it');
  });
});

describe('gate: an approval is bound to its evidence', () => {
  /** Green gate, approved by one of the two owners, then "counts" re-run (retry → attempt 2) by the DBA. */
  const approvedThenRerun = (): RunState =>
    stateAfter(
      [approveGolive(owner), cmd.retry('counts', dba1, { at: at(12), attempt: 1 }), cmd.started('counts', { at: at(13), attempt: 2 })],
      atGate(['green', [GREEN_COUNTS]], ['green', []]),
    );

  it('lapses the approvals when a re-run turns the verdict red, and asks again with a fresh request', () => {
    const before = approvedThenRerun();
    expect(before.steps.golive?.approvals.map((a) => a.by)).toEqual([owner]);
    const events = accepted(decide(before, cmd.succeeded('counts', { at: at(15), attempt: 2, details: details('counts', 'red', [RED_COUNTS]) })));
    expect(events).toEqual([
      expect.objectContaining({ type: 'step.succeeded', stepId: 'counts', attempt: 2 }),
      {
        type: 'step.approvals_lapsed',
        at: at(15),
        stepId: 'golive',
        attempt: 1,
        reason: 'the validation verdict changed from 🟢 green to 🔴 red — counts: antrag source 12000 ≠ target 11999 after it was approved',
      },
      { type: 'step.approval_requested', at: at(15), stepId: 'golive', attempt: 2 },
    ]);
    const after = stateAfter([cmd.succeeded('counts', { at: at(15), attempt: 2, details: details('counts', 'red', [RED_COUNTS]) })], before);
    expect(after.steps.golive).toMatchObject({ status: 'awaiting_approval', attempt: 2, approvals: [], requestedAt: at(15), lapsed: { at: at(15) } });
    // The second owner can no longer complete the quorum on the old evidence.
    expect(refused(decide(after, approveGolive(lead2, { attempt: 2, at: at(16) }))).code).toBe('gate.blocked');
  });

  it('keeps the approvals when the re-run gives the same verdict', () => {
    const events = accepted(decide(approvedThenRerun(), cmd.succeeded('counts', { at: at(15), attempt: 2, details: details('counts', 'green', [GREEN_COUNTS]) })));
    expect(events.map((e) => e.type)).toEqual(['step.succeeded']);
    const after = stateAfter([cmd.succeeded('counts', { at: at(15), attempt: 2, details: details('counts', 'green', [GREEN_COUNTS]) })], approvedThenRerun());
    expect(after.steps.golive?.approvals.map((a) => a.by)).toEqual([owner]);
    const second = accepted(decide(after, approveGolive(lead2, { at: at(16) })));
    expect(second.map((e) => e.type)).toEqual(['step.approved', 'step.queued']);
    expect(second[0]).toMatchObject({ evidence: { results: [{ stepId: 'counts', attempt: 2, verdict: 'green' }, { stepId: 'rules', attempt: 1 }] } });
  });

  it('lapses an override too when a failed re-run changes the verdict', () => {
    const overridden = stateAfter([override(lead, 'known test row'), approveGolive(owner)], atGate(['red', [RED_COUNTS]], ['amber', [AMBER_RULE]]));
    const rerun = stateAfter([cmd.retry('rules', dba1, { at: at(12) }), cmd.started('rules', { at: at(13), attempt: 2 })], overridden);
    const events = accepted(decide(rerun, cmd.failed('rules', { at: at(14), attempt: 2, message: 'target unreachable' })));
    expect(events.map((e) => e.type)).toEqual(['step.failed', 'step.approvals_lapsed', 'step.approval_requested']);
    const after = stateAfter([cmd.failed('rules', { at: at(14), attempt: 2, message: 'target unreachable' })], rerun);
    expect(after.steps.golive).toMatchObject({ override: null, approvals: [] });
  });

  it('refuses approving the gated step while a validation before it is being re-run', () => {
    const r = refused(decide(approvedThenRerun(), approveGolive(lead2)));
    expect(r).toEqual({ ok: false, code: 'step.earlier_unfinished', message: '"Switch to PostgreSQL" must wait: "Count rows" before it is running; approve once it has finished.' });
  });

  it('re-runs only succeeded validations, and never while a step is queued', () => {
    const green = atGate(['green', []], ['green', []]);
    const queued = stateAfter([approveGolive(owner), approveGolive(lead2)], green);
    expect(queued.steps.golive?.status).toBe('queued');
    expect(refused(decide(queued, cmd.retry('counts', dba1))).code).toBe('step.not_retryable');
    const plain = planOfSteps([{ id: 'load', action: 'sql' }, { id: 'next', action: 'sql' }]);
    const loaded = stateAfter([startCommand({ plan: plain }), cmd.approve('load', dba1), cmd.started('load'), cmd.succeeded('load')]);
    expect(refused(decide(loaded, cmd.retry('load', dba1))).code).toBe('step.not_retryable');
  });
});
