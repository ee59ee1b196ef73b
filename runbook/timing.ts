import { formatDuration } from './duration.js';
import { allSteps, type PlanStep } from './plan.js';
import type { RunState, StepState, StepStatus } from './state.js';

/**
 * Where a step's time went. A step holds the run from the moment its approval
 * is requested until it finishes; that span splits into waiting (requested →
 * approved, holds included) and execution (approved → finished, queue
 * included). A manual step is all waiting: approving it completes it.
 */
export interface StepTiming {
  stepId: string;
  title: string;
  phaseId: string;
  action: string;
  status: StepStatus;
  attempt: number;
  plannedSeconds: number | null;
  /** First approval request (of any attempt when known) → finish, or → now while unfinished; null before it was requested. */
  actualSeconds: number | null;
  waitSeconds: number | null;
  executionSeconds: number | null;
  /** actual − planned, only for a finished step with a plan. */
  driftSeconds: number | null;
  requestedAt: number | null;
  approvedAt: number | null;
  finishedAt: number | null;
  /** Succeeded or skipped: the run has moved past it. */
  done: boolean;
}

export interface PhaseTiming {
  phaseId: string;
  title: string;
  plannedSeconds: number | null;
  /** Sums over the phase's steps (they run one after another). */
  actualSeconds: number;
  waitSeconds: number;
  executionSeconds: number;
  /** actual − planned once every step of the phase is done. */
  driftSeconds: number | null;
  done: boolean;
}

export interface RunTiming {
  plannedSeconds: number | null;
  actualSeconds: number;
  waitSeconds: number;
  executionSeconds: number;
  driftSeconds: number | null;
}

const seconds = (from: number, to: number): number => Math.max(0, (to - from) / 1000);
export const isDone = (status: StepStatus): boolean => status === 'succeeded' || status === 'skipped';

/**
 * One step's timing. `firstRequestedAt` lets a caller that has the events
 * count the time of earlier failed attempts too (the state keeps only the last).
 */
export function stepTiming(planStep: PlanStep, step: StepState, now: number, firstRequestedAt?: number): StepTiming {
  const requestedAt = firstRequestedAt ?? step.requestedAt;
  const end = step.finishedAt ?? now;
  const finished = step.finishedAt !== null;
  const actual = requestedAt === null ? null : seconds(requestedAt, end);
  const wait = step.requestedAt === null ? null : seconds(step.requestedAt, step.approvedAt ?? (finished ? end : now));
  const execution = step.approvedAt === null ? null : seconds(step.approvedAt, end);
  return {
    stepId: step.id,
    title: planStep.title,
    phaseId: planStep.phaseId,
    action: planStep.action,
    status: step.status,
    attempt: step.attempt,
    plannedSeconds: planStep.plannedSeconds,
    actualSeconds: actual,
    waitSeconds: wait,
    executionSeconds: execution,
    driftSeconds: finished && actual !== null && planStep.plannedSeconds !== null ? actual - planStep.plannedSeconds : null,
    requestedAt,
    approvedAt: step.approvedAt,
    finishedAt: step.finishedAt,
    done: isDone(step.status),
  };
}

/** Every step of the run in plan order. */
export function stepTimings(state: RunState, now: number, firstRequestedAt: Readonly<Record<string, number>> = {}): StepTiming[] {
  return allSteps(state.plan).flatMap((ps) => {
    const step = state.steps[ps.id];
    return step ? [stepTiming(ps, step, now, firstRequestedAt[ps.id])] : [];
  });
}

const sum = (values: Array<number | null>): number => values.reduce<number>((s, v) => s + (v ?? 0), 0);

export function phaseTimings(state: RunState, steps: readonly StepTiming[]): PhaseTiming[] {
  return state.plan.phases.map((phase) => {
    const own = steps.filter((s) => s.phaseId === phase.id);
    const actual = sum(own.map((s) => s.actualSeconds));
    const done = own.length > 0 && own.every((s) => s.done);
    return {
      phaseId: phase.id,
      title: phase.title,
      plannedSeconds: phase.plannedSeconds,
      actualSeconds: actual,
      waitSeconds: sum(own.map((s) => s.waitSeconds)),
      executionSeconds: sum(own.map((s) => s.executionSeconds)),
      driftSeconds: done && phase.plannedSeconds !== null ? actual - phase.plannedSeconds : null,
      done,
    };
  });
}

/** The whole run: actual is wall-clock from start to finish (or now), so pauses count. */
export function runTiming(state: RunState, phases: readonly PhaseTiming[], steps: readonly StepTiming[], now: number): RunTiming {
  const planned = phases.some((p) => p.plannedSeconds !== null) ? sum(phases.map((p) => p.plannedSeconds)) : null;
  const actual = seconds(state.startedAt, state.finishedAt ?? now);
  return {
    plannedSeconds: planned,
    actualSeconds: actual,
    waitSeconds: sum(steps.map((s) => s.waitSeconds)),
    executionSeconds: sum(steps.map((s) => s.executionSeconds)),
    driftSeconds: state.finishedAt !== null && planned !== null ? actual - planned : null,
  };
}

/** "+12 %" / "−5 %" of actual against planned. */
/**
 * The change as a percentage only where it says something: null when there is
 * no plan, or when both durations read the same ("0s vs 0s (−76 %)" told a
 * reader nothing but noise of sub-second timings).
 */
export function meaningfulDelta(actual: number | null, planned: number | null): string | null {
  if (actual === null || planned === null || planned <= 0) return null;
  if (formatDuration(actual) === formatDuration(planned)) return null;
  return percentDelta(actual, planned);
}

export function percentDelta(actual: number, planned: number): string {
  if (planned <= 0) return 'n/a';
  const pct = Math.round(((actual - planned) / planned) * 100);
  return `${pct >= 0 ? '+' : '−'}${Math.abs(pct)} %`;
}
