import type { StepJob } from '../runbook/ports.js';
import { isFinished } from '../runbook/state.js';
import type { StepRunnerDeps } from './step-runner.js';
import { stepReporter } from './step-reports.js';

/** Stalls after which a job is no longer put back: a step that kills its worker (or loses its lock) every time needs a person. */
const MAX_STALLS = 3;

type StalledOutcome = 'requeued' | 'stopped' | 'nothing';

/**
 * BullMQ failed a job that stalled more than it allows ("job stalled more
 * than allowable limit"). The question that would go to a person — did the
 * step's effect happen? — is the one runStepJob answers for a resumed step
 * (the effect ledger, the action's checkpoints, a harmless re-run, or a stop
 * for a person when only one can judge), so the job goes straight back in the
 * queue: first, before anything is read, so that the reconciler hardly ever
 * sees it failed (if it does, it reports worker.lost and a Retry still asks the
 * ledger). After MAX_STALLS stalls the step is stopped instead, with the
 * reason, so a step that kills its worker every time cannot loop forever.
 */
export async function resolveStalledStep(job: StepJob, stalls: number, requeue: () => Promise<void>, deps: StepRunnerDeps): Promise<StalledOutcome> {
  if (stalls <= MAX_STALLS) {
    await requeue();
    return 'requeued';
  }
  const log = deps.log.child({ runId: job.runId, stepId: job.stepId, attempt: job.attempt, stalls });
  const state = await deps.service.load(job.runId);
  const step = state?.steps[job.stepId];
  if (!state || !step || isFinished(state) || step.attempt !== job.attempt || (step.status !== 'queued' && step.status !== 'running')) return 'nothing';
  const stopped = await stepReporter(job, deps, log)({
    type: 'report.failed',
    code: 'worker.stalled',
    message: `The step's job stalled ${stalls} times (its worker died or lost the job's lock each time), so it is not queued again. Find out what stops the worker, then Retry or Skip: a Retry of a step whose effect is a database transaction asks its effect ledger first, so it never repeats a committed effect.`,
  });
  return stopped ? 'stopped' : 'nothing';
}
