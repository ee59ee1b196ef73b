import { repeatsUntilAcknowledged } from './alert-rounds.js';
import { decide, type Command } from './decide.js';
import type { EscalationLevel } from './events.js';
import { findPlanStep } from './plan.js';
import { isMember, type Actor } from './policy.js';
import { isFinished, type RunState } from './state.js';

/** One thing a person could do now on a run: approve a step, approve a rollback, acknowledge an alert. */
export type WaitingItem =
  | { kind: 'approval'; runId: string; stepId: string; title: string; role: string; approvals: number; needed: number; since: number | null }
  | { kind: 'rollback'; runId: string; scenario: string; requestedBy: string; reason: string; since: number }
  | { kind: 'acknowledge'; runId: string; stepId: string | null; title: string; level: EscalationLevel; since: number };

/**
 * What is waiting for this person on a run, decided by the core itself: an
 * item is listed only when the command it stands for would be accepted now
 * (role membership, separation of duties, N-of-M, gates, a paused run, an
 * alert already acknowledged — every rule decide applies). Pure: the
 * preview performs nothing.
 */
export function waitingFor(state: RunState, actor: Actor, at: number): WaitingItem[] {
  if (isFinished(state)) return [];
  const accepted = (command: Exclude<Command, { type: 'start' }>): boolean => decide(state, command).ok;
  const items: WaitingItem[] = [];
  for (const step of Object.values(state.steps)) {
    const planStep = findPlanStep(state.plan, step.id);
    if (!planStep) continue;
    if (step.status === 'awaiting_approval' && accepted({ type: 'approve', at, actor, stepId: step.id, attempt: step.attempt })) {
      const role = state.plan.roles[planStep.approve];
      items.push({
        kind: 'approval', runId: state.runId, stepId: step.id, title: planStep.title, role: role?.title ?? planStep.approve,
        approvals: step.approvals.length, needed: role?.minApprovals ?? 1, since: step.requestedAt,
      });
    }
    const levels = new Set(step.escalations.filter((e) => e.attempt === step.attempt && repeatsUntilAcknowledged(e.level)).map((e) => e.level));
    for (const level of levels) {
      if (accepted({ type: 'alert.acknowledge', at, actor, level, stepId: step.id, attempt: step.attempt })) {
        const first = step.escalations.find((e) => e.attempt === step.attempt && e.level === level);
        items.push({ kind: 'acknowledge', runId: state.runId, stepId: step.id, title: planStep.title, level, since: first?.at ?? at });
      }
    }
  }
  const rb = state.rollback;
  if (rb?.status === 'requested' && accepted({ type: 'rollback.approve', at, actor, requestedAt: rb.requestedAt })) {
    items.push({ kind: 'rollback', runId: state.runId, scenario: rb.scenario, requestedBy: rb.requestedBy, reason: rb.reason, since: rb.requestedAt });
  }
  const alerts = state.rollbackAlerts;
  for (const level of new Set((alerts?.sent ?? []).filter((s) => repeatsUntilAcknowledged(s.level)).map((s) => s.level))) {
    if (alerts && accepted({ type: 'alert.acknowledge', at, actor, level, requestedAt: alerts.requestedAt })) {
      items.push({ kind: 'acknowledge', runId: state.runId, stepId: null, title: `rollback ${rb?.scenario ?? ''}`.trim(), level, since: alerts.sent[0]?.at ?? at });
    }
  }
  return items;
}

/** Whether a person has a part in a run: started it, holds one of its roles, or approved or acted in it. */
export function isInvolved(state: RunState, actor: Actor): boolean {
  if (state.startedBy === actor.id || state.rollback?.requestedBy === actor.id) return true;
  if (Object.values(state.plan.roles).some((r) => isMember(r, actor))) return true;
  return Object.values(state.steps).some((s) => s.approvals.some((a) => a.by === actor.id));
}
