import type { JobQueue, RunStore } from './ports.js';
import type { RunEvent } from './events.js';
import type { RunService } from './run-service.js';
import { isFinished, type RunState } from './state.js';

export interface ReconcileReport {
  runs: number;
  requeued: string[];
  failed: string[];
  released: string[];
}

/**
 * Repairs what a crash between two writes can leave behind, using only
 * idempotent moves: a queued step whose job is missing is enqueued again
 * (same job id); a step whose job BullMQ gave up on (e.g. it stalled twice
 * because the worker kept dying) is reported failed with BullMQ's reason, so
 * no step stays "running" forever; a finished run's active slot is freed
 * (and a completed run's open follow-ups listed).
 * Never throws for one run's trouble; returns what it did.
 */
export async function reconcileRuns(deps: {
  store: RunStore<RunEvent>;
  queue: JobQueue;
  service: RunService;
  now: () => number;
}): Promise<ReconcileReport> {
  const report: ReconcileReport = { runs: 0, requeued: [], failed: [], released: [] };
  for (const { runbook, runId } of await deps.store.active()) {
    const state = await deps.service.load(runId);
    report.runs++;
    if (!state || isFinished(state)) {
      // The effects of finishing (its follow-ups listed, the slot freed) were cut short by a crash: apply them again.
      if (state) await deps.service.applyEffects(state, []);
      else await deps.store.release(runbook, runId);
      report.released.push(runId);
      continue;
    }
    await reconcileSteps(state, deps, report);
  }
  return report;
}

async function reconcileSteps(state: RunState, deps: Parameters<typeof reconcileRuns>[0], report: ReconcileReport): Promise<void> {
  for (const step of Object.values(state.steps)) {
    if ((step.status !== 'queued' && step.status !== 'running') || !step.jobId) continue;
    const job = await deps.queue.state(step.jobId);
    if (job.state === 'missing' && step.status === 'queued') {
      await deps.queue.enqueue({ jobId: step.jobId, runId: state.runId, stepId: step.id, attempt: step.attempt });
      report.requeued.push(step.jobId);
      continue;
    }
    const lost =
      job.state === 'failed'
        ? `the worker gave up on it: ${job.failedReason ?? 'no reason recorded'}`
        : job.state === 'completed' || job.state === 'missing'
          ? 'its job ended without reporting a result'
          : null;
    if (!lost) continue;
    const outcome = await deps.service.execute(state.runId, {
      type: 'report.failed',
      at: deps.now(),
      stepId: step.id,
      attempt: step.attempt,
      code: 'worker.lost',
      message: `The step did not finish: ${lost}. Check its effect, then Retry or Skip.`,
    });
    if (outcome.ok) report.failed.push(step.jobId);
  }
}
