import type { Logger } from 'pino';
import type { ChunkFlow } from '../config/backend.js';
import type { CatalogueEntry } from '../runbook/backups.js';
import type { ErrorCode } from '../runbook/error-codes.js';
import { CutoverError } from '../runbook/errors.js';
import type { ConnectionRegistry } from './connections.js';
import type { EffectKey } from './ledger/effect-id.js';

/** What an action may use while it runs one attempt of one step. */
export interface ActionContext {
  runId: string;
  stepId: string;
  attempt: number;
  /** True: change nothing (sql runs in a transaction that is rolled back; shell/http say what they would do). */
  dryRun: boolean;
  connections: ConnectionRegistry;
  /** Absolute directory holding the repo's sql/ files. */
  sqlDir: string;
  /**
   * The key under which an action whose effect is one database transaction
   * records it in the effect ledger (engine/ledger/), in that transaction.
   * Null when nothing is to be recorded: a dry run, or a test that does not look.
   */
  effectKey: EffectKey | null;
  /** Aborted on step timeout, shutdown, abort or rollback of the run, or a lost job lock; every action stops its work when it fires. */
  signal: AbortSignal;
  progress(message: string, data?: Record<string, unknown>): void;
  /** Where the action reports what it measured, for /metrics; absent in tests that do not look. */
  metrics?: ActionMetrics;
  /** When this run's switch step went live (ISO time from its result), for post-go-live rollback steps. */
  goLiveAt?: string;
  /** The backups this run has made so far (its catalogue), for restores that name a backup step. */
  backups?: readonly CatalogueEntry[];
  /** What this run holds about another step of its runbook, for actions that build on an earlier one (unfreeze, query baselines); null for an unknown id. */
  stepRecord(stepId: string): StepRecord | null;
  /**
   * The step job's side of a fan-out: a load may hand its chunks to every
   * worker as child jobs of this step (engine/etl/fan-out.ts). Absent when the
   * queue cannot (in memory) or nothing is to be loaded (a dry run).
   */
  fanOut?: ChunkFlow;
  log: Logger;
}

/** What actions measure for GET /metrics (config/metrics.ts); the step runner binds it to the run's runbook. Never throws. */
export interface ActionMetrics {
  /** A chunk and its checkpoint committed: its rows and quarantined rows, and its table's rows/s so far in this load. */
  chunkCommitted(table: string, chunk: { rows: number; quarantined: number; tableRowsPerSecond: number }): void;
}

/** Another step as this run knows it: its action and parsed params from the runbook, its state from the run's events. */
export interface StepRecord {
  id: string;
  action: string;
  params: unknown;
  status: string;
  attempt: number;
  /** When its current attempt started (null: not yet, or never). */
  startedAt: number | null;
  /** Its result's details when it succeeded, its error's when it failed. */
  details?: Record<string, unknown>;
  skipped?: { by: string; reason: string } | null;
}

/** summary: one human line for Slack; details: small JSON (row counts, first rows, exit code, output tail). */
export interface ActionResult {
  summary: string;
  details?: Record<string, unknown>;
}

/** One engine action, registered (engine/actions/index.ts) under the id its spec in runbook/actions/ gives it. */
export interface ActionImpl<P> {
  id: string;
  run(ctx: ActionContext, params: P): Promise<ActionResult>;
}

/**
 * A failed action: a CutoverError that also carries the same small JSON an
 * ActionResult would (exit code, output tail, status), so the thread can show
 * what went wrong and not only that it did.
 */
export class ActionError extends CutoverError {
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, userMessage: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(code, userMessage, { cause: options.cause });
    this.name = 'ActionError';
    this.details = options.details;
  }
}

/** Thrown when ctx.signal fired; the namespace says which action stopped. */
export function cancelledError(namespace: 'backup' | 'etl' | 'freeze' | 'queries' | 'retry' | 'sql' | 'validate', signal: AbortSignal, what: string): ActionError {
  return new ActionError(`${namespace}.cancelled`, `${what} was cancelled (${abortReason(signal)})`, {
    cause: signal.reason,
  });
}

/** A short sentence for why a signal fired: the step timed out, or the worker is shutting down. */
export function abortReason(signal: AbortSignal): string {
  const reason: unknown = signal.reason;
  if (reason instanceof CutoverError) return reason.userMessage;
  if (reason instanceof Error && reason.name === 'TimeoutError') return 'step timeout';
  if (reason instanceof Error && reason.message && reason.name !== 'AbortError') return reason.message;
  if (typeof reason === 'string' && reason) return reason;
  return 'step timeout or shutdown';
}

export const truncate = (text: string, max: number): string =>
  text.length <= max ? text : `${text.slice(0, Math.max(0, max - 1))}…`;
