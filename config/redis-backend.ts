import type { Redis } from 'ioredis';
import { runEventCodec } from '../runbook/event-schema.js';
import type { RunEvent } from '../runbook/events.js';
import type { StateBackend, StepWorker } from './backend.js';
import { RedisFollowUpIndex } from './follow-up-index.js';
import { ChunkFlows, createChunkWorker } from './chunk-flow.js';
import { BullJobQueue, createStepWorker, redisConnection, STALLED_OUT, stepJobOf } from './job-queue.js';
import { RedisNameCache } from './name-cache.js';
import { RedisDeliveryDedup } from './redis-dedup.js';
import { RedisLock } from './redis-lock.js';
import { RedisMessageRefs } from './redis-message-refs.js';
import { RedisRunStore } from './redis-run-store.js';
import { RedisRunUpdateFeed } from './run-updates.js';
import { RedisOutages, type OutageLogger } from './redis-outages.js';
import { RedisScheduleStore } from './schedule-store.js';

/** /healthz answers within a second whatever Redis does: the ping's bound, leaving the rest for HTTP. */
export const HEALTH_PING_TIMEOUT_MS = 700;

/** Errors of a lost or refused connection (retried by ioredis), as opposed to a command's own error. */
const isConnectionError = (err: Error): boolean =>
  /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|EPIPE|Connection is closed|connect ETIMEDOUT/.test(`${(err as { code?: string }).code ?? ''} ${err.message}`);

/**
 * The production backend: every port on one Redis (one connection for
 * commands; a subscriber and each worker's blocking connection are opened
 * on demand, because neither can share a connection). Durable as far as
 * Redis persists (docs/running.md: run it with AOF).
 */
export function openRedisBackend(config: { REDIS_URL: string; REDIS_PREFIX: string }, purpose: string, log?: OutageLogger): StateBackend {
  const prefix = config.REDIS_PREFIX;
  // Every connection's errors (and BullMQ's) go to the log once per outage; see RedisOutages.
  const outages = new RedisOutages(log);
  const redis = redisConnection(config.REDIS_URL, purpose, outages);
  // BullMQ's worker has no 'ready' to say it is back: the main connection's stands for it.
  redis.on('ready', () => outages.allBack());
  const extra: Redis[] = [];
  const open = (role: string): Redis => {
    const connection = redisConnection(config.REDIS_URL, `${purpose}-${role}`, outages);
    extra.push(connection);
    return connection;
  };
  const queue = new BullJobQueue(redis, { prefix, outages, purpose });
  let flows: ChunkFlows | null = null;
  return {
    kind: 'redis',
    durable: true,
    store: new RedisRunStore<RunEvent>(redis, prefix, runEventCodec),
    queue,
    updates: new RedisRunUpdateFeed(redis, prefix, () => open('updates')),
    dedup: new RedisDeliveryDedup(redis, prefix),
    refs: new RedisMessageRefs(redis, prefix),
    schedules: new RedisScheduleStore(redis, prefix),
    followUps: new RedisFollowUpIndex(redis, prefix),
    names: new RedisNameCache(redis, prefix),
    lock: (name, ttlMs) => new RedisLock(redis, `${prefix}:lock:${name}`, ttlMs),
    startStepWorker(processor, opts = {}): StepWorker {
      const { onFailed, onError, onStalledOut, ...options } = opts;
      flows ??= new ChunkFlows(redis, redis, prefix);
      const chunkFlows = flows;
      const worker = createStepWorker(open('bullmq'), processor, { ...options, prefix, flowOf: (job) => chunkFlows.flowOf(job) });
      worker.on('failed', (job, err) => {
        onFailed?.(job?.id, err);
        const data = job && err.message === STALLED_OUT ? stepJobOf(job) : null;
        if (job && data) onStalledOut?.(data, job.stalledCounter, () => job.retry('failed'));
      });
      // Connection errors repeat on every retry: once per outage to the log; other errors to the caller, each time.
      worker.on('error', (err) => (isConnectionError(err) ? outages.error(`${purpose}-bullmq-worker`, err) : onError?.(err)));
      return { ready: async () => void (await worker.waitUntilReady()), close: () => worker.close(), running: () => worker.isRunning() };
    },
    startChunkWorker(processor, opts = {}): StepWorker {
      const { onFailed, onError, onStalledOut: _unused, ...options } = opts;
      // Its own connection: a worker blocks on Redis while it waits for a job.
      const worker = createChunkWorker(open('chunks'), redis, prefix, processor, { ...options, prefix });
      worker.on('failed', (job, err) => onFailed?.(job?.id, err));
      // Connection errors repeat on every retry: once per outage to the log; other errors to the caller, each time.
      worker.on('error', (err) => (isConnectionError(err) ? outages.error(`${purpose}-bullmq-chunks`, err) : onError?.(err)));
      return { ready: async () => void (await worker.waitUntilReady()), close: () => worker.close(), running: () => worker.isRunning() };
    },
    async health() {
      // A stopped or unreachable Redis makes a ping wait (commands queue until it is back): answer within the bound instead.
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((resolve) => {
        timer = setTimeout(() => resolve('late'), HEALTH_PING_TIMEOUT_MS);
      });
      try {
        const pong = await Promise.race([redis.ping(), late]);
        if (pong === 'late') return { ok: false, detail: `redis did not answer a ping within ${HEALTH_PING_TIMEOUT_MS} ms` };
        return { ok: pong === 'PONG', detail: pong === 'PONG' ? 'redis ok' : `redis answered ${pong}` };
      } catch (err) {
        return { ok: false, detail: `redis: ${err instanceof Error ? err.message : String(err)}` };
      } finally {
        clearTimeout(timer);
      }
    },
    async close() {
      await queue.close();
      await flows?.close();
      for (const connection of extra) connection.disconnect();
      redis.disconnect();
    },
  };
}
