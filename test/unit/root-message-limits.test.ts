import { describe, expect, it } from 'vitest';
import { renderRoot } from '../../bot/render/run-blocks.js';
import type { PlanPhase } from '../../runbook/plan.js';
import type { RunState } from '../../runbook/state.js';
import { checkBlocksArg } from '../../workspace/blocks.js';
import { at, makePlan, makeStep, stateAfter, startCommand, USERS } from '../support/runbook-factory.js';

/** `phaseCount` phases of `perPhase` manual steps each, approved by the lead. */
function bigPlanRun(phaseCount: number, perPhase: number): RunState {
  const phases: PlanPhase[] = Array.from({ length: phaseCount }, (_, p) => ({
    id: `phase-${p}`,
    title: `Phase ${p}`,
    plannedSeconds: perPhase * 60,
    steps: Array.from({ length: perPhase }, (_, i) =>
      makeStep({ id: `step-${p}-${i}`, title: `Check item ${p * perPhase + i} of the cutover checklist`, phaseId: `phase-${p}`, approve: 'lead', action: 'manual', plannedSeconds: 60 }),
    ),
  }));
  return stateAfter([startCommand({ plan: makePlan({ phases }) })]);
}

/**
 * The first `count` steps done and the next waiting, written straight into the
 * state: deciding 1,500 approvals one by one would cost the test minutes.
 */
function approveFirst(state: RunState, count: number): RunState {
  const steps = { ...state.steps };
  state.order.forEach((id, i) => {
    const step = steps[id];
    if (!step || i > count) return;
    const approvedAt = at(2 + i / 100);
    steps[id] = i < count
      ? { ...step, status: 'succeeded', requestedAt: approvedAt, approvedAt, finishedAt: approvedAt, approvals: [{ by: USERS.lead2, at: approvedAt }] }
      : { ...step, status: 'awaiting_approval', requestedAt: approvedAt };
  });
  return { ...state, steps };
}

const rootText = (state: RunState): string => JSON.stringify(renderRoot(state, at(60)).blocks);

describe('the root message of a big run fits Slack (issue 14: a 3,000-step root was refused, so the run had no messages)', () => {
  it.each([
    ['30 phases of 100 steps, none done', 30, 100, 0],
    ['30 phases of 100 steps, 1,537 done', 30, 100, 1537],
    ['one phase of 3,000 steps, 1,537 done', 1, 3000, 1537],
    ['600 phases of 5 steps, 1,537 done', 600, 5, 1537],
  ])('%s: Slack accepts its blocks', (_name, phases, perPhase, done) => {
    const state = approveFirst(bigPlanRun(phases, perPhase), done);
    const checked = checkBlocksArg(JSON.stringify(renderRoot(state, at(60)).blocks));
    expect(checked.ok).toBe(true);
  });

  it('names the step waiting for approval, whatever the phase it is in', () => {
    const state = approveFirst(bigPlanRun(30, 100), 1537);
    const waiting = state.order[1537] ?? '';
    expect(state.steps[waiting]?.status).toBe('awaiting_approval');
    expect(rootText(state)).toContain('Check item 1537 of the cutover checklist — _waiting for approval_');
  });

  it('summarises finished and untouched phases by count, and keeps every phase named', () => {
    const text = rootText(approveFirst(bigPlanRun(30, 100), 1537));
    expect(text).toContain('*Phase 0* (planned 1h 40m) — 100/100 done');
    expect(text).toContain('*Phase 29* (planned 1h 40m) — 0/100 done');
    for (let p = 0; p < 30; p++) expect(text).toContain(`*Phase ${p}*`);
  });

  it('folds the done stretch of one huge phase into a count and keeps the waiting step', () => {
    const text = rootText(approveFirst(bigPlanRun(1, 3000), 1537));
    expect(text).toContain('✅ 1537 steps done');
    expect(text).toContain('Check item 1537 of the cutover checklist — _waiting for approval_');
  });

  it('a small run still lists every step in full', () => {
    const text = rootText(approveFirst(bigPlanRun(2, 3), 2));
    for (let i = 0; i < 6; i++) expect(text).toContain(`Check item ${i} of the cutover checklist`);
  });
});
