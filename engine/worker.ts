import { resolve } from 'node:path';
import type { Logger } from 'pino';
import type { WorkerEnv } from '../config/env.js';
import { BullJobQueue, createStepWorker, redisConnection } from '../config/job-queue.js';
import { RedisRunStore } from '../config/redis-run-store.js';
import { RedisRunUpdates } from '../config/run-updates.js';
import type { RunEvent } from '../runbook/events.js';
import { reconcileRuns } from '../runbook/reconcile.js';
import { RunService } from '../runbook/run-service.js';
import { assertCatalogImplemented } from './actions/index.js';
import { runStepJob } from './step-runner.js';

export interface WorkerProcess {
  stop(): Promise<void>;
}

/**
 * The worker process: takes step jobs from the queue and runs them. BullMQ's
 * lock makes a job run on one worker at a time; a worker that dies loses its
 * lock and the job is picked up again (runStepJob then decides whether a
 * re-run is safe). On start it reconciles, so a step left behind by a crash
 * is repaired even when no web process is up.
 */
export async function startWorker(env: WorkerEnv, log: Logger): Promise<WorkerProcess> {
  assertCatalogImplemented();
  const redis = redisConnection(env.REDIS_URL, 'worker');
  const bullRedis = redisConnection(env.REDIS_URL, 'worker-bullmq');
  const store = new RedisRunStore<RunEvent>(redis, env.REDIS_PREFIX);
  const queue = new BullJobQueue(redis, { prefix: env.REDIS_PREFIX });
  const service = new RunService({ store, queue, updates: new RedisRunUpdates(redis, env.REDIS_PREFIX) });
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
  log.info({ ...report, concurrency: env.WORKER_CONCURRENCY }, 'worker ready');

  return {
    async stop() {
      shutdown.abort();
      await worker.close();
      await queue.close();
      redis.disconnect();
      bullRedis.disconnect();
    },
  };
}
