import { repeatsUntilAcknowledged } from './alert-rounds.js';
import { formatDuration } from './duration.js';
import { approvalChased } from './escalation.js';
import type { EscalationLevel, RunEvent } from './events.js';
import { findPlanStep } from './plan.js';
import { isMember, mention, type Actor } from './policy.js';
import { isRollbackStep } from './rollback.js';
import { refuse, type Ruling } from './ruling.js';
import { isFinished, type RunState, type StepState } from './state.js';

/**
 * Commands about alerts beyond the first send: the rollback's own alerts, a
 * person acknowledging an alert (its repeats stop), the pager being told an
 * alert resolved, and an approval's timeout holding the step or aborting the
 * run. Decided here to keep decide.ts small; pure.
 */
export type AlertCommand =
  | { type: 'rollback.escalate'; at: number; requestedAt: number; level: EscalationLevel; reason: string; to: string[]; round?: number }
  /** stepId + attempt: an alert of a step; requestedAt: an alert about the rollback request made then. */
  | { type: 'alert.acknowledge'; at: number; actor: Actor; level: EscalationLevel; stepId?: string; attempt?: number; requestedAt?: number }
  | { type: 'alert.resolve'; at: number; stepId?: string; requestedAt?: number }
  | { type: 'approval.timeout'; at: number; stepId: string; attempt: number; timeoutSeconds: number; outcome: 'hold' | 'abort' };

/** The process name alert timeouts act as, in place of a person. */
export const TIMER = 'cutover';

const accept = (events: RunEvent[]): Ruling => ({ ok: true, events });
const clock = (at: number): string => new Date(at).toISOString().slice(11, 16) + ' UTC';

export function decideAlert(state: RunState, c: AlertCommand): Ruling {
  switch (c.type) {
    case 'rollback.escalate':
      return decideRollbackEscalate(state, c);
    case 'alert.acknowledge':
      return c.stepId !== undefined ? acknowledgeStep(state, c, c.stepId) : acknowledgeRollback(state, c);
    case 'alert.resolve':
      return c.stepId !== undefined ? resolveStep(state, c.at, c.stepId) : resolveRollback(state, c.at, c.requestedAt);
    case 'approval.timeout':
      return decideTimeout(state, c);
  }
}

function decideRollbackEscalate(state: RunState, c: Extract<AlertCommand, { type: 'rollback.escalate' }>): Ruling {
  const rb = state.rollback;
  if (!rb || rb.requestedAt !== c.requestedAt) return refuse('escalation.cleared', 'That rollback request is no longer open; no alert is needed.');
  const alerts = state.rollbackAlerts?.requestedAt === c.requestedAt ? state.rollbackAlerts : null;
  const round = c.round ?? 0;
  if (alerts?.sent.some((s) => s.level === c.level && s.round === round)) return refuse('escalation.duplicate', `A ${c.level} (round ${round}) about this rollback was already sent.`);
  if (round > 0 && alerts?.acks.some((a) => a.level === c.level)) return refuse('escalation.acknowledged', `The ${c.level} about this rollback was acknowledged; it is not repeated.`);
  const due = c.level === 'stalled' ? rb.status === 'running' || rb.status === 'failed' : rb.status === 'requested';
  if (!due) return refuse('escalation.cleared', `The rollback is ${rb.status}; no ${c.level} is needed.`);
  return accept([{ type: 'rollback.escalated', at: c.at, requestedAt: c.requestedAt, level: c.level, reason: c.reason, to: c.to, ...(round > 0 ? { round } : {}) }]);
}

/** Anyone with a role in the runbook, or anyone the alert reached (a contact), may acknowledge it. */
function mayAcknowledge(state: RunState, actor: Actor, reached: ReadonlyArray<{ to: string[] }>): boolean {
  return Object.values(state.plan.roles).some((r) => isMember(r, actor)) || reached.some((s) => s.to.includes(actor.id));
}

function acknowledgeStep(state: RunState, c: Extract<AlertCommand, { type: 'alert.acknowledge' }>, stepId: string): Ruling {
  const step = state.steps[stepId];
  const title = findPlanStep(state.plan, stepId)?.title ?? stepId;
  if (!step) return refuse('step.not_found', `This run has no step "${stepId}".`);
  if (!repeatsUntilAcknowledged(c.level)) return refuse('escalation.not_acknowledgeable', `A ${c.level} is said once; there is nothing to acknowledge.`);
  if (c.attempt !== step.attempt) return refuse('step.stale_attempt', `That alert belongs to attempt ${c.attempt ?? '?'}; "${title}" is at attempt ${step.attempt}. Nothing to acknowledge there.`);
  const sends = step.escalations.filter((e) => e.attempt === step.attempt && e.level === c.level);
  if (sends.length === 0) return refuse('escalation.not_sent', `No ${c.level} was sent for "${title}".`);
  const done = (step.acks ?? []).find((a) => a.attempt === step.attempt && a.level === c.level);
  if (done) return refuse('escalation.already_acknowledged', `${mention(done.by)} already acknowledged this ${c.level} at ${clock(done.at)}.`);
  if (!stepAlerting(state, step, c.level)) return refuse('escalation.cleared', `"${title}" is ${step.status.replace('_', ' ')} now; the alert has cleared.`);
  if (!mayAcknowledge(state, c.actor, sends)) return refuse('role.not_member', 'Only people with a role in this runbook, or whom the alert reached, may acknowledge it.');
  return accept([{ type: 'escalation.acknowledged', at: c.at, stepId, attempt: step.attempt, level: c.level, by: c.actor.id }]);
}

function acknowledgeRollback(state: RunState, c: Extract<AlertCommand, { type: 'alert.acknowledge' }>): Ruling {
  const alerts = state.rollbackAlerts;
  if (!alerts || alerts.requestedAt !== c.requestedAt) return refuse('escalation.not_sent', 'No alert about that rollback request was sent.');
  const sends = alerts.sent.filter((s) => s.level === c.level);
  if (!repeatsUntilAcknowledged(c.level) || sends.length === 0) return refuse('escalation.not_sent', `No ${c.level} about that rollback request was sent.`);
  const done = alerts.acks.find((a) => a.level === c.level);
  if (done) return refuse('escalation.already_acknowledged', `${mention(done.by)} already acknowledged this ${c.level} at ${clock(done.at)}.`);
  if (!rollbackAlertHolds(state, alerts.requestedAt, c.level)) return refuse('escalation.cleared', 'That rollback request is no longer waiting or under way as the alert said; it has cleared.');
  if (!mayAcknowledge(state, c.actor, sends)) return refuse('role.not_member', 'Only people with a role in this runbook, or whom the alert reached, may acknowledge it.');
  return accept([{ type: 'rollback.acknowledged', at: c.at, requestedAt: alerts.requestedAt, level: c.level, by: c.actor.id }]);
}

/** Whether the condition a repeating alert of this level is about still holds for the step. */
function stepAlerting(state: RunState, step: StepState, level: EscalationLevel): boolean {
  if (isFinished(state)) return false;
  if (level === 'page') return step.status === 'failed';
  return step.status === 'awaiting_approval' && approvalChased(state, step.id);
}

/** Whether the condition a rollback alert of this level is about still holds for the request made at requestedAt. */
function rollbackAlertHolds(state: RunState, requestedAt: number, level: EscalationLevel): boolean {
  const rb = state.rollback;
  if (isFinished(state) || !rb || rb.requestedAt !== requestedAt) return false;
  return level === 'stalled' ? rb.status === 'running' || rb.status === 'failed' : rb.status === 'requested';
}

/** Owed once a step's repeating alerts, sent since the last resolve, no longer hold (retried, approved, finished…). */
export function stepResolveOwed(state: RunState, step: StepState): boolean {
  const open = step.escalations.filter((e) => repeatsUntilAcknowledged(e.level) && e.at > (step.resolvedAt ?? 0));
  return open.length > 0 && !open.some((e) => e.attempt === step.attempt && stepAlerting(state, step, e.level));
}

/** Owed once the rollback's repeating alerts, sent since the last resolve, no longer hold (approved, cancelled, done…). */
export function rollbackResolveOwed(state: RunState): boolean {
  const alerts = state.rollbackAlerts;
  if (!alerts) return false;
  const open = alerts.sent.filter((s) => repeatsUntilAcknowledged(s.level) && s.at > (alerts.resolvedAt ?? 0));
  return open.length > 0 && !open.some((s) => rollbackAlertHolds(state, alerts.requestedAt, s.level));
}

function resolveStep(state: RunState, at: number, stepId: string): Ruling {
  const step = state.steps[stepId];
  if (!step) return refuse('step.not_found', `This run has no step "${stepId}".`);
  if (!stepResolveOwed(state, step)) return refuse('escalation.not_resolvable', `"${stepId}" has no cleared alert to resolve.`);
  return accept([{ type: 'escalation.resolved', at, stepId }]);
}

function resolveRollback(state: RunState, at: number, requestedAt: number | undefined): Ruling {
  if (!state.rollbackAlerts || state.rollbackAlerts.requestedAt !== requestedAt || !rollbackResolveOwed(state)) {
    return refuse('escalation.not_resolvable', 'That rollback has no cleared alert to resolve.');
  }
  return accept([{ type: 'rollback.resolved', at, requestedAt }]);
}

function decideTimeout(state: RunState, c: Extract<AlertCommand, { type: 'approval.timeout' }>): Ruling {
  const step = state.steps[c.stepId];
  const planStep = findPlanStep(state.plan, c.stepId);
  if (!step || !planStep) return refuse('step.not_found', `This run has no step "${c.stepId}".`);
  if (c.attempt !== step.attempt) return refuse('step.stale_attempt', `Timeout for attempt ${c.attempt} of "${c.stepId}" ignored: the step is at attempt ${step.attempt}.`);
  // A rollback's steps are never held or aborted by a timer; their timeout escalates (runbook/escalation.ts).
  if (isRollbackStep(state, step.id)) return refuse('timeout.rollback_step', `"${planStep.title}" belongs to the rollback; its timeout escalates instead.`);
  if (step.status !== 'awaiting_approval' || step.requestedAt === null || !approvalChased(state, step.id)) return refuse('escalation.cleared', `"${planStep.title}" is not waiting for approval; it has not timed out.`);
  const waited = (c.at - step.requestedAt) / 1000;
  if (waited < c.timeoutSeconds) return refuse('timeout.not_yet', `"${planStep.title}" has waited ${formatDuration(waited)}, less than its approval timeout.`);
  const reason = `approval timed out: "${planStep.title}" waited ${formatDuration(waited)} (approval_timeout ${formatDuration(c.timeoutSeconds)}, on_timeout: ${c.outcome})`;
  if (c.outcome === 'hold') return accept([{ type: 'step.held', at: c.at, stepId: step.id, by: TIMER, reason }]);
  return accept([{ type: 'run.aborted', at: c.at, by: TIMER, reason }]);
}
