import { resolve } from 'node:path';
import type { Logger } from 'pino';
import type { StateBackend } from '../config/backend.js';
import type { WorkerEnv } from '../config/env.js';
import { startMetricsServer, type MetricsServer } from '../config/metrics-server.js';
import { recordRunEvents } from '../config/run-metrics.js';
import { reconcileRuns } from '../runbook/reconcile.js';
import { RunService } from '../runbook/run-service.js';
import type { EngineActions } from './actions/index.js';
import { chunkSourceOpeners } from './actions/chunk-sources.js';
import { runChunkJob, StepSources, stepFromRun } from './chunk-runner.js';
import { RunWatch } from './run-watch.js';
import { resolveStalledStep } from './stalled-step.js';
import { runStepJob } from './step-runner.js';

/**
 * How often a running step re-reads its run even without a notice. The
 * update feed is lossy (see RunWatch), so this bounds how late an abort that
 * no notice announced stops a step; notices make the usual case immediate.
 */
const ABORT_SAFETY_POLL_MS = 30_000;

export interface WorkerProcess {
  stop(): Promise<void>;
}

export interface WorkerOptions {
  /**
   * Serve GET /metrics on WORKER_METRICS_PORT (default). False when web runs
   * in the same process (`npm start`): one process has one registry, and web
   * already serves it on PORT.
   */
  metricsServer?: boolean;
}

/**
 * The worker process: takes step jobs from the queue and runs them. BullMQ's
 * lock makes a job run on one worker at a time; a worker that dies loses its
 * lock and the job is picked up again (runStepJob then decides whether a
 * re-run is safe); a worker that cannot renew a lock stops that step before
 * another can take it over (config/job-lease.ts); a job BullMQ fails for
 * stalling too often is resolved from its step's recovery (stalled-step.ts). On start it reconciles, so a step left behind by a crash
 * is repaired even when no web process is up. Its actions come from the
 * process wiring (createActions), so they are built and checked once per process.
 */
export async function startWorker(env: WorkerEnv, log: Logger, backend: StateBackend, actions: EngineActions, options: WorkerOptions = {}): Promise<WorkerProcess> {
  const { store, queue } = backend;
  const service = new RunService({ store, queue, updates: backend.updates, followUps: backend.followUps, observe: recordRunEvents });
  const shutdown = new AbortController();
  const watch = new RunWatch(ABORT_SAFETY_POLL_MS);
  const unsubscribe = await backend.updates.subscribe((runId) => watch.notify(runId));
  const deps = { service, actions, log, sqlDir: resolve(env.SQL_DIR), env: process.env, now: Date.now, watch };

  const worker = backend.startStepWorker((job, lease, flow) => runStepJob(job, deps, { shutdown: shutdown.signal, ...(lease ? { lease } : {}) }, flow), {
    concurrency: env.WORKER_CONCURRENCY,
    lockDurationMs: env.WORKER_LOCK_MS,
    stalledIntervalMs: env.WORKER_STALLED_INTERVAL_MS,
    maxStalledCount: env.WORKER_MAX_STALLED_COUNT,
    onFailed: (jobId, err) => log.error({ jobId, err: err.message }, 'step job failed in the worker'),
    onError: (err) => log.error({ err: err.message }, 'worker error'),
    onStalledOut: (job, stalls, requeue) => {
      void resolveStalledStep(job, stalls, requeue, deps).then(
        (outcome) => log.warn({ jobId: job.jobId, stalls, outcome }, 'job stalled more than allowed: resolved without a person where its recovery allows'),
        (err: unknown) => log.error({ jobId: job.jobId, err: err instanceof Error ? err.message : String(err) }, 'could not resolve a stalled-out job; the reconciler will report it'),
      );
    },
  });
  // Chunks of fanned-out loads (any step of any run), beside the step jobs: a worker alone loads its own step's chunks too.
  const sources = new StepSources();
  const chunkDeps = { log, sqlDir: deps.sqlDir, connections: actions.connections, openers: chunkSourceOpeners(), sources, resolve: stepFromRun(service, deps.env) };
  const chunks = backend.startChunkWorker?.((job, control) => runChunkJob(job, control, chunkDeps), {
    concurrency: env.WORKER_CHUNK_CONCURRENCY,
    lockDurationMs: env.WORKER_LOCK_MS,
    stalledIntervalMs: env.WORKER_STALLED_INTERVAL_MS,
    // A chunk taken again is harmless (its checkpoint decides), so a chunk survives a few dead workers before its step fails.
    maxStalledCount: Math.max(3, env.WORKER_MAX_STALLED_COUNT),
    onFailed: (jobId, err) => log.warn({ jobId, err: err.message }, 'chunk job failed'),
    onError: (err) => log.error({ err: err.message }, 'chunk worker error'),
  });
  await worker.ready();
  await chunks?.ready();
  const report = await reconcileRuns({ store, queue, service, now: Date.now });
  const metrics: MetricsServer | null =
    options.metricsServer !== false && env.WORKER_METRICS_PORT > 0
      ? await startMetricsServer({ port: env.WORKER_METRICS_PORT, token: env.METRICS_TOKEN, log, health: async () => workerHealth(backend, worker.running()) })
      : null;
  log.info({ ...report, concurrency: env.WORKER_CONCURRENCY, chunkConcurrency: chunks ? env.WORKER_CHUNK_CONCURRENCY : 0, metricsPort: metrics?.port ?? null }, 'worker ready');

  return {
    /** Stops taking jobs and waits for the running ones; the backend stays open (its owner closes it). */
    async stop() {
      await metrics?.close();
      shutdown.abort();
      await Promise.all([worker.close(), chunks?.close()]);
      await sources.close();
      await unsubscribe();
    },
  };
}

async function workerHealth(backend: StateBackend, running: boolean): Promise<{ ok: boolean; detail: string }> {
  const health = await backend.health();
  if (!health.ok) return health;
  return running ? { ok: true, detail: `${health.detail}, taking jobs` } : { ok: false, detail: 'the queue worker is not running' };
}
