import { FlowProducer, Job, Queue, type ConnectionOptions, type Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { asCutoverError, CutoverError } from '../runbook/errors.js';
import type { ChunkFailure, ChunkFlow, ChunkJob, ChunkProcessor } from './backend.js';
import { checkJobId, createLeasedWorker, type LeasedWorkerOptions } from './job-queue.js';

/**
 * Fan-out of a step's chunks over every worker (issue 15). The step job adds
 * one job per chunk to CHUNK_QUEUE as its BullMQ children (FlowProducer, one
 * MULTI per batch), so any worker process's chunk worker can load any chunk,
 * and BullMQ refuses to complete the step job while a child is pending.
 * Side channel, one hash per step job (`<prefix>:fanout:<stepJobId>`):
 *   stop               the step job's reason to stop every child
 *   flight:<t>\u0001<c>  rows the chunk in flight has sent (progress)
 *   failed:<round>     the first chunk failure of that round, as JSON
 * Exactly-once is not the queue's business: a chunk commits with its
 * checkpoint, so a chunk taken twice (a worker killed after COMMIT) is skipped.
 */
export const CHUNK_QUEUE = 'cutover-chunks';

/** Chunks per MULTI: one fan-out of a 5,000-chunk table is ten round trips, not one huge transaction. */
const ADD_BATCH = 500;
/** How often a running chunk reports its rows and asks whether the step job said stop. */
const CHUNK_TICK_MS = 500;
const HASH_TTL_S = 7 * 24 * 3600;

const chunkJobSchema = z.object({
  runId: z.string().min(1),
  stepId: z.string().min(1),
  attempt: z.number().int().nonnegative(),
  round: z.string().regex(/^[0-9a-f]{1,32}$/),
  table: z.string().min(1),
  chunk: z.string().min(1),
  payload: z.unknown(),
});
const failureSchema = z.object({ table: z.string(), chunk: z.string(), code: z.string(), message: z.string() });

const flightField = (table: string, chunk: string): string => `flight:${table}\u0001${chunk}`;
const hashKey = (prefix: string, stepJobId: string): string => `${prefix}:fanout:${stepJobId}`;

/** The step job's side, bound to the BullMQ job its worker is processing. */
export class BullChunkFlow implements ChunkFlow {
  constructor(
    private readonly job: Job,
    private readonly producer: FlowProducer,
    private readonly chunks: Queue,
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private get key(): string {
    return hashKey(this.prefix, this.job.id ?? '');
  }

  async add(jobs: readonly ChunkJob[]): Promise<void> {
    const parent = { id: this.job.id ?? '', queue: this.job.queueQualifiedName };
    await this.redis.expire(this.key, HASH_TTL_S);
    for (let i = 0; i < jobs.length; i += ADD_BATCH) {
      const batch = jobs.slice(i, i + ADD_BATCH).map((data, j) => {
        const jobId = `${parent.id}.${data.round}.${i + j}`;
        checkJobId(jobId);
        return {
          name: 'chunk',
          queueName: CHUNK_QUEUE,
          data,
          opts: {
            jobId,
            parent,
            // A failed chunk must not block the step job's completion; the step job reads its reason and fails the step.
            ignoreDependencyOnFailure: true,
            attempts: 1,
            removeOnComplete: { age: 24 * 3600 },
            removeOnFail: { age: 7 * 24 * 3600 },
          },
        };
      });
      await this.producer.addBulk(batch);
    }
  }

  async pending(): Promise<number> {
    const counts = await this.job.getDependenciesCount({ unprocessed: true });
    return counts.unprocessed ?? 0;
  }

  async failures(round: string): Promise<ChunkFailure[]> {
    const out: ChunkFailure[] = [];
    const recorded = await this.redis.hget(this.key, `failed:${round}`);
    if (recorded) {
      const parsed = failureSchema.safeParse(safeJson(recorded));
      if (parsed.success) out.push(parsed.data);
    }
    if (out.length > 0) return out;
    // A child BullMQ failed itself (its workers kept dying: stalled more than allowed) carries only BullMQ's reason.
    const ignored = await this.job.getIgnoredChildrenFailures();
    for (const [jobKey, reason] of Object.entries(ignored)) {
      const id = jobKey.slice(jobKey.lastIndexOf(':') + 1);
      if (!id.startsWith(`${this.job.id}.${round}.`)) continue;
      const child = await Job.fromId(this.chunks, id);
      const data = chunkJobSchema.safeParse(child?.data);
      out.push({
        table: data.success ? data.data.table : '?',
        chunk: data.success ? data.data.chunk : id,
        code: 'etl.chunk_lost',
        message: `the chunk's worker stopped before finishing it, more often than allowed (${reason})`,
      });
    }
    return out;
  }

  async inFlight(): Promise<Map<string, number>> {
    const all = await this.redis.hgetall(this.key);
    const out = new Map<string, number>();
    for (const [field, value] of Object.entries(all)) if (field.startsWith('flight:')) out.set(field.slice('flight:'.length), Number(value) || 0);
    return out;
  }

  async stop(reason: string): Promise<void> {
    await this.redis.hset(this.key, 'stop', reason);
    await this.redis.expire(this.key, HASH_TTL_S);
  }

  async resume(): Promise<void> {
    await this.redis.hdel(this.key, 'stop');
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** Producer and queue handles the step workers of one process share to fan chunks out. */
export class ChunkFlows {
  private readonly producer: FlowProducer;
  private readonly chunks: Queue;

  constructor(
    connection: ConnectionOptions,
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {
    this.producer = new FlowProducer({ connection, prefix });
    this.chunks = new Queue(CHUNK_QUEUE, { connection, prefix });
    // BullMQ re-emits the shared connection's errors here, and an 'error' nobody listens to throws; that connection logs them once per outage (RedisOutages).
    this.producer.on('error', () => undefined);
    this.chunks.on('error', () => undefined);
  }

  flowOf(job: Job): ChunkFlow {
    return new BullChunkFlow(job, this.producer, this.chunks, this.redis, this.prefix);
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.producer.close(), this.chunks.close()]);
  }
}

/**
 * A worker for chunk jobs. Each running chunk, every CHUNK_TICK_MS, writes
 * its rows in flight and asks whether its step job said stop; a stop aborts
 * the chunk (its transaction rolls back). A chunk that fails for its own
 * reason records it for the step job (first one wins) and fails; one stopped
 * by its step job fails without a reason of its own; one whose worker lost
 * the lock or shuts down goes back to the queue for another worker.
 */
export function createChunkWorker(
  connection: ConnectionOptions,
  redis: Redis,
  prefix: string,
  processor: ChunkProcessor,
  opts: LeasedWorkerOptions & { shutdown?: AbortSignal } = {},
): Worker {
  const shutdown = new AbortController();
  opts.shutdown?.addEventListener('abort', () => shutdown.abort(new CutoverError('worker.shutdown', 'the worker is shutting down')), { once: true });
  const worker = createLeasedWorker(
    CHUNK_QUEUE,
    connection,
    async (job, signal) => {
      const parsed = chunkJobSchema.safeParse(job.data);
      if (!parsed.success) throw new CutoverError('queue.bad_job', 'A queued chunk could not be read.', { detail: `job ${job.id}: ${parsed.error.message}` });
      const data = parsed.data;
      const parentId = job.parent?.id;
      if (!parentId) throw new CutoverError('queue.bad_job', 'A queued chunk has no step job.', { detail: `job ${job.id}` });
      const key = hashKey(prefix, parentId);
      const field = flightField(data.table, data.chunk);
      const stopped = new AbortController();
      const all = AbortSignal.any([signal, stopped.signal, shutdown.signal]);
      let rows = -1;
      let sent = -1;
      const tick = async (): Promise<void> => {
        const reason = await redis.hget(key, 'stop');
        if (reason !== null) stopped.abort(new CutoverError('etl.fan_out_stopped', `the step stopped its chunks: ${reason}`));
        if (rows !== sent && rows >= 0) {
          sent = rows;
          await redis.hset(key, field, String(rows));
        }
      };
      await tick();
      const timer = setInterval(() => void tick().catch(() => undefined), CHUNK_TICK_MS);
      try {
        if (stopped.signal.aborted) throw stopped.signal.reason;
        await processor(data, { signal: all, rows: (n) => (rows = n) });
      } catch (err) {
        const e = asCutoverError(err, 'etl.copy-failed');
        if (!all.aborted) {
          const failure: ChunkFailure = { table: data.table, chunk: data.chunk, code: e.code, message: e.userMessage };
          await redis.hsetnx(key, `failed:${data.round}`, JSON.stringify(failure)).catch(() => undefined);
        }
        throw e;
      } finally {
        clearInterval(timer);
        await redis.hdel(key, field).catch(() => undefined);
      }
    },
    { ...opts, giveBackWhen: shutdown.signal },
  );
  worker.on('closing', () => shutdown.abort(new CutoverError('worker.shutdown', 'the worker is shutting down')));
  return worker;
}
