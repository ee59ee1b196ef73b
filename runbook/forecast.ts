import { allSteps, type Plan } from './plan.js';
import type { RunState } from './state.js';
import { isDone } from './timing.js';

/**
 * Go-live forecast (see docs/forecast-and-report.md). Each step has a baseline: its
 * actual duration in an earlier run of the runbook when one is known
 * (rehearsal-aware), else its planned duration. The drift factor is how this
 * run compares to its baselines so far:
 *
 *   drift = Σ actual / Σ baseline   over finished (succeeded) steps with a baseline;
 *           1 before any such step. Never capped: a rehearsal running at 50× its
 *           plan must forecast a go-live minutes away, not one hours away that
 *           a cap at −50 % invented (issue 16).
 *
 *   remaining = Σ baseline × drift over steps not yet done, minus the time the
 *               current step has already taken (never below 0 for it).
 *
 *   go-live = now + remaining.  must decide ⇔ now + remaining + rollback > window end.
 */
/** Seconds per step id, taken from earlier runs of the same runbook. */
export type StepHistory = Readonly<Record<string, number>>;

export interface Forecast {
  driftFactor: number;
  /** What the drift factor was computed from. */
  driftBasis: { steps: number; actualSeconds: number; baselineSeconds: number };
  remainingSeconds: number;
  /** Steps not done that have neither an earlier actual nor a plan (counted as 0). */
  unknownSteps: number;
  /** Steps not done whose baseline is an earlier run's actual. */
  fromHistory: number;
  /** null for an aborted run. For a completed run: when it completed. */
  goLiveAt: number | null;
  windowStart: number | null;
  windowEnd: number | null;
  rollbackSeconds: number | null;
  /** The last moment a rollback still fits in the window: window end − rollback. */
  decideBy: number | null;
  /** The forecast go-live is after the window end. */
  breach: boolean;
  /** now + remaining + rollback > window end: time to ask go/no-go. */
  mustDecide: boolean;
  /** window end − (go-live + rollback), seconds; negative once past. */
  marginSeconds: number | null;
}

/** True when finishing the remaining work and then rolling back would end after the window. */
export function mustDecide(now: number, remainingSeconds: number, rollbackSeconds: number | null, windowEnd: number | null): boolean {
  if (windowEnd === null) return false;
  return now + (remainingSeconds + (rollbackSeconds ?? 0)) * 1000 > windowEnd;
}

/** The longest planned rollback scenario: the one the window must leave room for. */
export function rollbackPlannedSeconds(plan: Plan): number | null {
  const known = plan.rollbackScenarios.map((s) => s.plannedSeconds ?? null).filter((s): s is number => s !== null);
  return known.length === 0 ? null : Math.max(...known);
}

/** The measured drift as it is; only a ratio that is no number (0 / 0) falls back to "as planned". */
export function measuredDrift(factor: number): number {
  return Number.isFinite(factor) && factor >= 0 ? factor : 1;
}

export function forecastRun(state: RunState, now: number, history: StepHistory = {}): Forecast {
  const windowStart = state.plan.window?.start ?? null;
  const windowEnd = state.plan.window?.end ?? null;
  const rollbackSeconds = rollbackPlannedSeconds(state.plan);
  const baseline = (id: string, planned: number | null): number | null => history[id] ?? planned;

  let actualSum = 0;
  let baselineSum = 0;
  let basisSteps = 0;
  for (const ps of allSteps(state.plan)) {
    const step = state.steps[ps.id];
    const base = baseline(ps.id, ps.plannedSeconds);
    if (step?.status !== 'succeeded' || step.requestedAt === null || step.finishedAt === null || !base) continue;
    actualSum += (step.finishedAt - step.requestedAt) / 1000;
    baselineSum += base;
    basisSteps += 1;
  }
  const driftFactor = basisSteps === 0 ? 1 : measuredDrift(actualSum / baselineSum);

  let remaining = 0;
  let unknownSteps = 0;
  let fromHistory = 0;
  for (const ps of allSteps(state.plan)) {
    const step = state.steps[ps.id];
    if (!step || isDone(step.status)) continue;
    const base = baseline(ps.id, ps.plannedSeconds);
    if (base === null) {
      unknownSteps += 1;
      continue;
    }
    if (history[ps.id] !== undefined) fromHistory += 1;
    const elapsed = step.requestedAt === null ? 0 : Math.max(0, (now - step.requestedAt) / 1000);
    remaining += Math.max(0, base * driftFactor - elapsed);
  }

  const finished = state.status === 'completed' || state.status === 'aborted' || state.status === 'rolled_back';
  const goLiveAt = state.status === 'aborted' || state.status === 'rolled_back' ? null : state.status === 'completed' ? (state.finishedAt ?? now) : now + remaining * 1000;
  const remainingSeconds = finished ? 0 : remaining;
  const decideBy = windowEnd !== null ? windowEnd - (rollbackSeconds ?? 0) * 1000 : null;
  return {
    driftFactor,
    driftBasis: { steps: basisSteps, actualSeconds: actualSum, baselineSeconds: baselineSum },
    remainingSeconds,
    unknownSteps,
    fromHistory,
    goLiveAt,
    windowStart,
    windowEnd,
    rollbackSeconds,
    decideBy,
    breach: !finished && goLiveAt !== null && windowEnd !== null && goLiveAt > windowEnd,
    mustDecide: !finished && mustDecide(now, remainingSeconds, rollbackSeconds, windowEnd),
    marginSeconds: goLiveAt !== null && windowEnd !== null && !finished ? (windowEnd - goLiveAt) / 1000 - (rollbackSeconds ?? 0) : null,
  };
}
