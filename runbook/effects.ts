import { hasOpenFollowUps } from './follow-ups.js';
import type { StepJob } from './ports.js';
import { isFinished, type RunState } from './state.js';

/**
 * What the outside world must do for a run, as data (xstate's `transition`
 * returns its actions the same way): deciding performs nothing, and
 * `RunService.applyEffects` performs the list. Each effect has an id made of
 * what it acts on only, never of a clock or a counter, so the list derived
 * again from the same state after a crash carries the same ids, and
 * performing it twice is harmless (every effect is idempotent at its port).
 */
export type Effect =
  /** The step's job, under its deterministic job id: BullMQ ignores an id it already holds. */
  | { type: 'step.enqueue'; id: string; job: StepJob }
  /** A completed run whose follow-ups are not all done is visited by the follow-up sweep (a set: adding twice adds once). */
  | { type: 'follow_ups.list'; id: string; runId: string }
  | { type: 'follow_ups.unlist'; id: string; runId: string }
  /** A finished run frees its runbook's slot; freed only if this run still holds it, so a late repeat cannot free a newer run's. */
  | { type: 'slot.release'; id: string; runbook: string; runId: string };

/**
 * Every effect a run in this state is owed, in the order they must run: the
 * only place effects are derived from a run. Listing comes before freeing the
 * slot: a crash in between leaves the slot held, so the reconciler (which
 * visits runs holding a slot) still finds the run and performs both again.
 */
export function owedEffects(state: RunState): Effect[] {
  const effects: Effect[] = [];
  for (const step of Object.values(state.steps)) {
    if (step.status !== 'queued' || step.jobId === null) continue;
    const job: StepJob = { jobId: step.jobId, runId: state.runId, stepId: step.id, attempt: step.attempt };
    effects.push({ type: 'step.enqueue', id: `step.enqueue:${step.jobId}`, job });
  }
  if (state.status === 'completed') {
    const type = hasOpenFollowUps(state) ? 'follow_ups.list' : 'follow_ups.unlist';
    effects.push({ type, id: `${type}:${state.runId}`, runId: state.runId });
  }
  if (isFinished(state)) {
    effects.push({ type: 'slot.release', id: `slot.release:${state.plan.runbook}:${state.runId}`, runbook: state.plan.runbook, runId: state.runId });
  }
  return effects;
}

/**
 * The effects a decision calls for: those the run is owed after its events and
 * was not owed before (a progress report on a queued step enqueues nothing
 * again). What a crash cut short stays owed, and the reconciler performs
 * `owedEffects` of the run as it finds it.
 */
export function effectsOfChange(before: RunState | null, after: RunState): Effect[] {
  const owedBefore = new Set(before ? owedEffects(before).map((e) => e.id) : []);
  return owedEffects(after).filter((e) => !owedBefore.has(e.id));
}
