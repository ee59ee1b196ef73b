import { describe, expect, it } from 'vitest';
import { decide, type Command, type Decision } from '../../runbook/decide.js';
import { owedEffects, type Effect } from '../../runbook/effects.js';
import type { RunState } from '../../runbook/state.js';
import { at, cmd, deepFreeze, makeFollowUp, planOfSteps, RUN_ID, startCommand, stateAfter, USERS } from '../support/runbook-factory.js';

const { lead, lead2, dba1, dba2 } = USERS;

function accepted(decision: Decision): Extract<Decision, { ok: true }> {
  if (!decision.ok) throw new Error(`expected acceptance, got ${decision.code}: ${decision.message}`);
  return decision;
}

const ids = (effects: readonly Effect[]): string[] => effects.map((e) => e.id);

/** The default plan, started and its manual "ready" approved: "backup" (shell) waits for a DBA. */
const atBackup = (): RunState => stateAfter([startCommand(), cmd.approve('ready', dba1)]);

/** One manual step and two follow-ups: approving the step completes the run. */
const followUpPlan = planOfSteps([{ id: 'signoff', approve: 'lead', action: 'manual' }], {
  followUps: [makeFollowUp({ id: 'backup' }), makeFollowUp({ id: 'archive', role: 'lead' })],
});

describe('decide returns effects as data (issue 12)', () => {
  it('performs nothing: the state it is given is untouched, and deciding twice gives the same effects, ids included', () => {
    const state = deepFreeze(atBackup());
    const before = structuredClone(state);
    const first = accepted(decide(state, cmd.approve('backup', dba2)));
    const second = accepted(decide(state, cmd.approve('backup', dba2)));
    expect(state).toEqual(before);
    expect(first.effects).toEqual([
      { type: 'step.enqueue', id: 'step.enqueue:run-demo-1__backup__1', job: { jobId: 'run-demo-1__backup__1', runId: RUN_ID, stepId: 'backup', attempt: 1 } },
    ]);
    expect(second).toEqual(first);
    // The run after the events comes with the decision, so the caller need not fold again.
    expect(first.state.steps.backup?.status).toBe('queued');
    expect(first.state.version).toBe(state.version + 2);
  });

  it('a refusal carries no effects', () => {
    const decision = decide(atBackup(), cmd.approve('backup', USERS.owner));
    expect(decision).toEqual({ ok: false, code: 'role.not_member', message: expect.any(String) });
  });

  it('lists only what the decision changes: reports on a queued or running step enqueue nothing again', () => {
    const queued = stateAfter([cmd.approve('backup', dba2)], atBackup());
    const started = accepted(decide(queued, cmd.started('backup')));
    expect(started.effects).toEqual([]);
    expect(accepted(decide(started.state, cmd.progress('backup', 'half way'))).effects).toEqual([]);
  });

  it('a retry enqueues the new attempt under a new id', () => {
    const failed = stateAfter([cmd.approve('backup', dba2), cmd.started('backup'), cmd.failed('backup')], atBackup());
    expect(ids(accepted(decide(failed, cmd.retry('backup', dba1))).effects)).toEqual(['step.enqueue:run-demo-1__backup__2']);
  });

  it('aborting frees the runbook’s slot, for this run only', () => {
    const decision = accepted(decide(atBackup(), cmd.abort(lead, 'window closed')));
    expect(decision.effects).toEqual([{ type: 'slot.release', id: 'slot.release:demo:run-demo-1', runbook: 'demo', runId: RUN_ID }]);
  });

  it('completing a run with follow-ups lists it before freeing the slot; the last Done unlists it', () => {
    const started = stateAfter([startCommand({ plan: followUpPlan })]);
    const completed = accepted(decide(started, cmd.approve('signoff', lead2)));
    expect(completed.state.status).toBe('completed');
    expect(ids(completed.effects)).toEqual(['follow_ups.list:run-demo-1', 'slot.release:demo:run-demo-1']);

    const due = at(1) + 86_400_000;
    const first = accepted(decide(completed.state, { type: 'follow_up.done', at: due, actor: { id: dba1 }, followUpId: 'backup' }));
    expect(first.effects).toEqual([]);
    const last = accepted(decide(first.state, { type: 'follow_up.done', at: due, actor: { id: lead }, followUpId: 'archive' }));
    expect(last.effects).toEqual([{ type: 'follow_ups.unlist', id: 'follow_ups.unlist:run-demo-1', runId: RUN_ID }]);
  });

  it('a completed run without follow-ups is unlisted (a no-op) and its slot freed', () => {
    const started = stateAfter([startCommand({ plan: planOfSteps([{ id: 'only', approve: 'lead', action: 'manual' }]) })]);
    expect(ids(accepted(decide(started, cmd.approve('only', lead2))).effects)).toEqual(['follow_ups.unlist:run-demo-1', 'slot.release:demo:run-demo-1']);
  });

  it('each decision’s effects are among those the run is owed afterwards: the reconciler derives the same list', () => {
    const commands: Command[] = [
      startCommand({ plan: followUpPlan }),
      cmd.approve('signoff', lead2),
      { type: 'follow_up.done', at: at(2) + 86_400_000, actor: { id: dba1 }, followUpId: 'backup' },
    ];
    let state: RunState | null = null;
    for (const command of commands) {
      const decision = accepted(decide(state, command));
      const owed = owedEffects(decision.state);
      for (const effect of decision.effects) expect(owed).toContainEqual(effect);
      state = decision.state;
    }
  });
});

describe('owedEffects', () => {
  it('a run with a queued step owes its job, whatever happened since in other steps', () => {
    const state = stateAfter([cmd.approve('backup', dba2)], atBackup());
    expect(ids(owedEffects(state))).toEqual(['step.enqueue:run-demo-1__backup__1']);
    expect(owedEffects(stateAfter([cmd.started('backup')], state))).toEqual([]);
  });

  it('an active run waiting for approval owes nothing', () => {
    expect(owedEffects(atBackup())).toEqual([]);
  });
});
