import type { RunEvent } from '../runbook/events.js';
import type { DeliveryDedup, FollowUpIndex, JobQueue, RunStore, StepJob } from '../runbook/ports.js';
import type { RunUpdates } from '../runbook/run-service.js';
import type { NameCache } from './name-cache.js';
import type { MessageRefs } from './redis-message-refs.js';
import type { Lock } from './redis-lock.js';
import type { ScheduleStore } from './schedule-store.js';

/** Run-changed notices: published by whoever appends, heard by every renderer. Lossy by design (see RedisRunUpdates). */
export interface RunUpdateFeed extends RunUpdates {
  /** Calls onUpdate with the run id of each notice until the returned function is awaited. */
  subscribe(onUpdate: (runId: string) => void): Promise<() => Promise<void>>;
}

/** A queue of step jobs that can also be closed (connections, timers). */
export interface ClosableJobQueue extends JobQueue {
  close(): Promise<void>;
}

export type StepProcessor = (job: StepJob, signal?: AbortSignal) => Promise<void>;

export interface StepWorkerOptions {
  concurrency?: number;
  /** How long a job's lock lives without renewal; a crashed worker's job is stalled after this. */
  lockDurationMs?: number;
  /** How often workers look for stalled jobs. */
  stalledIntervalMs?: number;
  /** Stalls tolerated before the job fails ("job stalled more than allowable limit"). */
  maxStalledCount?: number;
  /** A job whose processor threw (after its attempts): logged, never silently dropped. */
  onFailed?: (jobId: string | undefined, error: Error) => void;
  onError?: (error: Error) => void;
  /**
   * BullMQ failed a job because it stalled more than maxStalledCount times
   * ("job stalled more than allowable limit"): its worker died or lost the
   * job's lock each time. `stalls` counts them; `requeue` puts the job back
   * in the queue once more. Never fired by the in-process backend (its
   * workers cannot die without it).
   */
  onStalledOut?: (job: StepJob, stalls: number, requeue: () => Promise<void>) => void;
}

/** Takes step jobs from the queue and runs them until closed. */
export interface StepWorker {
  /** Resolves when the worker is listening for jobs. */
  ready(): Promise<void>;
  /** Takes no new job, waits for the running ones. */
  close(): Promise<void>;
  /** True while it takes jobs (for health checks). */
  running(): boolean;
}

/**
 * Everything `web` and `worker` keep outside their memory, behind one port:
 * runs (event streams), the step queue and its workers, run-changed notices,
 * delivery dedup, message refs, schedules, follow-ups and locks. Redis in production
 * (config/redis-backend.ts); in-process for a laptop without Redis
 * (config/memory/backend.ts), which is not durable and says so.
 */
export interface StateBackend {
  /** 'redis' or 'memory': shown on the local workspace's page and in the logs. */
  readonly kind: 'redis' | 'memory';
  /** False when everything is lost with the process. */
  readonly durable: boolean;
  readonly store: RunStore<RunEvent>;
  readonly queue: ClosableJobQueue;
  readonly updates: RunUpdateFeed;
  readonly dedup: DeliveryDedup;
  readonly refs: MessageRefs;
  readonly schedules: ScheduleStore;
  /** Completed runs with follow-ups not yet done. */
  readonly followUps: FollowUpIndex;
  /** People's names from users.info, with a TTL. */
  readonly names: NameCache;
  /** The lock named `name` (e.g. 'escalation-sweep'), shared by every process on this backend. */
  lock(name: string, ttlMs: number): Lock;
  startStepWorker(processor: StepProcessor, opts?: StepWorkerOptions): StepWorker;
  /** For /healthz: can the backend be reached. Never throws. */
  health(): Promise<{ ok: boolean; detail: string }>;
  close(): Promise<void>;
}
