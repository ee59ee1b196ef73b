import { describe, expect, it } from 'vitest';
import { decide, type Command, type Decision } from '../../runbook/decide.js';
import type { RunEvent } from '../../runbook/events.js';
import { stepJobId } from '../../runbook/ports.js';
import type { RunState } from '../../runbook/state.js';
import {
  at,
  cmd,
  decideAll,
  deepFreeze,
  makePlan,
  planOfSteps,
  RUN_ID,
  startCommand,
  startedRun,
  stateAfter,
  T0,
  USERS,
  actor,
} from '../support/runbook-factory.js';

const { lead, lead2, dba1, dba2, owner, outsider } = USERS;

const types = (events: readonly RunEvent[]): string[] => events.map((e) => e.type);

function accepted(decision: Decision): RunEvent[] {
  if (!decision.ok) throw new Error(`expected acceptance, got ${decision.code}: ${decision.message}`);
  return decision.events;
}

function refused(decision: Decision): { code: string; message: string } {
  if (decision.ok) throw new Error(`expected a refusal, got events ${types(decision.events).join(', ')}`);
  // A refusal carries no events at all, not an empty list that a caller might append.
  expect(decision).not.toHaveProperty('events');
  return decision;
}

/** Default plan, "ready" (manual) approved: the run waits on "backup" (shell, dba). */
const atBackup = (): RunState => stateAfter([startCommand(), cmd.approve('ready', dba1)]);
/** "backup" approved by dba2: queued for the worker. */
const backupQueued = (): RunState => stateAfter([cmd.approve('backup', dba2, { at: at(2) })], atBackup());
const backupRunning = (): RunState => stateAfter([cmd.started('backup', { at: at(3) })], backupQueued());
const backupFailed = (): RunState => stateAfter([cmd.failed('backup', { at: at(5) })], backupRunning());

describe('decide: start', () => {
  it('records the run and requests approval of the first step at the command time', () => {
    const events = accepted(decide(null, startCommand()));
    expect(events).toEqual([
      expect.objectContaining({ type: 'run.started', at: T0, runId: RUN_ID, by: lead, channel: 'C0CUTOVER', dryRun: false }),
      { type: 'step.approval_requested', at: T0, stepId: 'ready', attempt: 1 },
    ]);
    const state = stateAfter([startCommand()]);
    expect(state.steps.ready).toMatchObject({ status: 'awaiting_approval', attempt: 1, requestedAt: T0 });
    expect(state.steps.backup?.status).toBe('pending');
  });

  it('keeps the dry-run flag and the pinned runbook text on the run', () => {
    const state = stateAfter([startCommand({ dryRun: true, runbookText: 'pinned: v1' })]);
    expect(state).toMatchObject({ dryRun: true, runbookText: 'pinned: v1', startedBy: lead, status: 'active', version: 2 });
  });

  it('refuses a user outside permissions.start, naming the roles that may start', () => {
    const plan = makePlan({ permissions: { start: ['lead'] } });
    const r = refused(decide(null, startCommand({ plan, actor: { id: dba1 } })));
    expect(r.code).toBe('role.not_permitted');
    expect(r.message).toBe('Only members of Migration lead may start a run of demo; you are not in that role.');
  });

  it('lets a member of a role listed in permissions.start start the run', () => {
    const plan = makePlan({ permissions: { start: ['lead', 'dba'] } });
    expect(accepted(decide(null, startCommand({ plan, actor: { id: dba2 } })))[0]?.type).toBe('run.started');
  });

  it('without permissions.start lets any role member start but refuses someone in no role', () => {
    expect(decide(null, startCommand({ actor: { id: owner } })).ok).toBe(true);
    const r = refused(decide(null, startCommand({ actor: { id: outsider } })));
    expect(r.code).toBe('role.not_permitted');
    expect(r.message).toContain('any of those roles');
  });

  it('refuses to start a run id that already exists', () => {
    expect(refused(decide(startedRun(), startCommand())).code).toBe('run.exists');
  });

  it('refuses every other command when there is no run', () => {
    expect(refused(decide(null, cmd.approve('ready', dba1)))).toEqual({ ok: false, code: 'run.not_found', message: 'There is no such run.' });
  });
});

describe('decide: approve', () => {
  it('refuses a non-member and names the role and its members', () => {
    const r = refused(decide(startedRun(), cmd.approve('ready', owner)));
    expect(r.code).toBe('role.not_member');
    expect(r.message).toBe('You are not in the role Database administrator (<@UDBA1>, <@UDBA2>), which must approve "Team ready".');
  });

  it('queues a worker step with the deterministic job id runId__stepId__attempt', () => {
    const events = accepted(decide(atBackup(), cmd.approve('backup', dba2, { at: at(2) })));
    expect(events).toEqual([
      { type: 'step.approved', at: at(2), stepId: 'backup', attempt: 1, by: dba2 },
      { type: 'step.queued', at: at(2), stepId: 'backup', attempt: 1, jobId: 'run-demo-1__backup__1' },
    ]);
    expect(stepJobId(RUN_ID, 'backup', 1)).toBe('run-demo-1__backup__1');
  });

  it('completes a manual step on approval and requests the next step', () => {
    const events = accepted(decide(startedRun(), cmd.approve('ready', dba1, { at: at(1) })));
    expect(events).toEqual([
      { type: 'step.approved', at: at(1), stepId: 'ready', attempt: 1, by: dba1 },
      { type: 'step.succeeded', at: at(1), stepId: 'ready', attempt: 1, summary: 'Checklist item confirmed' },
      { type: 'step.approval_requested', at: at(1), stepId: 'backup', attempt: 1 },
    ]);
    expect(events.some((e) => e.type === 'step.queued')).toBe(false);
  });

  describe('N-of-M (min_approvals 2)', () => {
    const plan = makePlan({ roles: { dba: { minApprovals: 2 } } });

    it('one approval records it and leaves the step waiting', () => {
      const { state, events, refusals } = decideAll(null, [startCommand({ plan }), cmd.approve('ready', dba1)]);
      expect(refusals).toEqual([]);
      expect(types(events).slice(-1)).toEqual(['step.approved']);
      expect(state?.steps.ready).toMatchObject({ status: 'awaiting_approval', approvals: [{ by: dba1, at: at(1) }] });
    });

    it('refuses the same person approving twice as a duplicate, with the time of the first approval', () => {
      const state = stateAfter([startCommand({ plan }), cmd.approve('ready', dba1, { at: at(1) })]);
      const r = refused(decide(state, cmd.approve('ready', dba1, { at: at(2) })));
      expect(r.code).toBe('approval.duplicate');
      expect(r.message).toBe('You already approved "Team ready" at 22:01 UTC.');
    });

    it('the second distinct member completes the approval', () => {
      const state = stateAfter([startCommand({ plan }), cmd.approve('ready', dba1)]);
      const events = accepted(decide(state, cmd.approve('ready', dba2, { at: at(2) })));
      expect(types(events)).toEqual(['step.approved', 'step.succeeded', 'step.approval_requested']);
    });
  });

  describe('separation of duties', () => {
    const steps = [{ id: 'sign', title: 'Sign off', approve: 'lead', action: 'sql' }];

    it('refuses the requester when the role does not allow requester approval', () => {
      const state = startedRun({ plan: planOfSteps(steps), actor: { id: lead } });
      const r = refused(decide(state, cmd.approve('sign', lead)));
      expect(r.code).toBe('approval.separation_of_duties');
      expect(r.message).toBe('You started this run, so you may not approve for Migration lead (separation of duties): another member must.');
    });

    it('accepts another member of the same role', () => {
      const state = startedRun({ plan: planOfSteps(steps), actor: { id: lead } });
      expect(types(accepted(decide(state, cmd.approve('sign', lead2))))).toEqual(['step.approved', 'step.queued']);
    });

    it('accepts the requester when requester_may_approve is set', () => {
      const plan = planOfSteps(steps, { roles: { lead: { requesterMayApprove: true } } });
      const state = startedRun({ plan, actor: { id: lead } });
      expect(types(accepted(decide(state, cmd.approve('sign', lead))))).toEqual(['step.approved', 'step.queued']);
    });
  });

  it('counts membership through a Slack user-group the actor is in', () => {
    const plan = makePlan({ roles: { dba: { members: [], usergroups: ['SDBAS'] } } });
    const state = startedRun({ plan });
    const viaGroup: Command = { type: 'approve', at: at(1), actor: { id: 'UGROUPIE', groups: ['SOTHER', 'SDBAS'] }, stepId: 'ready', attempt: 1 };
    expect(types(accepted(decide(state, viaGroup)))).toContain('step.succeeded');
    const noGroups: Command = { ...viaGroup, actor: { id: 'UGROUPIE' } };
    const r = refused(decide(state, noGroups));
    expect(r.code).toBe('role.not_member');
    expect(r.message).toContain('<!subteam^SDBAS>');
  });

  it('refuses a click from an earlier attempt as stale', () => {
    const r = refused(decide(startedRun(), cmd.approve('ready', dba1, { attempt: 2 })));
    expect(r.code).toBe('step.stale_attempt');
    expect(r.message).toBe('That button belongs to attempt 2; "Team ready" is at attempt 1.');
  });

  it('refuses a step still pending: earlier steps come first', () => {
    const r = refused(decide(startedRun(), cmd.approve('backup', dba1)));
    expect(r).toMatchObject({ code: 'step.not_waiting', message: '"Back up the source" is not waiting for approval yet: earlier steps come first.' });
  });

  it('refuses a queued step, naming who approved it and when', () => {
    const r = refused(decide(backupQueued(), cmd.approve('backup', dba1)));
    expect(r).toMatchObject({ code: 'step.not_waiting', message: '"Back up the source" is already approved by <@UDBA2> at 22:02 UTC and is queued.' });
  });

  it('refuses a running step', () => {
    const r = refused(decide(backupRunning(), cmd.approve('backup', dba1)));
    expect(r.message).toBe('"Back up the source" is already approved by <@UDBA2> at 22:02 UTC and is running.');
  });

  it('refuses a succeeded step with the time it succeeded', () => {
    const state = stateAfter([cmd.succeeded('backup', { at: at(7) })], backupRunning());
    const r = refused(decide(state, cmd.approve('backup', dba1)));
    expect(r).toMatchObject({ code: 'step.not_waiting', message: '"Back up the source" already ran: it succeeded at 22:07 UTC.' });
  });

  it('tells the one who already approved a queued step that they did', () => {
    expect(refused(decide(backupQueued(), cmd.approve('backup', dba2))).code).toBe('approval.duplicate');
  });

  it('refuses a step the run does not have', () => {
    expect(refused(decide(startedRun(), cmd.approve('no-such-step', dba1)))).toMatchObject({
      code: 'step.not_found',
      message: 'This run has no step "no-such-step".',
    });
  });
});

describe('decide: hold, release, reject', () => {
  it('hold records who held the step and why', () => {
    const events = accepted(decide(startedRun(), cmd.hold('ready', dba1, 'replica lag')));
    expect(events).toEqual([{ type: 'step.held', at: at(1), stepId: 'ready', by: dba1, reason: 'replica lag' }]);
    const state = stateAfter([cmd.hold('ready', dba1, 'replica lag')], startedRun());
    expect(state.steps.ready).toMatchObject({ status: 'held', hold: { by: dba1, at: at(1), reason: 'replica lag' } });
  });

  it('refuses approval while the step is held, saying who held it and why', () => {
    const state = stateAfter([cmd.hold('ready', dba1, 'replica lag')], startedRun());
    const r = refused(decide(state, cmd.approve('ready', dba2)));
    expect(r).toMatchObject({ code: 'step.not_waiting', message: '"Team ready" is on hold by <@UDBA1>: replica lag. Release it first.' });
  });

  it('refuses holding a step twice', () => {
    const state = stateAfter([cmd.hold('ready', dba1, 'replica lag')], startedRun());
    expect(refused(decide(state, cmd.hold('ready', dba2))).code).toBe('step.already_held');
  });

  it('refuses hold from someone outside the approving role', () => {
    expect(refused(decide(startedRun(), cmd.hold('ready', owner))).code).toBe('role.not_member');
  });

  it('release returns the step to awaiting approval with earlier approvals cleared', () => {
    const plan = makePlan({ roles: { dba: { minApprovals: 2 } } });
    const state = stateAfter([startCommand({ plan }), cmd.approve('ready', dba1), cmd.hold('ready', dba2), cmd.release('ready', dba2, { at: at(3) })]);
    expect(state.steps.ready).toMatchObject({ status: 'awaiting_approval', approvals: [], hold: null });
    // dba1's earlier approval no longer counts, so dba1 may approve again.
    expect(types(accepted(decide(state, cmd.approve('ready', dba1))))).toEqual(['step.approved']);
  });

  it('refuses release of a step that is not on hold', () => {
    expect(refused(decide(startedRun(), cmd.release('ready', dba1)))).toMatchObject({ code: 'step.not_held', message: '"Team ready" is not on hold.' });
  });

  it('reject records the reason and stops the step until retry or skip', () => {
    const events = accepted(decide(startedRun(), cmd.reject('ready', dba1, 'wrong window')));
    expect(events).toEqual([{ type: 'step.rejected', at: at(1), stepId: 'ready', by: dba1, reason: 'wrong window' }]);
    const state = stateAfter([cmd.reject('ready', dba1, 'wrong window')], startedRun());
    expect(state.steps.ready).toMatchObject({ status: 'rejected', hold: { by: dba1, reason: 'wrong window' } });
    expect(refused(decide(state, cmd.approve('ready', dba2))).message).toBe('"Team ready" was rejected by <@UDBA1>: wrong window. Retry or skip it.');
  });

  it('refuses reject of a step that is not waiting', () => {
    expect(refused(decide(backupQueued(), cmd.reject('backup', dba1))).code).toBe('step.not_waiting');
  });
});

describe('decide: worker reports', () => {
  it('refuses a report for another attempt and records nothing', () => {
    const r = refused(decide(backupQueued(), cmd.started('backup', { attempt: 2 })));
    expect(r).toMatchObject({ code: 'step.stale_attempt', message: 'Report for attempt 2 of "backup" ignored: the step is at attempt 1.' });
    expect(refused(decide(backupRunning(), cmd.succeeded('backup', { attempt: 0 }))).code).toBe('step.stale_attempt');
    expect(refused(decide(backupRunning(), cmd.failed('backup', { attempt: 3 }))).code).toBe('step.stale_attempt');
  });

  it('started moves a queued step to running; progress is recorded', () => {
    const events = accepted(decide(backupQueued(), cmd.started('backup', { at: at(3) })));
    expect(events).toEqual([{ type: 'step.started', at: at(3), stepId: 'backup', attempt: 1, resumed: false }]);
    const state = stateAfter([cmd.progress('backup', '40 of 100 tables', { at: at(4), data: { done: 40 } })], backupRunning());
    expect(state.steps.backup?.progress).toEqual({ message: '40 of 100 tables', at: at(4), data: { done: 40 } });
  });

  it('refuses started for a step that is not queued, unless the worker resumes it', () => {
    expect(refused(decide(atBackup(), cmd.started('backup'))).code).toBe('step.not_queued');
    expect(refused(decide(backupRunning(), cmd.started('backup'))).code).toBe('step.not_queued');
    const resumed = accepted(decide(backupRunning(), cmd.started('backup', { at: at(9), resumed: true })));
    expect(resumed).toEqual([{ type: 'step.started', at: at(9), stepId: 'backup', attempt: 1, resumed: true }]);
    // A resumed start keeps the original start time.
    expect(stateAfter([cmd.started('backup', { at: at(9), resumed: true })], backupRunning()).steps.backup?.startedAt).toBe(at(3));
  });

  it('refuses progress for a step that is not running', () => {
    expect(refused(decide(backupQueued(), cmd.progress('backup', 'x'))).code).toBe('step.not_running');
  });

  it('success advances the run to the next step', () => {
    const events = accepted(decide(backupRunning(), cmd.succeeded('backup', { at: at(6), summary: 'backup 2 GB' })));
    expect(events).toEqual([
      { type: 'step.succeeded', at: at(6), stepId: 'backup', attempt: 1, summary: 'backup 2 GB', details: undefined },
      { type: 'step.approval_requested', at: at(6), stepId: 'switch', attempt: 1 },
    ]);
  });

  it('success of the last step completes the run', () => {
    const plan = planOfSteps([{ id: 'only', approve: 'dba', action: 'sql' }]);
    const state = stateAfter([startCommand({ plan }), cmd.approve('only', dba1), cmd.started('only')]);
    const events = accepted(decide(state, cmd.succeeded('only', { at: at(8) })));
    expect(types(events)).toEqual(['step.succeeded', 'run.completed']);
    expect(events[1]).toEqual({ type: 'run.completed', at: at(8) });
    expect(stateAfter([cmd.succeeded('only', { at: at(8) })], state)).toMatchObject({ status: 'completed', finishedAt: at(8) });
  });

  it('failure records the code and message and does not advance', () => {
    const events = accepted(decide(backupRunning(), cmd.failed('backup', { at: at(5), code: 'shell.exit', message: 'exit 2' })));
    expect(events).toEqual([{ type: 'step.failed', at: at(5), stepId: 'backup', attempt: 1, code: 'shell.exit', message: 'exit 2' }]);
    const state = stateAfter([cmd.failed('backup', { at: at(5), code: 'shell.exit', message: 'exit 2' })], backupRunning());
    expect(state.steps.backup).toMatchObject({ status: 'failed', error: { code: 'shell.exit', message: 'exit 2' }, finishedAt: at(5) });
    expect(state.steps.switch?.status).toBe('pending');
  });

  it('refuses a success report for a step that already failed', () => {
    expect(refused(decide(backupFailed(), cmd.succeeded('backup'))).code).toBe('step.not_running');
  });
});

describe('decide: retry', () => {
  it('is refused unless the step failed or was rejected', () => {
    const r = refused(decide(backupQueued(), cmd.retry('backup', dba1)));
    expect(r).toMatchObject({ code: 'step.not_retryable', message: '"Back up the source" can be retried only after it failed or was rejected; it is queued.' });
    expect(refused(decide(startedRun(), cmd.retry('ready', dba1))).message).toContain('it is awaiting approval');
  });

  it('starts attempt 2 and counts the retrier’s click as the approval', () => {
    const events = accepted(decide(backupFailed(), cmd.retry('backup', dba1, { at: at(6) })));
    expect(events).toEqual([
      { type: 'step.retried', at: at(6), stepId: 'backup', attempt: 2, by: dba1 },
      { type: 'step.approved', at: at(6), stepId: 'backup', attempt: 2, by: dba1 },
      { type: 'step.queued', at: at(6), stepId: 'backup', attempt: 2, jobId: 'run-demo-1__backup__2' },
    ]);
    const state = stateAfter([cmd.retry('backup', dba1, { at: at(6) })], backupFailed());
    expect(state.steps.backup).toMatchObject({ status: 'queued', attempt: 2, error: null, jobId: 'run-demo-1__backup__2' });
  });

  it('does not count the click of a requester who may not approve: the step waits for another member', () => {
    const plan = planOfSteps([{ id: 'sign', title: 'Sign off', approve: 'lead', action: 'sql' }]);
    const failed = stateAfter([startCommand({ plan, actor: { id: lead } }), cmd.approve('sign', lead2), cmd.started('sign'), cmd.failed('sign')]);
    const events = accepted(decide(failed, cmd.retry('sign', lead, { at: at(6) })));
    expect(events).toEqual([{ type: 'step.retried', at: at(6), stepId: 'sign', attempt: 2, by: lead }]);
    const after = stateAfter([cmd.retry('sign', lead, { at: at(6) })], failed);
    expect(after.steps.sign).toMatchObject({ status: 'awaiting_approval', attempt: 2, approvals: [], requestedAt: at(6) });
    expect(types(accepted(decide(after, cmd.approve('sign', lead2, { attempt: 2 }))))).toEqual(['step.approved', 'step.queued']);
  });

  it('a retried step refuses buttons of the earlier attempt', () => {
    const state = stateAfter([cmd.retry('backup', dba1)], backupFailed());
    expect(refused(decide(state, cmd.succeeded('backup', { attempt: 1 }))).code).toBe('step.stale_attempt');
  });

  it('refuses a retry click from an earlier attempt', () => {
    const twice = stateAfter([cmd.retry('backup', dba1), cmd.started('backup', { attempt: 2 }), cmd.failed('backup', { attempt: 2 })], backupFailed());
    expect(refused(decide(twice, cmd.retry('backup', dba1, { attempt: 1 }))).code).toBe('step.stale_attempt');
    expect(accepted(decide(twice, cmd.retry('backup', dba1, { attempt: 2 })))[0]).toMatchObject({ type: 'step.retried', attempt: 3 });
  });

  it('is allowed after a rejection', () => {
    const state = stateAfter([cmd.reject('ready', dba1)], startedRun());
    expect(types(accepted(decide(state, cmd.retry('ready', dba2))))).toEqual(['step.retried', 'step.approved', 'step.succeeded', 'step.approval_requested']);
  });

  it('with min_approvals 2 the retrier counts as one of the two', () => {
    const plan = makePlan({ roles: { dba: { minApprovals: 2 } } });
    const failed = stateAfter(
      [startCommand({ plan }), cmd.approve('ready', dba1), cmd.approve('ready', dba2), cmd.approve('backup', dba1), cmd.approve('backup', dba2), cmd.started('backup'), cmd.failed('backup')],
    );
    expect(types(accepted(decide(failed, cmd.retry('backup', dba1))))).toEqual(['step.retried', 'step.approved']);
  });
});

describe('decide: skip', () => {
  it('is refused when the runbook does not allow skipping the step', () => {
    expect(refused(decide(startedRun(), cmd.skip('ready', lead)))).toMatchObject({
      code: 'step.not_skippable',
      message: 'The runbook does not allow skipping "Team ready".',
    });
  });

  it('is allowed only to roles in skippable_by, even for members of the approving role', () => {
    const r = refused(decide(atBackup(), cmd.skip('backup', dba1)));
    expect(r).toMatchObject({ code: 'role.not_member', message: 'Only Migration lead (<@ULEAD>, <@ULEAD2>) may skip "Back up the source".' });
  });

  it('records who skipped and why, and advances to the next step', () => {
    const events = accepted(decide(atBackup(), cmd.skip('backup', lead2, 'done by hand', { at: at(3) })));
    expect(events).toEqual([
      { type: 'step.skipped', at: at(3), stepId: 'backup', by: lead2, reason: 'done by hand' },
      { type: 'step.approval_requested', at: at(3), stepId: 'switch', attempt: 1 },
    ]);
    const state = stateAfter([cmd.skip('backup', lead2, 'done by hand', { at: at(3) })], atBackup());
    expect(state.steps.backup).toMatchObject({ status: 'skipped', skipped: { by: lead2, at: at(3), reason: 'done by hand' }, finishedAt: at(3) });
  });

  it('skips a failed step and moves on', () => {
    expect(types(accepted(decide(backupFailed(), cmd.skip('backup', lead))))).toEqual(['step.skipped', 'step.approval_requested']);
  });

  it('is refused for a step not reached yet or already queued', () => {
    expect(refused(decide(startedRun(), cmd.skip('backup', lead))).code).toBe('step.not_skippable_now');
    expect(refused(decide(backupQueued(), cmd.skip('backup', lead))).code).toBe('step.not_skippable_now');
  });

  it('skipping the last step completes the run', () => {
    const plan = planOfSteps([{ id: 'only', approve: 'dba', action: 'sql', skippableBy: ['lead'] }]);
    expect(types(accepted(decide(startedRun({ plan }), cmd.skip('only', lead2))))).toEqual(['step.skipped', 'run.completed']);
  });
});

describe('decide: pause and resume', () => {
  const paused = (): RunState => stateAfter([cmd.pause(dba1, 'replica lag', { at: at(1) })], startedRun());

  it('pause records who paused, when and why', () => {
    expect(accepted(decide(startedRun(), cmd.pause(dba1, 'replica lag', { at: at(1) })))).toEqual([
      { type: 'run.paused', at: at(1), by: dba1, reason: 'replica lag' },
    ]);
    expect(paused()).toMatchObject({ status: 'paused', paused: { by: dba1, at: at(1), reason: 'replica lag' } });
  });

  it('refuses pausing twice, naming who paused and since when', () => {
    expect(refused(decide(paused(), cmd.pause(lead)))).toMatchObject({
      code: 'run.already_paused',
      message: 'The run is already paused by <@UDBA1> since 22:01 UTC.',
    });
  });

  it('refuses approvals while paused, naming who paused', () => {
    expect(refused(decide(paused(), cmd.approve('ready', dba2)))).toMatchObject({
      code: 'run.paused',
      message: 'The run is paused by <@UDBA1> since 22:01 UTC; resume it first.',
    });
  });

  it('still lets a member hold a step while paused', () => {
    expect(types(accepted(decide(paused(), cmd.hold('ready', dba2))))).toEqual(['step.held']);
  });

  it('a step finishing while paused does not request the next one; resume does', () => {
    const whilePaused = stateAfter([cmd.pause(lead, 'dinner', { at: at(4) })], backupRunning());
    const finished = accepted(decide(whilePaused, cmd.succeeded('backup', { at: at(5) })));
    expect(types(finished)).toEqual(['step.succeeded']);
    const after = stateAfter([cmd.succeeded('backup', { at: at(5) })], whilePaused);
    expect(after.steps.switch?.status).toBe('pending');
    const resumed = accepted(decide(after, cmd.resume(owner, { at: at(9) })));
    expect(resumed).toEqual([
      { type: 'run.resumed', at: at(9), by: owner },
      { type: 'step.approval_requested', at: at(9), stepId: 'switch', attempt: 1 },
    ]);
  });

  it('the last step finishing while paused completes the run on resume', () => {
    const plan = planOfSteps([{ id: 'only', approve: 'dba', action: 'sql' }]);
    const state = stateAfter([startCommand({ plan }), cmd.approve('only', dba1), cmd.started('only'), cmd.pause(lead), cmd.succeeded('only')]);
    expect(state.status).toBe('paused');
    expect(types(accepted(decide(state, cmd.resume(lead))))).toEqual(['run.resumed', 'run.completed']);
  });

  it('resume while the current step still waits requests nothing new', () => {
    expect(types(accepted(decide(paused(), cmd.resume(lead))))).toEqual(['run.resumed']);
  });

  it('refuses resume when the run is not paused', () => {
    expect(refused(decide(startedRun(), cmd.resume(lead)))).toMatchObject({ code: 'run.not_paused', message: 'The run is not paused.' });
  });

  it('refuses pause and resume to users outside their permission lists', () => {
    const plan = makePlan({ permissions: { pause: ['lead'], resume: ['lead'] } });
    expect(refused(decide(startedRun({ plan }), cmd.pause(dba1))).code).toBe('role.not_permitted');
    const p = stateAfter([cmd.pause(lead)], startedRun({ plan }));
    expect(refused(decide(p, cmd.resume(owner))).message).toBe('Only members of Migration lead may resume a run of demo; you are not in that role.');
  });
});

describe('decide: abort', () => {
  const plan = makePlan({ permissions: { abort: ['lead'] } });

  it('is refused to users outside permissions.abort', () => {
    expect(refused(decide(startedRun({ plan }), cmd.abort(dba1)))).toMatchObject({
      code: 'role.not_permitted',
      message: 'Only members of Migration lead may abort a run of demo; you are not in that role.',
    });
  });

  it('records who aborted and why, and finishes the run', () => {
    const events = accepted(decide(startedRun({ plan }), cmd.abort(lead2, 'source unreachable', { at: at(7) })));
    expect(events).toEqual([{ type: 'run.aborted', at: at(7), by: lead2, reason: 'source unreachable' }]);
    const state = stateAfter([cmd.abort(lead2, 'source unreachable', { at: at(7) })], startedRun({ plan }));
    expect(state).toMatchObject({ status: 'aborted', finishedAt: at(7), abort: { by: lead2, reason: 'source unreachable' } });
  });

  it('refuses everything after an abort as finished, with the reason', () => {
    const state = stateAfter([cmd.abort(lead, 'source unreachable')], backupRunning());
    const after: Command[] = [
      cmd.approve('backup', dba1),
      cmd.hold('backup', dba1),
      cmd.retry('backup', dba1),
      cmd.skip('backup', lead),
      cmd.pause(lead),
      cmd.resume(lead),
      cmd.abort(lead),
      cmd.progress('backup', 'still going'),
      cmd.succeeded('backup'),
      cmd.failed('backup'),
    ];
    for (const c of after) {
      expect(refused(decide(state, c)), c.type).toEqual({
        ok: false,
        code: 'run.finished',
        message: 'This run is aborted (source unreachable); nothing more can happen in it.',
      });
    }
  });

  it('refuses everything after completion as finished', () => {
    const plan1 = planOfSteps([{ id: 'only', approve: 'dba', action: 'manual' }]);
    const state = stateAfter([startCommand({ plan: plan1 }), cmd.approve('only', dba1)]);
    expect(state.status).toBe('completed');
    expect(refused(decide(state, cmd.pause(lead))).message).toBe('This run is completed; nothing more can happen in it.');
  });
});

describe('decide: invariants', () => {
  /** A run walked through every kind of command, with the states in between. */
  function everyCommand(): Command[] {
    return [
      startCommand({ plan: makePlan({ roles: { dba: { minApprovals: 2 } } }) }),
      cmd.hold('ready', dba1, 'wait', { at: at(1) }),
      cmd.release('ready', dba1, { at: at(2) }),
      cmd.approve('ready', dba1, { at: at(3) }),
      cmd.approve('ready', dba1, { at: at(3) }), // refused: duplicate
      cmd.approve('ready', dba2, { at: at(4) }),
      cmd.pause(owner, 'lunch', { at: at(5) }),
      cmd.approve('backup', dba1, { at: at(5) }), // refused: paused
      cmd.resume(owner, { at: at(6) }),
      cmd.approve('backup', dba1, { at: at(7) }),
      cmd.approve('backup', dba2, { at: at(8) }),
      cmd.started('backup', { at: at(9) }),
      cmd.progress('backup', 'half', { at: at(10) }),
      cmd.failed('backup', { at: at(11) }),
      cmd.retry('backup', dba1, { at: at(12) }),
      cmd.skip('backup', lead, 'by hand', { at: at(13) }),
      cmd.reject('switch', owner, 'not yet', { at: at(14) }),
      cmd.retry('switch', owner, { at: at(15) }),
      cmd.started('switch', { at: at(16), attempt: 2 }),
      cmd.succeeded('switch', { at: at(17), attempt: 2 }),
      cmd.approve('signoff', lead2, { at: at(18) }),
      cmd.abort(lead, 'too late', { at: at(19) }), // refused: completed
    ];
  }

  it('walks a whole run with every command kind to completion', () => {
    const { state, refusals } = decideAll(null, everyCommand());
    expect(refusals.map((r) => r.code)).toEqual(['approval.duplicate', 'run.paused', 'run.finished']);
    expect(state?.status).toBe('completed');
    expect(state?.order.map((id) => state.steps[id]?.status)).toEqual(['succeeded', 'skipped', 'succeeded', 'succeeded']);
  });

  it('is deterministic: the same state and command give the same decision', () => {
    let state: RunState | null = null;
    for (const c of everyCommand()) {
      const first = decide(state, c);
      expect(decide(state, c)).toEqual(first);
      expect(decide(structuredClone(state), structuredClone(c))).toEqual(first);
      if (first.ok) state = decideAll(state, [c]).state;
    }
  });

  it('never mutates the state it is given (deep-frozen input)', () => {
    let state: RunState | null = null;
    for (const c of everyCommand()) {
      const frozen: RunState | null = deepFreeze(state);
      const snapshot = structuredClone(frozen);
      const frozenCommand = deepFreeze(structuredClone(c));
      expect(() => decide(frozen, frozenCommand)).not.toThrow();
      expect(frozen).toEqual(snapshot);
      state = decideAll(frozen, [frozenCommand]).state;
    }
  });

  it('never throws, and refuses malformed or out-of-place commands with a code and a sentence', () => {
    const brokenPlan = planOfSteps([{ id: 'orphan', approve: 'nobody', action: 'sql' }]);
    const cases: Array<[RunState | null, Command]> = [
      [null, cmd.approve('ready', dba1)],
      [null, cmd.succeeded('ready')],
      [startedRun(), cmd.approve('', dba1)],
      [startedRun(), cmd.succeeded('ghost')],
      [startedRun(), cmd.skip('ghost', lead)],
      [startedRun(), { type: 'approve', at: Number.NaN, actor: { id: '' }, stepId: 'ready', attempt: -1 }],
      [startedRun({ plan: brokenPlan }), cmd.approve('orphan', dba1)],
      [startedRun(), { type: 'report.started', at: at(1), stepId: 'ready', attempt: 1, resumed: true }],
    ];
    for (const [state, command] of cases) {
      let decision: Decision | undefined;
      expect(() => {
        decision = decide(state, command);
      }).not.toThrow();
      const r = refused(decision as Decision);
      expect(r.code).toMatch(/^[a-z]+\.[a-z_]+$/);
      expect(r.message.length).toBeGreaterThan(10);
    }
    expect(refused(decide(startedRun({ plan: brokenPlan }), cmd.approve('orphan', dba1))).code).toBe('role.unknown');
  });

  it('records requestedAt, approvedAt, startedAt and finishedAt from the commands’ times', () => {
    const state = stateAfter([
      startCommand({ at: T0 }),
      cmd.approve('ready', dba1, { at: at(2) }),
      cmd.approve('backup', dba2, { at: at(5) }),
      cmd.started('backup', { at: at(6) }),
      cmd.succeeded('backup', { at: at(9) }),
    ]);
    expect(state.startedAt).toBe(T0);
    expect(state.steps.ready).toMatchObject({ requestedAt: T0, approvedAt: at(2), finishedAt: at(2), startedAt: null });
    expect(state.steps.backup).toMatchObject({ requestedAt: at(2), approvedAt: at(5), startedAt: at(6), finishedAt: at(9) });
    expect(state.steps.switch).toMatchObject({ status: 'awaiting_approval', requestedAt: at(9), approvedAt: null });
  });
});

describe('decide: stale buttons and unreachable quorums (review of issue 2)', () => {
  it('refuses a Hold or Skip button from an earlier attempt instead of acting on the current one', () => {
    // Two DBA approvals needed, so after the retry (one approval) attempt 2 waits for another.
    const plan = planOfSteps([{ id: 'load', approve: 'dba', action: 'sql', skippableBy: ['lead'] }], { roles: { dba: { minApprovals: 2 } } });
    const failedOnce = stateAfter([
      startCommand({ plan }),
      cmd.approve('load', USERS.dba1),
      cmd.approve('load', USERS.dba2),
      cmd.started('load'),
      cmd.failed('load'),
      cmd.retry('load', USERS.dba2, { attempt: 1, at: at(5) }),
    ]);
    expect(failedOnce.steps['load']?.attempt).toBe(2);
    const staleHold = decide(failedOnce, cmd.hold('load', USERS.dba1, 'old button', { attempt: 1 }));
    expect(staleHold).toMatchObject({ ok: false, code: 'step.stale_attempt' });
    const staleSkip = decide(failedOnce, cmd.skip('load', USERS.lead, 'old button', { attempt: 1 }));
    expect(staleSkip).toMatchObject({ ok: false, code: 'step.stale_attempt' });
    // From the slash command (no attempt) the hold applies to the current attempt.
    expect(decide(failedOnce, cmd.hold('load', USERS.dba1)).ok).toBe(true);
  });

  it('refuses to start a run whose requester is needed for a quorum they may not give', () => {
    const plan = makePlan({ roles: { dba: { minApprovals: 2 } } });
    const refused = decide(null, startCommand({ plan, actor: actor(USERS.dba1) }));
    expect(refused).toMatchObject({ ok: false, code: 'approval.unreachable' });
    if (!refused.ok) expect(refused.message).toContain('Database administrator');
    // Started by someone outside the role, the same plan is fine.
    expect(decide(null, startCommand({ plan, actor: actor(USERS.lead) })).ok).toBe(true);
  });
});
