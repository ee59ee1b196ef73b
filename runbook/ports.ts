/**
 * Ports the pure core needs from the outside world. Implementations live in
 * config/ (Redis) and are wired once per process.
 */

/** Append-only event log of runs, with optimistic concurrency per run. */
export interface RunStore<E extends { type: string }> {
  /** All events of a run in order, and its version (= number of events). */
  load(runId: string): Promise<{ events: E[]; version: number }>;
  /**
   * The events after the first `known.version` ones, the new version, and a
   * cursor that makes the next such read start where this one ended (a
   * stream entry id; null where position alone is enough). Null when the
   * stream is shorter than `known.version`: what the caller holds is not this
   * run's history, so it must load in full. Lets a reader fold a long run
   * once and then only what was added (runbook/fold-cache.ts).
   */
  loadAfter(runId: string, known: { version: number; cursor: string | null }): Promise<{ events: E[]; version: number; cursor: string | null } | null>;
  /**
   * Appends atomically iff the run is still at expectedVersion. The loser of a
   * race gets `conflict` and must reload and decide again; never throws for it.
   */
  append(runId: string, expectedVersion: number, events: E[]): Promise<AppendResult>;
  /**
   * Creates a run with its first events, claiming the runbook's single active
   * slot in the same atomic step. Refused when another run of that runbook is active.
   */
  create(runId: string, runbook: string, events: E[]): Promise<{ ok: true } | { ok: false; activeRunId: string }>;
  /** Frees the runbook's active slot, only if it is still held by runId. */
  release(runbook: string, runId: string): Promise<void>;
  /** Runs holding an active slot, one per runbook. */
  active(): Promise<Array<{ runbook: string; runId: string }>>;
  /** Most recent runs first (active and finished). */
  recent(limit: number): Promise<Array<{ runId: string; runbook: string; startedAt: number }>>;
}

/** How a backend stores events as text and checks them when read back (runbook/event-schema.ts for RunEvent). */
export interface EventCodec<E> {
  encode(event: E): string;
  /** Throws (naming the field, e.g. EventFormatError) for anything that is not an E this version can read. */
  decode(raw: unknown): E;
}

export type AppendResult = { ok: true; version: number } | { ok: false; reason: 'conflict'; actualVersion: number };

/**
 * Completed runs with follow-ups nobody has marked done: the runs the
 * follow-up sweep visits (finished runs are not in `active()`). A set, so
 * adding twice is harmless.
 */
export interface FollowUpIndex {
  add(runId: string): Promise<void>;
  remove(runId: string): Promise<void>;
  list(): Promise<string[]>;
}

/** Queue of engine work; job ids are deterministic so enqueuing twice is harmless. */
export interface JobQueue {
  enqueue(job: StepJob): Promise<void>;
  /** Where a job is: waiting/active/completed/failed, or missing. */
  state(jobId: string): Promise<{ state: 'waiting' | 'active' | 'completed' | 'failed' | 'missing'; failedReason?: string }>;
}

export interface StepJob {
  jobId: string;
  runId: string;
  stepId: string;
  attempt: number;
}

export const stepJobId = (runId: string, stepId: string, attempt: number): string => `${runId}__${stepId}__${attempt}`;
