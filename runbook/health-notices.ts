import { escalationTargets, type Contact, type DueEscalation, type EscalationPolicy } from './escalation.js';
import { blockedReason, clearedReason } from './health-alert.js';
import { findPlanStep } from './plan.js';
import { isFinished, type RunState } from './state.js';

/**
 * The health alerts and "cleared" notices owed now, pure. One `blocked` per
 * episode (a stretch of samples with a wait over threshold) while it is open
 * and its step runs; one `unblocked` per episode whose alert went out, once
 * the wait cleared, the step ended or the run did. An episode that opened and
 * cleared before its alert could be sent yields nothing: it is over.
 */
export function dueHealthNotices(state: RunState, policy: EscalationPolicy, contacts: readonly Contact[]): DueEscalation[] {
  const out: DueEscalation[] = [];
  const finished = isFinished(state);
  for (const step of Object.values(state.steps)) {
    const planStep = findPlanStep(state.plan, step.id);
    if (!planStep || !step.health) continue;
    const sent = (level: 'blocked' | 'unblocked', n: number): boolean =>
      step.escalations.some((e) => e.attempt === step.attempt && e.level === level && e.episode === n);
    for (const episode of step.health.episodes) {
      const open = episode.clearedAt === null;
      if (!sent('blocked', episode.n)) {
        if (open && step.status === 'running' && !finished) {
          const reason = blockedReason(planStep.title, episode);
          out.push({ stepId: step.id, attempt: step.attempt, level: 'blocked', reason, episode: episode.n, ...escalationTargets(state, planStep, step, policy, contacts, 'blocked') });
        }
      } else if (!sent('unblocked', episode.n) && (!open || step.status !== 'running' || finished)) {
        const reason = clearedReason(planStep.title, episode, { stepSucceeded: step.status === 'succeeded', runEnded: finished });
        out.push({ stepId: step.id, attempt: step.attempt, level: 'unblocked', reason, episode: episode.n, ...escalationTargets(state, planStep, step, policy, contacts, 'unblocked') });
      }
    }
  }
  return out;
}
