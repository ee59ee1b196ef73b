import { isRollbackStep } from './rollback.js';
import type { RunState, StepState } from './state.js';

/**
 * Separation of duties follows the decision a step carries out: a forward
 * step, the start of the run; a rollback step, the rollback request; a gated
 * step let through on a red or amber verdict, the override. Whoever made that
 * decision is the one person who may not also approve it (unless the role
 * says `requester_may_approve`).
 */
export interface Decider {
  by: string;
  /** Why this person is the decider, completing "You …, so you may not approve". */
  did: string;
}

export function deciderOf(state: RunState, step: StepState): Decider {
  if (state.rollback && isRollbackStep(state, step.id)) return { by: state.rollback.requestedBy, did: 'requested this rollback' };
  if (step.override) return { by: step.override.by, did: 'overrode the validation gate of this step' };
  return { by: state.startedBy, did: 'started this run' };
}

