import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { decide, type Command, type Decision } from '../../runbook/decide.js';
import type { RunEvent } from '../../runbook/events.js';
import { loadRunbook } from '../../runbook/load.js';
import type { Plan } from '../../runbook/plan.js';
import { describeApprover } from '../../runbook/rollback-authority.js';
import type { RunState } from '../../runbook/state.js';
import { actor, at, cmd, makePlan, makeStep, planOfSteps, startCommand, stateAfter, USERS } from '../support/runbook-factory.js';

const { lead, lead2, dba1, dba2, owner } = USERS;

function refused(decision: Decision): { code: string; message: string } {
  if (decision.ok) throw new Error(`expected a refusal, got ${decision.events.map((e) => e.type).join(', ')}`);
  return decision;
}
function accepted(decision: Decision): RunEvent[] {
  if (!decision.ok) throw new Error(`expected acceptance, got ${decision.code}: ${decision.message}`);
  return decision.events;
}

const request = (by: string, reason = 'counts differ'): Command => ({ type: 'rollback.request', at: at(10), actor: actor(by), scenario: 'pre-go-live', reason });
const approveRollback = (by: string): Command => ({ type: 'rollback.approve', at: at(11), actor: actor(by) });

/** Issue 13, finding 1: the rollback authority had one member; she asked, and nobody could approve. */
describe('a rollback can always be approved: checked when the runbook loads', () => {
  const doc = (change: (d: Record<string, any>) => void = () => undefined) => {
    const d: Record<string, any> = {
      title: 'Approvable',
      roles: {
        lead: { title: 'Migration lead', members: ['ULEAD'] },
        dba: { title: 'DBA', members: ['UDBA1', 'UDBA2'] },
        rollback: { title: 'Rollback authority', members: ['URB1'] },
      },
      permissions: { rollback: ['rollback'] },
      phases: [{ id: 'p', title: 'P', steps: [{ id: 's', title: 'S', approve: 'dba', action: 'manual' }] }],
      rollback: { 'pre-go-live': { title: 'Pre', approve: 'rollback', steps: [{ id: 'rb', title: 'RB', approve: 'dba', action: 'manual' }] } },
    };
    change(d);
    return loadRunbook({ name: 'a', file: 'config/runbooks/a.yaml', text: stringify(d), env: {} });
  };

  it('refuses a single-member authority that may not approve its own request, naming file, path and the way out', () => {
    const result = doc();
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems).toEqual([
      {
        file: 'config/runbooks/a.yaml',
        path: 'rollback.pre-go-live.approve',
        message: expect.stringMatching(/^rollback authority "rollback" could not approve a rollback requested by URB1: its only member may not approve their own request .*Name a deputy after it in permissions\.rollback/),
      },
    ]);
  });

  it('refuses it too when permissions.rollback is unset (then everybody may ask)', () => {
    const result = doc((d) => delete d.permissions);
    expect(result.ok ? [] : result.problems.map((p) => p.path)).toEqual(['rollback.pre-go-live.approve']);
  });

  it('loads with a deputy named after the authority, a second member, or requester_may_approve', () => {
    expect(doc((d) => (d.permissions.rollback = ['rollback', 'lead'])).ok).toBe(true);
    expect(doc((d) => (d.roles.rollback.members = ['URB1', 'URB2'])).ok).toBe(true);
    expect(doc((d) => (d.roles.rollback.requester_may_approve = true)).ok).toBe(true);
  });

  it('refuses a deputy that is the same lone person', () => {
    const result = doc((d) => {
      d.roles.lead.members = ['URB1'];
      d.permissions.rollback = ['rollback', 'lead'];
    });
    expect(result.ok).toBe(false);
  });
});

/** rollback authority "rollback" (one member, URB1) with the lead as its deputy; rollback steps approved by the dba. */
function deputyPlan(overrides: { deputies?: string[]; rollbackSteps?: Plan['rollbackScenarios'][number]['steps'] } = {}): Plan {
  return makePlan({
    roles: { rollback: { title: 'Rollback authority', members: ['URB1'] } },
    permissions: { rollback: ['rollback', ...(overrides.deputies ?? ['lead'])] },
    rollbackScenarios: [
      {
        id: 'pre-go-live',
        title: 'Pre-go-live rollback',
        approve: 'rollback',
        steps: overrides.rollbackSteps ?? [
          makeStep({ id: 'rb-truncate', title: 'Truncate', phaseId: 'rollback:pre-go-live', approve: 'dba', action: 'rollback.truncate_loaded' }),
        ],
      },
    ],
  });
}

describe('a rollback can always be approved: at request time', () => {
  it('when the lone authority asks, the deputy approves; the request names who can', () => {
    const plan = deputyPlan();
    const state = stateAfter([startCommand({ plan }), request('URB1')]);
    expect(describeApprover(plan, plan.rollbackScenarios[0]!, 'URB1')).toBe(
      'deputy Migration lead (<@ULEAD>, <@ULEAD2>), since <@URB1> asked and Rollback authority has nobody else who may approve',
    );
    expect(refused(decide(state, approveRollback('URB1'))).code).toBe('approval.separation_of_duties');
    expect(refused(decide(state, approveRollback(dba1))).message).toContain('Only the rollback authority for Pre-go-live rollback, deputy Migration lead');
    expect(accepted(decide(state, approveRollback(lead2)))[0]).toMatchObject({ type: 'rollback.approved', by: lead2 });
  });

  it('when someone else asks, the authority approves and the deputy may not step in', () => {
    const plan = deputyPlan();
    const state = stateAfter([startCommand({ plan }), request(lead)]);
    expect(describeApprover(plan, plan.rollbackScenarios[0]!, lead)).toBe('Rollback authority (<@URB1>)');
    expect(refused(decide(state, approveRollback(lead2))).code).toBe('role.not_member');
    expect(accepted(decide(state, approveRollback('URB1')))[0]).toMatchObject({ type: 'rollback.approved', by: 'URB1' });
  });

  it('refuses the request, run untouched, when nobody could approve it (a runbook changed under the run)', () => {
    const plan = deputyPlan({ deputies: [] });
    const state = stateAfter([startCommand({ plan })]);
    const r = refused(decide(state, request('URB1')));
    expect(r.code).toBe('rollback.unapprovable');
    expect(r.message).toContain('Nobody could approve this rollback: Rollback authority (<@URB1>) has no member but you');
  });

  it('refuses the request when one of its steps could then not be approved (its role is the requester alone)', () => {
    const plan = deputyPlan({ deputies: ['lead', 'owner'], rollbackSteps: [makeStep({ id: 'rb-check', title: 'Check the source', phaseId: 'rollback:pre-go-live', approve: 'owner', action: 'manual' })] });
    // The owner role allows its member to approve what he started, but a rollback step is not his to start and approve.
    const ownerOnly = { ...plan, roles: { ...plan.roles, owner: { ...plan.roles['owner']!, requesterMayApprove: false } } };
    const state = stateAfter([startCommand({ plan: ownerOnly })]);
    expect(refused(decide(state, request(owner))).message).toContain('"Check the source" (Application owner) could not be approved');
  });
});

describe('separation of duties follows the decision (issue 13, finding 9)', () => {
  const approveStep = (by: string): Command => cmd.approve('rb-truncate', by, { at: at(12) });

  it('a rollback step may not be approved by whoever requested the rollback', () => {
    const plan = makePlan({ roles: { rollback: { members: ['URB1', dba1] } }, permissions: { rollback: ['rollback'] }, rollbackScenarios: [{ id: 'pre-go-live', title: 'Pre', approve: 'rollback', steps: [makeStep({ id: 'rb-truncate', phaseId: 'rollback:pre-go-live', approve: 'dba' })] }] });
    const state = stateAfter([startCommand({ plan }), request(dba1), approveRollback('URB1')]);
    const r = refused(decide(state, approveStep(dba1)));
    expect(r).toMatchObject({ code: 'approval.separation_of_duties', message: 'You requested this rollback, so you may not approve for Database administrator (separation of duties): another member must.' });
    expect(accepted(decide(state, approveStep(dba2)))[0]).toMatchObject({ type: 'step.approved', by: dba2 });
  });

  it('…but the person who started the run may approve a rollback step someone else requested', () => {
    const plan = makePlan({
      roles: { rollback: { members: ['URB1', 'URB2'] } },
      permissions: { rollback: ['rollback'] },
      rollbackScenarios: [{ id: 'pre-go-live', title: 'Pre', approve: 'rollback', steps: [makeStep({ id: 'rb-truncate', phaseId: 'rollback:pre-go-live', approve: 'dba' })] }],
    });
    const state = stateAfter([startCommand({ plan, actor: actor(dba1) }), request('URB1'), approveRollback('URB2')]);
    expect(accepted(decide(state, approveStep(dba1)))[0]).toMatchObject({ type: 'step.approved', by: dba1 });
  });

  /** A gated step approved by a two-person owner role; the lead may override it. */
  const gated = (): Plan =>
    planOfSteps(
      [
        { id: 'counts', title: 'Count rows', action: 'validate.counts' },
        { id: 'golive', title: 'Switch', action: 'sql', approve: 'owner', gate: 'validation' },
      ],
      { roles: { owner: { members: [owner, lead2, lead], requesterMayApprove: false } }, permissions: { rollback: ['lead'] } },
    );
  const redGate = (): RunState => {
    const red = { validation: { check: 'counts', verdict: 'red', items: [{ subject: 'antrag', verdict: 'red', message: '1 ≠ 2' }], at: at(2), seconds: 1 } };
    return stateAfter([
      startCommand({ plan: gated(), actor: actor(dba1) }),
      cmd.approve('counts', dba2),
      cmd.started('counts'),
      cmd.succeeded('counts', { details: red }),
      { type: 'gate.override', at: at(5), actor: actor(lead), stepId: 'golive', reason: 'row 4711 is a known test record' },
    ]);
  };

  it('an overridden gate may not be approved by whoever overrode it', () => {
    const r = refused(decide(redGate(), cmd.approve('golive', lead, { at: at(6) })));
    expect(r.code).toBe('approval.separation_of_duties');
    expect(r.message).toBe('You overrode the validation gate of this step, so you may not approve for Application owner (separation of duties): another member must.');
  });

  it('…while another member of the role may', () => {
    expect(accepted(decide(redGate(), cmd.approve('golive', lead2, { at: at(6) })))[0]).toMatchObject({ type: 'step.approved', by: lead2 });
  });
});
