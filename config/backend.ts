import type { RunEvent } from '../runbook/events.js';
import type { FollowUpIndex, JobQueue, RunStore, StepJob } from '../runbook/ports.js';
import type { DeliveryDedup } from './delivery-dedup.js';
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

/**
 * Runs one step job. `signal` fires when the worker loses the job's lock;
 * `flow` is present when the backend can fan a step's work out to every
 * worker as child jobs of this step job (Redis), absent in memory.
 */
export type StepProcessor = (job: StepJob, signal?: AbortSignal, flow?: ChunkFlow) => Promise<void>;

/**
 * One chunk of a load as a job of its own, child of the step job that planned
 * it (a BullMQ flow). The engine owns `payload` and validates it on read.
 */
export interface ChunkJob {
  runId: string;
  stepId: string;
  attempt: number;
  /** One fan-out by one holder of the step job; a step job taken over after a crash starts a new round. */
  round: string;
  /** Booked table name (schema.name) and chunk id, for progress and reasons. */
  table: string;
  chunk: string;
  payload: unknown;
}

/** A chunk that could not be loaded: its worker's reason, or the queue's when the chunk's workers kept dying. */
export interface ChunkFailure {
  table: string;
  chunk: string;
  code: string;
  message: string;
}

/**
 * The step job's side of a fan-out. Its chunk jobs are children of the step
 * job, so the queue itself refuses to complete the step job while one is
 * pending; the chunk checkpoints (cutover_etl.chunks) stay the only record
 * of what is loaded.
 */
export interface ChunkFlow {
  /** Adds these chunk jobs, atomically, as children of the running step job. */
  add(jobs: readonly ChunkJob[]): Promise<void>;
  /** Children of the step job (of any round) not yet completed or failed. */
  pending(): Promise<number>;
  /** Chunks of this round that failed, with the chunk worker's reason. */
  failures(round: string): Promise<ChunkFailure[]>;
  /** Rows each chunk in flight has sent so far, by `table\u0001chunk`. */
  inFlight(): Promise<Map<string, number>>;
  /** Tells every child of the step job to stop: running chunks roll back, the others fail as soon as taken. */
  stop(reason: string): Promise<void>;
  /** Lifts a stop before a new round. */
  resume(): Promise<void>;
}

/** What a chunk job's processor is given besides the job. */
export interface ChunkControl {
  /** Fires when the step job said stop, this worker lost the chunk's lock, or the worker shuts down. */
  signal: AbortSignal;
  /** Rows of the chunk sent so far (the step job adds them up for its progress). */
  rows(n: number): void;
}

export type ChunkProcessor = (job: ChunkJob, control: ChunkControl) => Promise<void>;

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
  /** Takes chunk jobs of fanned-out loads (absent in memory: there a load runs in its step job alone). */
  startChunkWorker?(processor: ChunkProcessor, opts?: StepWorkerOptions): StepWorker;
  /** For /healthz: can the backend be reached. Never throws. */
  health(): Promise<{ ok: boolean; detail: string }>;
  close(): Promise<void>;
}
