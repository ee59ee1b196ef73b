import type { Logger } from 'pino';
import type { ChunkFlow } from '../config/backend.js';
import { ACTIONS, type CrashRecovery } from '../runbook/action-catalog.js';
import { backupCatalogue } from '../runbook/backups.js';
import { asCutoverError, CutoverError } from '../runbook/errors.js';
import { goLiveOf } from '../runbook/go-live.js';
import { healthPolicyOf } from '../runbook/health-policy.js';
import { loadRunbook, type Runbook } from '../runbook/load.js';
import type { StepJob } from '../runbook/ports.js';
import type { RunService } from '../runbook/run-service.js';
import { rollbackCancels } from '../runbook/rollback.js';
import { findPlanStep } from '../runbook/plan.js';
import { isFinished, triesFailed, type RunState } from '../runbook/state.js';
import { abortReason, ActionError, type ActionContext, type StepRecord } from './action.js';
import { actionMetrics } from './action-metrics.js';
import { actionImplOf, type EngineActions } from './actions/index.js';
import { startStepHealth } from './health/step-health.js';
import { faultPoint } from './fault-injection.js';
import { EffectAlreadyCommitted, effectKeyOf } from './ledger/effect-key.js';
import { findEffect } from './ledger/find-effect.js';
import { evaluateProbe } from './probe.js';
import { coalesced, type RunWatch } from './run-watch.js';
import { reportFromLedger, stepReporter } from './step-reports.js';
import { withTransientRetry, type TryCount } from './transient-retry.js';
import { mention } from '../runbook/policy.js';

export interface StepRunnerDeps {
  service: RunService;
  /** The engine's actions and how a job opens its runbook's connections (createActions, built by the process wiring). */
  actions: EngineActions;
  log: Logger;
  sqlDir: string;
  env: Readonly<Record<string, string | undefined>>;
  now: () => number;
  /** Run-changed notices (the bot's update feed), so a running step hears of an abort or a rollback request at once. */
  watch: RunWatch;
  /** Minimum gap between two progress events of one step: progress is an event in the run's log, so a long ETL must not flood it. */
  progressIntervalMs?: number;
}

/** Why a job may stop from outside its run: the worker shuts down, or the queue says the job's lock is gone (see config/job-lease.ts). */
export interface JobSignals {
  shutdown?: AbortSignal;
  /** Fires when this worker no longer holds the job's lock: another worker may take the job over, so the step must stop now. */
  lease?: AbortSignal;
}


/**
 * Runs one attempt of one step, exactly as the run's events allow:
 * nothing if the attempt already finished or the run ended; the done_when
 * probe first when the step has one; and after a worker crash (the step is
 * already "running"), what the action's crash recovery allows: the effect
 * ledger's answer, a resumed action, a harmless re-run, or a stop for a
 * person (docs/crash-recovery.md). Action failures are reported as events;
 * infrastructure errors (Redis gone) and a lost job lock are thrown, for the
 * queue.
 */
export async function runStepJob(job: StepJob, deps: StepRunnerDeps, signals: JobSignals = {}, flow?: ChunkFlow): Promise<void> {
  const log = deps.log.child({ runId: job.runId, stepId: job.stepId, attempt: job.attempt });
  const state = await deps.service.load(job.runId);
  const step = state?.steps[job.stepId];
  if (!state || !step || isFinished(state) || step.attempt !== job.attempt || !['queued', 'running'].includes(step.status)) {
    log.info({ status: step?.status, run: state?.status }, 'nothing to do for this job');
    return;
  }
  const report = stepReporter(job, deps, log);

  if (state.rollback && rollbackCancels(state, job.stepId)) {
    await report({ type: 'report.failed', code: 'run.rolling_back', message: `Not run: a rollback (${state.rollback.scenario}) was requested by ${mention(state.rollback.requestedBy)}.` });
    return;
  }
  const resumed = step.status === 'running';
  const loaded = loadRunbook({ name: state.plan.runbook, file: state.runbookFile, text: state.runbookText, env: deps.env });
  if (!loaded.ok) {
    const first = loaded.problems[0];
    await report({ type: 'report.failed', code: 'runbook.invalid', message: `The runbook no longer loads in the worker: ${first?.path}: ${first?.message}` });
    return;
  }
  const runbook = loaded.runbook;
  const stepDoc = findStepDoc(runbook, job.stepId);
  const params = runbook.params[job.stepId];
  const spec = ACTIONS[stepDoc?.action ?? ''];
  const impl = actionImplOf(deps.actions.impls, stepDoc?.action ?? '');
  if (!stepDoc || !spec || !impl) {
    await report({ type: 'report.failed', code: 'runbook.step_missing', message: `Step ${job.stepId} or its action is not in the runbook the run started with.` });
    return;
  }

  const connections = deps.actions.connections(runbook.doc.connections, log);
  const controller = new AbortController();
  const stopWatch = watchForAbort(job, deps, controller, signals);
  const timeout = stepDoc.timeout ? setTimeout(() => controller.abort(new CutoverError('step.timeout', `the step's timeout of ${stepDoc.timeout}s passed`)), stepDoc.timeout * 1000) : null;
  const recovery: CrashRecovery = spec.recovery(params);
  const tries: TryCount = { try: 1, of: 1 };
  let started = false;
  try {
    const ctx: ActionContext = {
      runId: job.runId,
      stepId: job.stepId,
      attempt: job.attempt,
      dryRun: state.dryRun,
      effectKey: state.dryRun ? null : effectKeyOf(job.runId, job.stepId, job.attempt),
      connections,
      sqlDir: deps.sqlDir,
      signal: controller.signal,
      ...goLiveOf(state),
      metrics: actionMetrics(state.plan.runbook),
      backups: backupCatalogue(state),
      stepRecord: stepRecordsOf(runbook, state),
      ...(flow && !state.dryRun ? { fanOut: flow } : {}),
      progress: throttledProgress((message, data) => void report({ type: 'report.progress', message, data }), deps.progressIntervalMs ?? 3000),
      log,
    };
    if (stepDoc.done_when && !state.dryRun) {
      const probe = await evaluateProbe(stepDoc.done_when, ctx);
      if (probe.done) {
        if (await report({ type: 'report.started', resumed })) {
          await report({ type: 'report.succeeded', summary: `Already done (done_when matched: ${probe.detail}); not run again.`, details: { probe: probe.detail } });
        }
        return;
      }
    }
    // A resumed step, or a later attempt (one reported failed may still have committed: a COMMIT whose answer was lost).
    // A first attempt never started before cannot have committed; its claim still meets any concurrent attempt.
    if (recovery.kind === 'ledger' && !state.dryRun && (resumed || job.attempt > 1)) {
      const entry = await findEffect(connections, recovery.connection, job.runId, job.stepId);
      // Not found: no attempt's transaction committed, so running it now is safe.
      if (entry) {
        if (await report({ type: 'report.started', resumed })) await reportFromLedger(report, entry);
        return;
      }
    }
    if (resumed && recovery.kind === 'ask' && !stepDoc.done_when) {
      await report({
        type: 'report.failed',
        code: 'worker.crashed',
        message: `The worker running this step stopped (or lost the job) before reporting it. It was not run again: \`${stepDoc.action}\` is not idempotent here (${recovery.why}) and the step has no done_when probe. Check its effect by hand, then Retry or Skip.`,
      });
      return;
    }
    if (!(await report({ type: 'report.started', resumed }))) return;
    started = true;
    log.info({ action: stepDoc.action, resumed, recovery: recovery.kind }, 'step started');
    faultPoint('before-effect', job.stepId);
    const health = startStepHealth({
      spec, params, connections, log, signal: controller.signal,
      policy: healthPolicyOf(runbook.doc.health),
      report: async (sample) => void (await report({ type: 'report.health', sample })),
    });
    let result: Awaited<ReturnType<typeof impl.run>>;
    try {
      // One attempt of the action, tried again after transient errors when its policy allows (engine/transient-retry.ts).
      const retry = { policy: findPlanStep(state.plan, job.stepId)?.retry, failedBefore: triesFailed(step), signal: controller.signal, report, redact: (t: string) => connections.redact(t), log };
      result = await withTransientRetry(() => impl.run(ctx, params), retry, tries);
    } finally {
      // Stopped before the outcome is reported, so no sample lands after the step's end.
      await health.stop();
    }
    faultPoint('after-commit', job.stepId);
    await report({ type: 'report.succeeded', summary: result.summary, details: result.details });
    faultPoint('after-append', job.stepId);
  } catch (err) {
    if (err instanceof EffectAlreadyCommitted && recovery.kind === 'ledger') {
      // Another attempt of this step committed first (a worker that lost the job, or an earlier attempt reported failed).
      const entry = await findEffect(connections, recovery.connection, job.runId, job.stepId);
      if (entry && (started || (await report({ type: 'report.started', resumed })))) {
        await reportFromLedger(report, entry);
        return;
      }
    }
    const failure = asCutoverError(err, 'action.failed');
    log.warn({ code: failure.code, err: connections.redact(failure.message) }, 'step failed');
    // Without the job's lock the attempt is no longer this worker's to report: whoever takes the job over resumes it.
    if (signals.lease?.aborted) {
      log.warn({ code: 'worker.lock_lost', reason: abortReason(signals.lease) }, 'lost the job\'s lock: step stopped, left for the worker that takes the job over');
      throw new CutoverError('worker.lock_lost', 'the worker lost the job\'s lock; the step was stopped for another worker to resume', { cause: err });
    }
    if (signals.shutdown?.aborted && !controller.signal.reason) throw err;
    const details = { ...(err instanceof ActionError ? err.details : undefined), ...(tries.try > 1 ? { tries: tries.try } : {}) };
    // After automatic retries the failure says which try it was, so nobody reads it as the first.
    const message = connections.redact(failure.userMessage) + (tries.try > 1 ? ` (try ${tries.try} of ${tries.of}; the tries before it met transient errors and were retried automatically)` : '');
    await report({ type: 'report.failed', code: failure.code, message, ...(Object.keys(details).length > 0 ? { details } : {}) });
  } finally {
    if (timeout) clearTimeout(timeout);
    stopWatch();
    await connections.close().catch((err: unknown) => log.warn({ err }, 'closing connections failed'));
  }
}

/** Another step of the run, from the runbook the run started with and the run's state (a snapshot taken when this job began). */
export function stepRecordsOf(runbook: Runbook, state: RunState): (stepId: string) => StepRecord | null {
  return (stepId) => {
    const doc = findStepDoc(runbook, stepId);
    const step = state.steps[stepId];
    if (!doc) return null;
    const details = step?.status === 'succeeded' ? step.result?.details : step?.error?.details;
    return {
      id: stepId,
      action: doc.action,
      params: runbook.params[stepId],
      status: step?.status ?? 'pending',
      attempt: step?.attempt ?? 1,
      startedAt: step?.startedAt ?? null,
      ...(details ? { details } : {}),
      skipped: step?.skipped ? { by: step.skipped.by, reason: step.skipped.reason } : null,
    };
  };
}

function findStepDoc(runbook: Runbook, stepId: string) {
  return [...runbook.doc.phases.flatMap((p) => p.steps), ...Object.values(runbook.doc.rollback).flatMap((r) => r.steps)].find((s) => s.id === stepId);
}

/** Aborts the action when the run is aborted or a rollback is requested for a forward step (checked on every notice of the run), the worker shuts down, or it loses the job's lock. */
function watchForAbort(job: StepJob, deps: StepRunnerDeps, controller: AbortController, signals: JobSignals): () => void {
  const { shutdown, lease } = signals;
  const onShutdown = () => controller.abort(new CutoverError('worker.shutdown', 'the worker is shutting down'));
  const onLease = () => controller.abort(lease?.reason);
  shutdown?.addEventListener('abort', onShutdown, { once: true });
  if (lease?.aborted) onLease();
  else lease?.addEventListener('abort', onLease, { once: true });
  const check = coalesced(async () => {
    const s = await deps.service.load(job.runId);
    if (s && s.status === 'aborted') controller.abort(new CutoverError('run.aborted', `the run was aborted by ${mention(s.abort?.by ?? '?')}`));
    else if (s?.rollback && rollbackCancels(s, job.stepId)) controller.abort(new CutoverError('run.rolling_back', `a rollback (${s.rollback.scenario}) was requested by ${mention(s.rollback.requestedBy)}`));
  });
  const unwatch = deps.watch.watch(job.runId, check);
  return () => {
    unwatch();
    shutdown?.removeEventListener('abort', onShutdown);
    lease?.removeEventListener('abort', onLease);
  };
}

function throttledProgress(send: (message: string, data?: Record<string, unknown>) => void, intervalMs: number) {
  let last = 0;
  return (message: string, data?: Record<string, unknown>) => {
    const now = Date.now();
    if (now - last < intervalMs) return;
    last = now;
    send(message, data);
  };
}

// Moved to runbook/ (the follow-up schedule counts from it too); kept here for the actions that import it.
export { goLiveOf };
