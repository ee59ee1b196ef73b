import type { RunEvent } from '../runbook/events.js';
import { findPlanStep } from '../runbook/plan.js';
import { isFinished, type RunState } from '../runbook/state.js';
import { isValidationAction, readValidation } from '../runbook/validation-result.js';
import {
  approvalWaitHistogram,
  escalationsCounter,
  runsFinishedCounter,
  runsStartedCounter,
  stepDurationHistogram,
  validationVerdictsCounter,
  type RunGaugeSamples,
} from './metrics.js';

const FINISHED = { 'run.completed': 'completed', 'run.aborted': 'aborted', 'run.rolled_back': 'rolled_back' } as const;

/**
 * Counts what a batch of events just appended to a run says happened. Called
 * by RunService after every successful append, in whichever process appended:
 * each event is appended exactly once, so the counters summed over processes
 * are exact. `state` is the run after the batch.
 */
export function recordRunEvents(state: RunState, events: readonly RunEvent[]): void {
  const runbook = state.plan.runbook;
  const dryRun = String(state.dryRun);
  const approvedNow = new Set<string>();
  for (const event of events) {
    switch (event.type) {
      case 'run.started':
        runsStartedCounter.inc({ runbook, dry_run: dryRun });
        break;
      case 'run.completed':
      case 'run.aborted':
      case 'run.rolled_back':
        runsFinishedCounter.inc({ runbook, status: FINISHED[event.type], dry_run: dryRun });
        break;
      case 'escalation.sent':
      case 'rollback.escalated':
        escalationsCounter.inc({ runbook, level: event.level });
        break;
      case 'rollback.approved': {
        const scenario = state.plan.rollbackScenarios.find((s) => s.id === event.scenario);
        if (scenario && state.rollback) approvalWaitHistogram.observe({ runbook, role: scenario.approve }, seconds(event.at - state.rollback.requestedAt));
        break;
      }
      case 'step.approved':
        approvedNow.add(event.stepId);
        break;
      case 'step.queued':
        if (approvedNow.has(event.stepId)) approvalWaited(state, event.stepId, event.at);
        break;
      case 'step.succeeded':
      case 'step.failed':
        // A manual step completes on its approval, in the same batch: that is its approval wait, not a run time.
        if (event.type === 'step.succeeded' && approvedNow.has(event.stepId)) approvalWaited(state, event.stepId, event.at);
        stepFinished(state, event);
        break;
      default:
        break;
    }
  }
}

function approvalWaited(state: RunState, stepId: string, at: number): void {
  const planStep = findPlanStep(state.plan, stepId);
  const requestedAt = state.steps[stepId]?.requestedAt;
  if (!planStep || requestedAt === null || requestedAt === undefined) return;
  approvalWaitHistogram.observe({ runbook: state.plan.runbook, role: planStep.approve }, seconds(at - requestedAt));
}

function stepFinished(state: RunState, event: Extract<RunEvent, { type: 'step.succeeded' | 'step.failed' }>): void {
  const planStep = findPlanStep(state.plan, event.stepId);
  const step = state.steps[event.stepId];
  if (!planStep || !step) return;
  const runbook = state.plan.runbook;
  if (step.startedAt !== null) {
    const outcome = event.type === 'step.succeeded' ? 'succeeded' : 'failed';
    stepDurationHistogram.observe({ runbook, action: planStep.action, outcome, dry_run: String(state.dryRun) }, seconds(event.at - step.startedAt));
  }
  const validation = isValidationAction(planStep.action) ? readValidation(event.details) : null;
  if (validation) validationVerdictsCounter.inc({ runbook, check: validation.check, verdict: validation.verdict });
}

const seconds = (ms: number): number => Math.max(0, ms) / 1000;

/**
 * The run gauges for one scrape, from the active runs' states (finished runs
 * still holding their slot for a moment are left out). Pure: `now` is given.
 */
export function runGaugeSamples(states: readonly RunState[], now: number): RunGaugeSamples {
  const samples: RunGaugeSamples = { runs: [], steps: [], approvals: [], verdicts: [] };
  const runs = new Map<string, RunGaugeSamples['runs'][number]>();
  for (const state of states) {
    if (isFinished(state)) continue;
    const runbook = state.plan.runbook;
    const key = `${runbook}\u0000${state.status}\u0000${state.dryRun}`;
    const run = runs.get(key) ?? { runbook, status: state.status, dryRun: state.dryRun, count: 0 };
    run.count++;
    runs.set(key, run);
    samples.steps.push(...stepCounts(state));
    samples.approvals.push(...approvalsOf(state, now));
    samples.verdicts.push(...verdictsOf(state));
  }
  samples.runs = [...runs.values()];
  return samples;
}

function stepCounts(state: RunState): RunGaugeSamples['steps'] {
  const counts = new Map<string, number>();
  for (const step of Object.values(state.steps)) counts.set(step.status, (counts.get(step.status) ?? 0) + 1);
  return [...counts].map(([status, count]) => ({ runbook: state.plan.runbook, status, count }));
}

/** Every role of the run, so a dashboard shows 0 rather than no data while nobody is waited for. */
function approvalsOf(state: RunState, now: number): RunGaugeSamples['approvals'] {
  const byRole = new Map<string, { waiting: number; oldest: number | null }>(Object.keys(state.plan.roles).map((r) => [r, { waiting: 0, oldest: null }]));
  const wait = (role: string, since: number): void => {
    const entry = byRole.get(role) ?? { waiting: 0, oldest: null };
    entry.waiting++;
    entry.oldest = entry.oldest === null ? since : Math.min(entry.oldest, since);
    byRole.set(role, entry);
  };
  // A paused run asks nobody; a requested rollback waits for its scenario's authority even then.
  if (state.status === 'active') {
    for (const step of Object.values(state.steps)) {
      const planStep = findPlanStep(state.plan, step.id);
      if (planStep && step.status === 'awaiting_approval' && step.requestedAt !== null) wait(planStep.approve, step.requestedAt);
    }
  }
  const rollback = state.rollback;
  const scenario = rollback?.status === 'requested' ? state.plan.rollbackScenarios.find((s) => s.id === rollback.scenario) : undefined;
  if (rollback && scenario) wait(scenario.approve, rollback.requestedAt);
  return [...byRole].map(([role, e]) => ({ runbook: state.plan.runbook, role, waiting: e.waiting, oldestSeconds: e.oldest === null ? null : seconds(now - e.oldest) }));
}

function verdictsOf(state: RunState): RunGaugeSamples['verdicts'] {
  const out: RunGaugeSamples['verdicts'] = [];
  for (const step of Object.values(state.steps)) {
    const planStep = findPlanStep(state.plan, step.id);
    if (!planStep || !isValidationAction(planStep.action)) continue;
    const details = step.status === 'succeeded' ? step.result?.details : step.status === 'failed' ? step.error?.details : undefined;
    const validation = readValidation(details);
    if (validation) out.push({ runbook: state.plan.runbook, step: step.id, verdict: validation.verdict });
  }
  return out;
}
