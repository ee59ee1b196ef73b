import { findPlanStep, type Plan } from '../../runbook/plan.js';
import type { Actor } from '../../runbook/policy.js';
import { currentStep, isFinished, type RunState } from '../../runbook/state.js';
import { approversOf } from './approvers.js';

type Move =
  | { kind: 'wait' }
  | { kind: 'finished' }
  | { kind: 'approve'; stepId: string; attempt: number; actors: Actor[] }
  /** --until's step is done: the rehearsal ends here, green so far. */
  | { kind: 'until'; stepId: string }
  /** The run cannot go on headless: a failed step, a role not auto-approved, a hold. */
  | { kind: 'stop'; stepId: string | null; reason: string };

export interface MoveOptions {
  starter: Actor;
  autoApprove: ReadonlySet<string>;
  until: string | null;
}

/** What the rehearsal does next with the run as it stands. Pure: the caller executes the move through the run service. */
export function nextMove(state: RunState, o: MoveOptions): Move {
  if (isFinished(state)) return { kind: 'finished' };
  if (o.until !== null && ['succeeded', 'skipped'].includes(state.steps[o.until]?.status ?? '')) return { kind: 'until', stepId: o.until };
  if (state.status === 'paused') return { kind: 'stop', stepId: null, reason: `the run was paused by ${state.paused?.by ?? '?'}: ${state.paused?.reason ?? ''}` };
  const step = currentStep(state);
  if (!step) return { kind: 'wait' };
  const planStep = findPlanStep(state.plan, step.id);
  const title = planStep ? `"${planStep.title}" (${step.id})` : step.id;
  switch (step.status) {
    case 'failed':
      return { kind: 'stop', stepId: step.id, reason: `${title} failed: ${step.error?.message ?? 'no message'}` };
    case 'held':
    case 'rejected':
      return { kind: 'stop', stepId: step.id, reason: `${title} was ${step.status} by ${step.hold?.by ?? '?'}: ${step.hold?.reason ?? ''}` };
    case 'awaiting_approval': {
      const role = planStep?.approve ?? '';
      if (!o.autoApprove.has(role)) return { kind: 'stop', stepId: step.id, reason: `${title} waits for ${roleTitle(state.plan, role)}, which --auto-approve does not include` };
      const approvers = approversOf(state.plan, role, o.starter, step.approvals.map((a) => a.by));
      if (!approvers.ok) return { kind: 'stop', stepId: step.id, reason: `${title} cannot be approved: ${approvers.reason}` };
      return { kind: 'approve', stepId: step.id, attempt: step.attempt, actors: approvers.actors };
    }
    case 'pending':
    case 'queued':
    case 'running':
    case 'succeeded':
    case 'skipped':
      return { kind: 'wait' };
  }
}

const roleTitle = (plan: Plan, role: string): string => (plan.roles[role] ? `${plan.roles[role].title} (${role})` : role);
