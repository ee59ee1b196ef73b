import { EventEmitter } from 'node:events';
import { runEventCodec } from '../../runbook/event-schema.js';
import type { RunEvent } from '../../runbook/events.js';
import type { RunUpdateFeed, StateBackend } from '../backend.js';
import { MemoryNameCache } from '../name-cache.js';
import { MemoryJobQueue } from './job-queue.js';
import { MemoryDeliveryDedup, MemoryFollowUpIndex, MemoryLocks, MemoryMessageRefs } from './keyed-state.js';
import { MemoryRunStore } from './run-store.js';
import { MemoryScheduleStore } from './schedule-store.js';

/** Run-changed notices within the process; delivered on a later tick, as pub/sub delivers after the publish returns. */
class MemoryRunUpdates implements RunUpdateFeed {
  private readonly emitter = new EventEmitter();

  async publish(runId: string): Promise<void> {
    setImmediate(() => this.emitter.emit('update', runId));
  }

  async subscribe(onUpdate: (runId: string) => void): Promise<() => Promise<void>> {
    this.emitter.on('update', onUpdate);
    return async () => void this.emitter.off('update', onUpdate);
  }
}

/**
 * Every port in this process's memory, for local mode where no Redis answers.
 * `web` and `worker` must share one instance (they run in one process then).
 * Nothing survives the process: the local workspace's page says so.
 */
export function openMemoryBackend(now: () => number = Date.now): StateBackend {
  const queue = new MemoryJobQueue();
  const locks = new MemoryLocks(now);
  return {
    kind: 'memory',
    durable: false,
    store: new MemoryRunStore<RunEvent>(now, runEventCodec),
    queue,
    updates: new MemoryRunUpdates(),
    dedup: new MemoryDeliveryDedup(now),
    refs: new MemoryMessageRefs(),
    schedules: new MemoryScheduleStore(),
    followUps: new MemoryFollowUpIndex(),
    names: new MemoryNameCache(now),
    lock: (name, ttlMs) => locks.lock(name, ttlMs),
    startStepWorker: (processor, opts) => queue.startWorker(processor, opts),
    health: async () => ({ ok: true, detail: 'in-process state (not durable)' }),
    close: () => queue.close(),
  };
}
