import { refuse, type Ruling } from './ruling.js';
import type { EscalationLevel, GoNoGoDecision, RunEvent } from './events.js';
import { describeRole, isMember, mention, type Actor } from './policy.js';
import { approvalChased } from './escalation.js';
import { rollbackRequest } from './rollback.js';
import { isFinished, type RunState, type StepState } from './state.js';

/** Commands of the escalation sweep and of the go/no-go prompt; decided here to keep decide.ts small. */
export type EscalationCommand =
  | { type: 'escalate'; at: number; stepId: string; attempt: number; level: EscalationLevel; reason: string; to: string[]; episode?: number; round?: number }
  | { type: 'go_no_go.request'; at: number; role: string; reason: string; to: string[] }
  | { type: 'go_no_go.decide'; at: number; actor: Actor; decision: GoNoGoDecision };

const accept = (events: RunEvent[]): Ruling => ({ ok: true, events });

/** The condition each level is about; once it no longer holds the escalation is moot. */
function stillDue(state: RunState, step: StepState, level: EscalationLevel, episode: number | undefined): boolean {
  const watched = step.health?.episodes.find((e) => e.n === episode);
  switch (level) {
    case 'blocked':
      return step.status === 'running' && !isFinished(state) && watched !== undefined && watched.clearedAt === null;
    // Owed only for an episode whose alert went out, once the wait (or the step, or the run) is over.
    case 'unblocked':
      return (
        watched !== undefined &&
        step.escalations.some((e) => e.attempt === step.attempt && e.level === 'blocked' && e.episode === episode) &&
        (watched.clearedAt !== null || step.status !== 'running' || isFinished(state))
      );
    case 'reminder':
    case 'escalation':
    case 'timeout':
      return step.status === 'awaiting_approval' && approvalChased(state, step.id);
    case 'overrun':
      return step.status === 'running';
    case 'page':
      return step.status === 'failed';
    case 'stalled':
      // A stall is the rollback's, never a step's (rollback.escalate).
      return false;
  }
}

/**
 * Refuses a duplicate (same step, attempt and level) and an escalation whose
 * condition cleared meanwhile: two sweeps racing, or an approval landing
 * between evaluation and append, send nothing twice and nothing stale.
 */
export function decideEscalation(state: RunState, c: EscalationCommand): Ruling {
  switch (c.type) {
    case 'escalate': {
      const step = state.steps[c.stepId];
      if (!step) return refuse('step.not_found', `This run has no step "${c.stepId}".`);
      if (c.attempt !== step.attempt) return refuse('step.stale_attempt', `Escalation for attempt ${c.attempt} of "${c.stepId}" ignored: the step is at attempt ${step.attempt}.`);
      const round = c.round ?? 0;
      if (step.escalations.some((e) => e.attempt === c.attempt && e.level === c.level && e.episode === c.episode && (e.round ?? 0) === round)) {
        return refuse('escalation.duplicate', `A ${c.level} for "${c.stepId}" (attempt ${c.attempt}${c.episode !== undefined ? `, episode ${c.episode}` : ''}${round ? `, round ${round}` : ''}) was already sent.`);
      }
      // A repeat stops once someone acknowledged the alert; the first send of a new level is not an ack's business.
      if (round > 0 && (step.acks ?? []).some((a) => a.attempt === c.attempt && a.level === c.level)) {
        return refuse('escalation.acknowledged', `The ${c.level} for "${c.stepId}" was acknowledged; it is not repeated.`);
      }
      if (!stillDue(state, step, c.level, c.episode)) return refuse('escalation.cleared', `"${c.stepId}" is ${step.status.replace('_', ' ')}; no ${c.level} is needed.`);
      const extra = { ...(c.episode !== undefined ? { episode: c.episode } : {}), ...(round > 0 ? { round } : {}) };
      return accept([{ type: 'escalation.sent', at: c.at, stepId: c.stepId, attempt: c.attempt, level: c.level, reason: c.reason, to: c.to, ...extra }]);
    }
    case 'go_no_go.request':
      if (state.goNoGo) return refuse('go_no_go.already_requested', 'The go/no-go decision was already asked for in this run.');
      if (!state.plan.roles[c.role]) return refuse('role.unknown', `Go/no-go role "${c.role}" is not a role of this runbook.`);
      return accept([{ type: 'go_no_go.requested', at: c.at, role: c.role, reason: c.reason, to: c.to }]);
    case 'go_no_go.decide':
      return decideGoNoGo(state, c);
  }
}

function decideGoNoGo(state: RunState, c: Extract<EscalationCommand, { type: 'go_no_go.decide' }>): Ruling {
  const asked = state.goNoGo;
  if (!asked) return refuse('go_no_go.not_requested', 'Nobody has been asked for a go/no-go decision in this run.');
  if (asked.decision) {
    const d = asked.decision;
    return refuse('go_no_go.already_decided', `${mention(d.by)} already decided: ${d.choice === 'continue' ? 'continue' : 'start rollback'}.`);
  }
  const role = state.plan.roles[asked.role];
  if (!role || !isMember(role, c.actor)) {
    return refuse('role.not_member', `Only ${role ? describeRole(role) : asked.role} may make the go/no-go decision.`);
  }
  const decided: RunEvent = { type: 'go_no_go.decided', at: c.at, by: c.actor.id, decision: c.decision };
  if (c.decision === 'continue') return accept([decided]);
  // Rollback chosen: the go/no-go role was asked exactly this, so its answer is the rollback request (the default scenario).
  const request = rollbackRequest(state, c.at, c.actor.id, null, 'go/no-go: rollback chosen');
  if (request.ok) return accept([decided, ...request.events]);
  // No such scenario (or one already open): at least stop the run so nobody approves further steps by accident.
  if (state.status === 'paused') return accept([decided]);
  return accept([decided, { type: 'run.paused', at: c.at, by: c.actor.id, reason: `go/no-go: rollback chosen — ${request.message}` }]);
}
