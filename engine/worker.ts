import { resolve } from 'node:path';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { WorkerEnv } from '../config/env.js';
import { RedisFollowUpIndex } from '../config/follow-up-index.js';
import { BullJobQueue, createStepWorker, redisConnection } from '../config/job-queue.js';
import { startMetricsServer, type MetricsServer } from '../config/metrics-server.js';
import { RedisRunStore } from '../config/redis-run-store.js';
import { recordRunEvents } from '../config/run-metrics.js';
import { RedisRunUpdates } from '../config/run-updates.js';
import type { RunEvent } from '../runbook/events.js';
import { reconcileRuns } from '../runbook/reconcile.js';
import { RunService } from '../runbook/run-service.js';
import { assertCatalogImplemented } from './actions/index.js';
import { runStepJob } from './step-runner.js';

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
 * re-run is safe). On start it reconciles, so a step left behind by a crash
 * is repaired even when no web process is up.
 */
export async function startWorker(env: WorkerEnv, log: Logger, options: WorkerOptions = {}): Promise<WorkerProcess> {
  assertCatalogImplemented();
  const redis = redisConnection(env.REDIS_URL, 'worker');
  const bullRedis = redisConnection(env.REDIS_URL, 'worker-bullmq');
  const store = new RedisRunStore<RunEvent>(redis, env.REDIS_PREFIX);
  const queue = new BullJobQueue(redis, { prefix: env.REDIS_PREFIX });
  const service = new RunService({
    store,
    queue,
    updates: new RedisRunUpdates(redis, env.REDIS_PREFIX),
    followUps: new RedisFollowUpIndex(redis, env.REDIS_PREFIX),
    observe: recordRunEvents,
  });
  const shutdown = new AbortController();
  const deps = { service, log, sqlDir: resolve(env.SQL_DIR), env: process.env, now: Date.now };

  const worker = createStepWorker(bullRedis, (job) => runStepJob(job, deps, shutdown.signal), {
    concurrency: env.WORKER_CONCURRENCY,
    lockDurationMs: env.WORKER_LOCK_MS,
    stalledIntervalMs: env.WORKER_STALLED_INTERVAL_MS,
    prefix: env.REDIS_PREFIX,
  });
  worker.on('failed', (job, err) => log.error({ jobId: job?.id, err: err.message }, 'step job failed in the worker'));
  worker.on('error', (err) => log.error({ err: err.message }, 'worker error'));
  await worker.waitUntilReady();
  const report = await reconcileRuns({ store, queue, service, now: Date.now });
  const metrics: MetricsServer | null =
    options.metricsServer !== false && env.WORKER_METRICS_PORT > 0
      ? await startMetricsServer({ port: env.WORKER_METRICS_PORT, token: env.METRICS_TOKEN, log, health: async () => workerHealth(redis, worker.isRunning()) })
      : null;
  log.info({ ...report, concurrency: env.WORKER_CONCURRENCY, metricsPort: metrics?.port ?? null }, 'worker ready');

  return {
    async stop() {
      await metrics?.close();
      shutdown.abort();
      await worker.close();
      await queue.close();
      redis.disconnect();
      bullRedis.disconnect();
    },
  };
}

async function workerHealth(redis: Redis, running: boolean): Promise<{ ok: boolean; detail: string }> {
  const pong = await redis.ping();
  if (pong !== 'PONG') return { ok: false, detail: `redis answered ${pong}` };
  return running ? { ok: true, detail: 'redis ok, taking jobs' } : { ok: false, detail: 'the queue worker is not running' };
}
