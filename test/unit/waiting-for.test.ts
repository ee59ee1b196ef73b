import { describe, expect, it } from 'vitest';
import { isInvolved, waitingFor } from '../../runbook/waiting-for.js';
import { actor, at, cmd, makePlan, planOfSteps, startCommand, stateAfter, USERS } from '../support/runbook-factory.js';

const { lead, lead2, dba1, dba2, outsider } = USERS;

/** App Home's "Waiting for you" is what decide would accept now, person by person (issue 16). */
describe('waitingFor', () => {
  it('lists a waiting approval for the members of its role only', () => {
    const state = stateAfter([startCommand()]);
    expect(waitingFor(state, actor(dba1), at(1))).toEqual([
      expect.objectContaining({ kind: 'approval', stepId: 'ready', title: 'Team ready', role: 'Database administrator', approvals: 0, needed: 1 }),
    ]);
    expect(waitingFor(state, actor(lead), at(1))).toEqual([]);
    expect(waitingFor(state, actor(outsider), at(1))).toEqual([]);
    // A role given as a user-group counts its members.
    const grouped = stateAfter([startCommand({ plan: makePlan({ roles: { dba: { members: [], usergroups: ['S0DBA'] } } }) })]);
    expect(waitingFor(grouped, actor(outsider, ['S0DBA']), at(1)).map((w) => w.kind)).toEqual(['approval']);
  });

  it('N-of-M: whoever approved is not asked again, the others see how many approvals are in', () => {
    const plan = makePlan({ roles: { dba: { minApprovals: 2 } } });
    const state = stateAfter([startCommand({ plan }), cmd.approve('ready', dba1)]);
    expect(waitingFor(state, actor(dba1), at(2))).toEqual([]);
    expect(waitingFor(state, actor(dba2), at(2))).toEqual([expect.objectContaining({ kind: 'approval', approvals: 1, needed: 2 })]);
  });

  it('separation of duties: the person who started the run is not asked to approve for their own role; the other member is', () => {
    const plan = planOfSteps([{ id: 'go', title: 'Go live', approve: 'lead', action: 'manual' }]);
    const state = stateAfter([startCommand({ plan })]);
    expect(waitingFor(state, actor(lead), at(1))).toEqual([]);
    expect(waitingFor(state, actor(lead2), at(1))).toEqual([expect.objectContaining({ stepId: 'go' })]);
  });

  it('a paused or finished run waits for nobody', () => {
    expect(waitingFor(stateAfter([startCommand(), cmd.pause(lead)]), actor(dba1), at(2))).toEqual([]);
    expect(waitingFor(stateAfter([startCommand(), cmd.abort(lead)]), actor(dba1), at(2))).toEqual([]);
  });
});

describe('isInvolved', () => {
  it('is the starter, a member of a role, or someone who approved; nobody else', () => {
    const state = stateAfter([startCommand()]);
    expect(isInvolved(state, actor(lead))).toBe(true);
    expect(isInvolved(state, actor(dba2))).toBe(true);
    expect(isInvolved(state, actor(outsider))).toBe(false);
  });
});
