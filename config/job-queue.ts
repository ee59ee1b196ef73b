import { Queue, WaitingError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { z } from 'zod';
import { CutoverError } from '../runbook/errors.js';
import type { StepJob } from '../runbook/ports.js';
import type { ChunkFlow, ClosableJobQueue, StepProcessor, StepWorkerOptions as BackendWorkerOptions } from './backend.js';
import { JobLeases } from './job-lease.js';
import { RedisOutages } from './redis-outages.js';

export const STEP_QUEUE = 'cutover-steps';

/** BullMQ's reason for a job failed because it stalled more than maxStalledCount times. */
export const STALLED_OUT = 'job stalled more than allowable limit';

/** How long a job failed for stalling is given to be put back in the queue by the worker that saw it fail. */
const REQUEUE_GRACE_MS = 1_000;

type QueueState = 'waiting' | 'active' | 'completed' | 'failed' | 'missing';

/** BullMQ's job states as the JobQueue port names them. */
function stateOf(state: string): { state: QueueState } {
  switch (state) {
    case 'waiting':
    case 'delayed':
    case 'prioritized':
    case 'waiting-children':
      return { state: 'waiting' };
    case 'active':
    case 'completed':
    case 'failed':
      return { state };
    default:
      return { state: 'missing' };
  }
}

const stepJobSchema = z.object({
  jobId: z.string().min(1),
  runId: z.string().min(1),
  stepId: z.string().min(1),
  attempt: z.number().int().nonnegative(),
});

/**
 * ioredis connection fit for BullMQ: workers block on Redis, so commands must
 * wait out a reconnect instead of failing after N retries (maxRetriesPerRequest: null).
 */
export function redisConnection(url: string, purpose: string, outages: RedisOutages = new RedisOutages()): Redis {
  // CLIENT SETNAME refuses spaces; the name is what shows in CLIENT LIST during an incident.
  const connectionName = `cutover:${purpose}`.replace(/[^A-Za-z0-9:._-]/g, '_');
  const redis = new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true, connectionName });
  // Never without an 'error' listener: ioredis would print a stack trace to stderr on every retry.
  outages.watch(redis, purpose);
  return redis;
}

/** The URL as it may appear in logs: any password replaced by ***. */
export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<unparseable redis url>'; // an unparseable URL may still hold a secret
  }
}

/** Refuses a job id no queue may hold; every JobQueue calls it, so ids behave alike on Redis and in memory. */
export function checkJobId(jobId: string): void {
  // BullMQ only rejects ':' in some shapes (legacy repeat ids); refuse all, it is its key separator.
  if (jobId.includes(':')) {
    throw new CutoverError('queue.bad_job_id', 'Could not queue the step.', { detail: `job id "${jobId}" contains ":"` });
  }
}

/**
 * JobQueue on BullMQ. Idempotent because the job id is deterministic and
 * BullMQ ignores an add whose id already exists (while the job is retained).
 */
export class BullJobQueue implements ClosableJobQueue {
  private readonly queue: Queue;

  constructor(connection: ConnectionOptions, opts: { prefix?: string; outages?: RedisOutages; purpose?: string } = {}) {
    this.queue = new Queue(STEP_QUEUE, { connection, ...(opts.prefix ? { prefix: opts.prefix } : {}) });
    // BullMQ re-emits its connection's errors on the queue; an EventEmitter's 'error' with no listener throws.
    const outages = opts.outages ?? new RedisOutages();
    this.queue.on('error', (err) => outages.error(`${opts.purpose ?? 'cutover'}-bullmq-queue`, err));
  }

  async enqueue(job: StepJob): Promise<void> {
    checkJobId(job.jobId);
    await this.queue.add('step', job, {
      jobId: job.jobId,
      attempts: 1, // business failures become events; a throw here means a bug or a crash
      // Retention is what makes a re-enqueue a no-op; after removal the same id would run again.
      removeOnComplete: { age: 7 * 24 * 3600 },
      removeOnFail: { age: 30 * 24 * 3600 },
    });
  }

  /**
   * Where a job is. A job BullMQ failed for stalling is put straight back by
   * the worker that saw it fail (redis-backend.ts, onStalledOut): such a
   * failure, or one whose reason is gone (put back between the two reads:
   * the move clears the reason), is looked at again for up to a second, so
   * the reconciler does not report lost a step that is about to run again.
   */
  async state(jobId: string): Promise<{ state: 'waiting' | 'active' | 'completed' | 'failed' | 'missing'; failedReason?: string }> {
    const deadline = Date.now() + REQUEUE_GRACE_MS;
    for (;;) {
      const state = await this.queue.getJobState(jobId);
      if (state !== 'failed') return stateOf(state);
      const reason = (await this.queue.getJob(jobId))?.failedReason;
      if ((reason && reason !== STALLED_OUT) || Date.now() >= deadline) return reason ? { state: 'failed', failedReason: reason } : { state: 'failed' };
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}

export type { StepProcessor } from './backend.js';

export interface StepWorkerOptions extends Omit<BackendWorkerOptions, 'onFailed' | 'onError' | 'onStalledOut'> {
  prefix?: string;
}

/** A job's data read back from Redis, or null when it is not a step job. */
export function stepJobOf(job: Pick<Job, 'data'>): StepJob | null {
  const parsed = stepJobSchema.safeParse(job.data);
  return parsed.success ? parsed.data : null;
}


/**
 * A BullMQ worker that knows when each lock renewal was sent, so its
 * JobLeases can give a job up before the server-side lock can have expired.
 * extendJobLocks is the method BullMQ's lock manager calls to renew them.
 */
class LeasedWorker extends Worker {
  leases: JobLeases | null = null;

  override async extendJobLocks(jobIds: string[], tokens: string[], duration: number): Promise<string[]> {
    const sentAt = Date.now();
    const failed = await super.extendJobLocks(jobIds, tokens, duration);
    this.leases?.renewed(jobIds.filter((id) => !failed.includes(id)), sentAt);
    this.leases?.refused(failed);
    return failed;
  }
}

/** How a leased worker is run: BullMQ's lock, stall checks and concurrency. */
export interface LeasedWorkerOptions {
  concurrency?: number;
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  maxStalledCount?: number;
  prefix?: string;
}

/**
 * A BullMQ worker on `queueName` whose processor gets a signal that also
 * fires when this worker loses the job's lock (config/job-lease.ts); the
 * processor then stops its work and throws, and the job is handed back to
 * the queue (moveToWait, when the lock is still ours) for whichever worker
 * takes it next to resume. `onStop` names other reasons to give a job back
 * rather than fail it (a worker shutting down).
 */
export function createLeasedWorker(
  queueName: string,
  connection: ConnectionOptions,
  work: (job: Job, signal: AbortSignal) => Promise<unknown>,
  opts: LeasedWorkerOptions & { giveBackWhen?: AbortSignal } = {},
): Worker {
  const lockMs = opts.lockDurationMs ?? 30_000;
  const leases = new JobLeases(lockMs);
  // Three declared parameters: BullMQ passes the AbortSignal only to processors of arity ≥ 3.
  const run = async (job: Job, token?: string, signal?: AbortSignal): Promise<unknown> => {
    const lease = leases.hold(job.id ?? '', job.processedOn ?? Date.now());
    try {
      return await work(job, signal ? AbortSignal.any([signal, lease.signal]) : lease.signal);
    } catch (err) {
      if (!lease.signal.aborted && !opts.giveBackWhen?.aborted) throw err;
      // Still ours (Redis came back in time): give it back now instead of waiting for the stalled check. Not ours: nothing to give.
      if (token) await job.moveToWait(token).catch(() => undefined);
      throw new WaitingError();
    } finally {
      lease.release();
    }
  };
  const worker = new LeasedWorker(queueName, run, {
    connection,
    concurrency: opts.concurrency ?? 1,
    lockDuration: lockMs,
    stalledInterval: opts.stalledIntervalMs ?? 30_000,
    maxStalledCount: opts.maxStalledCount ?? 1,
    ...(opts.prefix ? { prefix: opts.prefix } : {}),
  });
  worker.leases = leases;
  // A tenth of the lock's life: the hold is given up within 0.8–0.9 of it, leaving the step time to roll back.
  const watch = setInterval(() => leases.expire(), Math.max(50, Math.floor(lockMs / 10)));
  watch.unref();
  worker.on('closed', () => clearInterval(watch));
  return worker;
}

/**
 * Runs step jobs; job data is validated here because it was read back from
 * Redis. The processor's signal also fires when this worker loses the job's
 * lock (see createLeasedWorker). `flowOf` gives the processor the step job's
 * side of a fan-out (config/chunk-flow.ts).
 */
export function createStepWorker(
  connection: ConnectionOptions,
  processor: StepProcessor,
  opts: StepWorkerOptions & { flowOf?: (job: Job) => ChunkFlow } = {},
): Worker {
  return createLeasedWorker(
    STEP_QUEUE,
    connection,
    async (job, signal) => {
      const data = stepJobOf(job);
      if (!data) {
        const problem = stepJobSchema.safeParse(job.data).error?.message ?? 'not a step job';
        throw new CutoverError('queue.bad_job', 'A queued step could not be read.', { detail: `job ${job.id}: ${problem}` });
      }
      await processor(data, signal, opts.flowOf?.(job));
    },
    opts,
  );
}
