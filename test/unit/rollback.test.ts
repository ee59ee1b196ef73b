import { describe, expect, it } from 'vitest';
import { decide, type Command, type Decision } from '../../runbook/decide.js';
import type { RunEvent } from '../../runbook/events.js';
import type { Plan } from '../../runbook/plan.js';
import { defaultScenario, rollbackCancels, type RollbackCommand } from '../../runbook/rollback.js';
import { isFinished, type RunState } from '../../runbook/state.js';
import { actor, at, cmd, decideAll, deepFreeze, makePlan, makeStep, startCommand, stateAfter, USERS } from '../support/runbook-factory.js';

const { lead, lead2, dba1, dba2, owner, outsider } = USERS;
const types = (events: readonly RunEvent[]): string[] => events.map((e) => e.type);

function accepted(decision: Decision): RunEvent[] {
  if (!decision.ok) throw new Error(`expected acceptance, got ${decision.code}: ${decision.message}`);
  return decision.events;
}
function refused(decision: Decision): { code: string; message: string } {
  if (decision.ok) throw new Error(`expected a refusal, got events ${types(decision.events).join(', ')}`);
  return decision;
}

/** load (sql, dba) → golive (the `switch` action, owner) → signoff (manual, lead); two rollback scenarios approved by the lead role. */
function rollbackPlan(overrides: { permissions?: Partial<Plan['permissions']>; leadMayApprove?: boolean } = {}): Plan {
  const rb = (scenario: string) => `rollback:${scenario}`;
  return makePlan({
    roles: overrides.leadMayApprove ? { lead: { requesterMayApprove: true } } : {},
    permissions: overrides.permissions ?? {},
    phases: [
      { id: 'load', title: '1. Load', plannedSeconds: null, steps: [makeStep({ id: 'load', phaseId: 'load', approve: 'dba' })] },
      {
        id: 'go',
        title: '2. Go-live',
        plannedSeconds: null,
        steps: [
          makeStep({ id: 'golive', phaseId: 'go', approve: 'owner', action: 'switch' }),
          makeStep({ id: 'signoff', phaseId: 'go', approve: 'lead', action: 'manual' }),
        ],
      },
    ],
    rollbackScenarios: [
      {
        id: 'pre-go-live',
        title: 'Pre-go-live rollback',
        approve: 'lead',
        plannedSeconds: 120,
        steps: [
          makeStep({ id: 'truncate', title: 'Truncate loaded tables', phaseId: rb('pre-go-live'), approve: 'dba', action: 'rollback.truncate_loaded', plannedSeconds: 60 }),
          makeStep({ id: 'verify', title: 'Verify the source', phaseId: rb('pre-go-live'), approve: 'dba', action: 'sql', skippableBy: ['lead'], plannedSeconds: 60 }),
        ],
      },
      { id: 'post-go-live', title: 'Post-go-live rollback', approve: 'lead', steps: [makeStep({ id: 'switch-back', phaseId: rb('post-go-live'), approve: 'owner', action: 'shell' })] },
    ],
  });
}

const rollback = {
  request: (by: string, opts: Partial<Extract<RollbackCommand, { type: 'rollback.request' }>> = {}): Command => ({
    type: 'rollback.request', at: at(10), actor: actor(by), reason: 'row counts differ', ...opts,
  }),
  approve: (by: string, opts: Partial<Extract<RollbackCommand, { type: 'rollback.approve' }>> = {}): Command => ({ type: 'rollback.approve', at: at(11), actor: actor(by), ...opts }),
  cancel: (by: string, opts: Partial<Extract<RollbackCommand, { type: 'rollback.cancel' }>> = {}): Command => ({ type: 'rollback.cancel', at: at(11), actor: actor(by), ...opts }),
};

/** Started by the lead; "load" is running on the worker. */
const loading = (plan = rollbackPlan()): RunState =>
  stateAfter([startCommand({ plan }), cmd.approve('load', dba1), cmd.started('load', { at: at(2) })]);
/** "load" succeeded; the switch waits for the owner. */
const atGoLive = (): RunState => stateAfter([cmd.succeeded('load', { at: at(3) })], loading());
const requested = (): RunState => stateAfter([rollback.request(lead)], atGoLive());
const approved = (): RunState => stateAfter([rollback.approve(lead2)], requested());

describe('rollback.request', () => {
  it('pauses the forward run and tracks the scenario steps outside the forward order', () => {
    const state = deepFreeze(atGoLive());
    const events = accepted(decide(state, rollback.request(dba1)));
    expect(events).toEqual([
      { type: 'rollback.requested', at: at(10), scenario: 'pre-go-live', by: dba1, reason: 'row counts differ' },
      { type: 'run.paused', at: at(10), by: dba1, reason: 'rollback (pre-go-live) requested: row counts differ' },
    ]);
    const after = stateAfter([rollback.request(dba1)], state);
    expect(after.status).toBe('paused');
    expect(after.rollback).toEqual({ scenario: 'pre-go-live', requestedBy: dba1, requestedAt: at(10), reason: 'row counts differ', status: 'requested' });
    expect(after.steps['truncate']?.status).toBe('pending');
    expect(after.order).toEqual(['load', 'golive', 'signoff']);
    // The forward run is stopped: the switch cannot be approved meanwhile.
    expect(refused(decide(after, cmd.approve('golive', owner, { at: at(12) }))).code).toBe('run.paused');
  });

  it('defaults to pre-go-live before a succeeded `switch` step and to post-go-live after it', () => {
    expect(defaultScenario(atGoLive())).toBe('pre-go-live');
    const switched = stateAfter([cmd.approve('golive', owner, { at: at(4) }), cmd.started('golive', { at: at(5) }), cmd.succeeded('golive', { at: at(6) })], atGoLive());
    expect(defaultScenario(switched)).toBe('post-go-live');
    expect(accepted(decide(switched, rollback.request(lead)))[0]).toMatchObject({ type: 'rollback.requested', scenario: 'post-go-live' });
    // A switch still running is not "after the switch".
    const switching = stateAfter([cmd.approve('golive', owner, { at: at(4) }), cmd.started('golive', { at: at(5) })], atGoLive());
    expect(defaultScenario(switching)).toBe('pre-go-live');
    // A named scenario wins over the default.
    expect(accepted(decide(atGoLive(), rollback.request(lead, { scenario: 'post-go-live' })))[0]).toMatchObject({ scenario: 'post-go-live' });
  });

  it('does not pause twice when the run is already paused', () => {
    const paused = stateAfter([cmd.pause(lead, 'coffee', { at: at(5) })], atGoLive());
    expect(types(accepted(decide(paused, rollback.request(lead))))).toEqual(['rollback.requested']);
  });

  it('refuses an unknown scenario, listing the runbook\'s', () => {
    const r = refused(decide(atGoLive(), rollback.request(lead, { scenario: 'emergency' })));
    expect(r.code).toBe('rollback.unknown_scenario');
    expect(r.message).toBe('Runbook demo has no rollback scenario "emergency"; it declares `pre-go-live` (Pre-go-live rollback), `post-go-live` (Post-go-live rollback).');
    const none = stateAfter([startCommand()]);
    expect(refused(decide(none, rollback.request(lead))).message).toContain('has no "pre-go-live" rollback scenario, the default before the go-live switch; it declares none');
  });

  it('refuses a second request while one is requested or running, with a sentence saying whose', () => {
    const expected = 'A rollback (pre-go-live) requested by <@ULEAD> at 22:10 UTC is already in progress.';
    for (const state of [requested(), approved()]) {
      const r = refused(decide(state, rollback.request(dba1, { at: at(20), scenario: 'post-go-live' })));
      expect(r).toEqual({ ok: false, code: 'rollback.already_requested', message: expected });
    }
  });

  it('refuses a finished run: aborted, or already rolled back', () => {
    const aborted = stateAfter([cmd.abort(lead, 'wrong night', { at: at(5) })], atGoLive());
    expect(refused(decide(aborted, rollback.request(lead))).code).toBe('run.finished');
    const done = stateAfter([rollback.approve(lead2)], stateAfter([rollback.request(lead, { scenario: 'post-go-live' })], atGoLive()));
    const finished = stateAfter([cmd.approve('switch-back', owner, { at: at(12) }), cmd.started('switch-back', { at: at(13) }), cmd.succeeded('switch-back', { at: at(14) })], done);
    const r = refused(decide(finished, rollback.request(lead, { at: at(20) })));
    expect(r).toEqual({ ok: false, code: 'run.finished', message: 'This run is rolled back (post-go-live: row counts differ); nothing more can happen in it.' });
  });

  it('is refused to people outside `permissions.rollback` unless they are in the scenario\'s role', () => {
    const plan = rollbackPlan({ permissions: { rollback: ['owner'] } });
    const state = stateAfter([startCommand({ plan })]);
    expect(refused(decide(state, rollback.request(dba1))).code).toBe('role.not_permitted');
    expect(refused(decide(state, rollback.request(outsider))).code).toBe('role.not_permitted');
    expect(types(accepted(decide(state, rollback.request(owner))))).toContain('rollback.requested');
    expect(types(accepted(decide(state, rollback.request(lead2))))).toContain('rollback.requested');
    // Without permissions.rollback any role member may ask, but nobody outside every role.
    expect(refused(decide(atGoLive(), rollback.request(outsider))).code).toBe('role.not_permitted');
  });
});

describe('rollback.approve', () => {
  it('only the scenario\'s role approves, and not the requester (separation of duties)', () => {
    const state = deepFreeze(requested());
    const outsiderTry = refused(decide(state, rollback.approve(dba1)));
    expect(outsiderTry.code).toBe('role.not_member');
    expect(outsiderTry.message).toContain('Only the rollback authority for Pre-go-live rollback, Migration lead (<@ULEAD2>)');
    expect(refused(decide(state, rollback.approve(lead))).code).toBe('approval.separation_of_duties');
    expect(accepted(decide(state, rollback.approve(lead2)))).toEqual([
      { type: 'rollback.approved', at: at(11), scenario: 'pre-go-live', by: lead2 },
      { type: 'step.approval_requested', at: at(11), stepId: 'truncate', attempt: 1 },
    ]);
  });

  it('lets the requester approve when the role allows it', () => {
    const plan = rollbackPlan({ leadMayApprove: true });
    const state = stateAfter([startCommand({ plan }), rollback.request(lead)]);
    expect(types(accepted(decide(state, rollback.approve(lead))))).toEqual(['rollback.approved', 'step.approval_requested']);
  });

  it('refuses a second approval, a stale button and an approval with nothing requested', () => {
    expect(refused(decide(approved(), rollback.approve(lead2, { at: at(12) }))).message).toBe(
      'A rollback (pre-go-live) requested by <@ULEAD> at 22:10 UTC was already approved by <@ULEAD2> at 22:11 UTC.',
    );
    expect(refused(decide(requested(), rollback.approve(lead2, { requestedAt: at(1) }))).code).toBe('rollback.stale');
    expect(refused(decide(atGoLive(), rollback.approve(lead2))).code).toBe('rollback.not_requested');
  });

  it('an empty scenario rolls the run back on approval', () => {
    const plan = rollbackPlan();
    plan.rollbackScenarios.push({ id: 'emergency', title: 'Emergency', approve: 'lead', steps: [] });
    const state = stateAfter([startCommand({ plan }), rollback.request(lead, { scenario: 'emergency' })]);
    expect(types(accepted(decide(state, rollback.approve(lead2))))).toEqual(['rollback.approved', 'run.rolled_back']);
  });
});

describe('rollback steps', () => {
  it('advance within the rollback phase, never into the forward order, and the last one rolls the run back', () => {
    const { state, refusals, events } = decideAll(approved(), [
      cmd.approve('truncate', dba2, { at: at(12) }),
      cmd.started('truncate', { at: at(13) }),
      cmd.succeeded('truncate', { at: at(14), summary: 'truncated 3 tables' }),
    ]);
    expect(refusals).toEqual([]);
    expect(types(events)).toEqual(['step.approved', 'step.queued', 'step.started', 'step.succeeded', 'step.approval_requested']);
    expect(events.at(-1)).toMatchObject({ stepId: 'verify' });
    expect(state?.steps['golive']?.status).toBe('awaiting_approval');
    expect(state?.steps['truncate']).toMatchObject({ status: 'succeeded', requestedAt: at(11), approvedAt: at(12), startedAt: at(13), finishedAt: at(14) });

    const end = decideAll(state, [cmd.approve('verify', dba1, { at: at(15) }), cmd.started('verify', { at: at(16) }), cmd.succeeded('verify', { at: at(17) })]);
    expect(end.refusals).toEqual([]);
    expect(end.events.at(-1)).toEqual({ type: 'run.rolled_back', at: at(17), scenario: 'pre-go-live', reason: 'row counts differ' });
    const final = end.state as RunState;
    expect(final.status).toBe('rolled_back');
    expect(final.finishedAt).toBe(at(17));
    expect(final.rollback?.status).toBe('done');
    expect(isFinished(final)).toBe(true);
    expect(refused(decide(final, cmd.approve('golive', owner, { at: at(18) }))).code).toBe('run.finished');
  });

  it('keep the step policy: the step\'s role approves, the run\'s starter may not', () => {
    expect(refused(decide(approved(), cmd.approve('truncate', lead2, { at: at(12) }))).code).toBe('role.not_member');
    expect(refused(decide(approved(), cmd.approve('verify', dba1, { at: at(12) }))).code).toBe('step.not_waiting');
  });

  it('a failing rollback step marks the rollback failed, keeps the run paused, and Retry or Skip carry it on', () => {
    const failed = stateAfter(
      [cmd.approve('truncate', dba2, { at: at(12) }), cmd.started('truncate', { at: at(13) }), cmd.failed('truncate', { at: at(14), message: 'permission denied' })],
      approved(),
    );
    expect(failed.rollback?.status).toBe('failed');
    expect(failed.status).toBe('paused');
    expect(refused(decide(failed, cmd.resume(lead, { at: at(15) }))).code).toBe('run.rolling_back');

    const retried = accepted(decide(failed, cmd.retry('truncate', dba1, { at: at(15) })));
    expect(types(retried)).toEqual(['step.retried', 'step.approved', 'step.queued']);
    expect(stateAfter([cmd.retry('truncate', dba1, { at: at(15) })], failed).rollback?.status).toBe('running');

    const skipVerify = stateAfter(
      [cmd.retry('truncate', dba1, { at: at(15) }), cmd.started('truncate', { at: at(16), attempt: 2 }), cmd.succeeded('truncate', { at: at(17), attempt: 2 }), cmd.approve('verify', dba1, { at: at(18) }), cmd.started('verify', { at: at(19) }), cmd.failed('verify', { at: at(20) })],
      failed,
    );
    expect(skipVerify.rollback?.status).toBe('failed');
    const skipped = accepted(decide(skipVerify, cmd.skip('verify', lead2, 'checked by hand', { at: at(21) })));
    expect(types(skipped)).toEqual(['step.skipped', 'run.rolled_back']);
  });
});

describe('around a rollback', () => {
  it('the forward run cannot resume while a rollback is open; a cancelled request frees it', () => {
    const r = refused(decide(requested(), cmd.resume(lead2, { at: at(12) })));
    expect(r.message).toBe('A rollback (pre-go-live) requested by <@ULEAD> at 22:10 UTC is waiting for approval; the forward run cannot resume unless the request is cancelled.');
    expect(refused(decide(requested(), rollback.cancel(dba1))).code).toBe('role.not_member');
    const cancelled = stateAfter([rollback.cancel(lead)], requested());
    expect(cancelled.rollback).toBeNull();
    expect(types(accepted(decide(cancelled, cmd.resume(lead2, { at: at(12) }))))).toEqual(['run.resumed']);
    expect(refused(decide(approved(), rollback.cancel(lead2, { at: at(12) }))).code).toBe('rollback.already_approved');
  });

  it('the worker is told to stop forward steps, not the rollback\'s own', () => {
    expect(rollbackCancels(loading(), 'load')).toBe(false);
    const state = stateAfter([rollback.request(lead)], loading());
    expect(rollbackCancels(state, 'load')).toBe(true);
    expect(rollbackCancels(state, 'truncate')).toBe(false);
    // The running forward step may still report its end; the rollback is not advanced by it before approval.
    expect(types(accepted(decide(state, cmd.failed('load', { at: at(12), code: 'run.rolling_back' }))))).toEqual(['step.failed']);
  });

  it('a go/no-go answer of rollback requests the default scenario', () => {
    const asked = stateAfter([{ type: 'go_no_go.request', at: at(5), role: 'lead', reason: 'window at risk', to: [lead] }], atGoLive());
    const events = accepted(decide(asked, { type: 'go_no_go.decide', at: at(6), actor: actor(lead2), decision: 'rollback' }));
    expect(types(events)).toEqual(['go_no_go.decided', 'rollback.requested', 'run.paused']);
    expect(events[1]).toMatchObject({ scenario: 'pre-go-live', by: lead2, reason: 'go/no-go: rollback chosen' });
  });
});
