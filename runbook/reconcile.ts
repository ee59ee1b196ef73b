import { owedEffects } from './effects.js';
import { isUnreadableRun } from './event-schema.js';
import type { JobQueue, RunStore } from './ports.js';
import type { RunEvent } from './events.js';
import type { RunService } from './run-service.js';
import { isFinished, type RunState } from './state.js';

export interface ReconcileReport {
  runs: number;
  requeued: string[];
  failed: string[];
  released: string[];
  /** Runs whose history cannot be read (a damaged, unknown or newer event): stopped, each with the error naming the entry and field. */
  unreadable: Array<{ runId: string; message: string }>;
}

/**
 * Repairs what a crash between two writes can leave behind. For each run
 * holding a slot it derives the effects the run is owed (`owedEffects`, the
 * same derivation `decide` uses) and performs them again: a queued step's job
 * is enqueued under its id (a no-op while BullMQ holds it), a finished run's
 * follow-ups are listed and its slot freed. Then a step whose job BullMQ gave
 * up on (e.g. it stalled twice because the worker kept dying) is reported
 * failed with BullMQ's reason, so no step stays "running" forever.
 * Never throws for one run's trouble; returns what it did.
 */
export async function reconcileRuns(deps: {
  store: RunStore<RunEvent>;
  queue: JobQueue;
  service: RunService;
  now: () => number;
}): Promise<ReconcileReport> {
  const report: ReconcileReport = { runs: 0, requeued: [], failed: [], released: [], unreadable: [] };
  for (const { runbook, runId } of await deps.store.active()) {
    report.runs++;
    let state: RunState | null;
    try {
      state = await deps.service.load(runId);
    } catch (err) {
      // One run's damaged history stops that run only: the others are still reconciled.
      if (!isUnreadableRun(err)) throw err;
      report.unreadable.push({ runId, message: err.userMessage });
      continue;
    }
    if (!state) {
      // A slot held by a run with no events: nothing to derive from, so nothing but the slot to free.
      await deps.store.release(runbook, runId);
      report.released.push(runId);
      continue;
    }
    await performOwed(state, deps, report);
    if (!isFinished(state)) await failLostSteps(state, deps, report);
  }
  return report;
}

async function performOwed(state: RunState, deps: Parameters<typeof reconcileRuns>[0], report: ReconcileReport): Promise<void> {
  const owed = owedEffects(state);
  const missing: string[] = [];
  for (const effect of owed) {
    // Asked first only to say in the report which jobs were really missing; enqueuing is harmless either way.
    if (effect.type === 'step.enqueue' && (await deps.queue.state(effect.job.jobId)).state === 'missing') missing.push(effect.job.jobId);
  }
  await deps.service.applyEffects(owed);
  report.requeued.push(...missing);
  if (owed.some((e) => e.type === 'slot.release')) report.released.push(state.runId);
}

async function failLostSteps(state: RunState, deps: Parameters<typeof reconcileRuns>[0], report: ReconcileReport): Promise<void> {
  for (const step of Object.values(state.steps)) {
    if ((step.status !== 'queued' && step.status !== 'running') || !step.jobId) continue;
    const job = await deps.queue.state(step.jobId);
    // A queued step's missing job was enqueued just above; a running step's is never re-run from here.
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
