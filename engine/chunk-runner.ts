import type { Logger } from 'pino';
import type { ChunkControl, ChunkJob } from '../config/backend.js';
import { CutoverError } from '../runbook/errors.js';
import { loadRunbook } from '../runbook/load.js';
import type { RunService } from '../runbook/run-service.js';
import { isFinished } from '../runbook/state.js';
import type { ActionContext } from './action.js';
import type { ChunkSource, ChunkSourceOpener } from './actions/chunk-sources.js';
import type { ConnectionOpener, ConnectionSpec } from './connections.js';
import { parseChunkPayload } from './etl/chunk-payload.js';
import { loadChunk } from './etl/copy-chunk.js';

/** The step a chunk belongs to, as its runbook says: its action, params and connections. */
export interface ChunkStep {
  action: string;
  params: unknown;
  connections: Record<string, ConnectionSpec>;
}

export interface ChunkRunnerDeps {
  log: Logger;
  sqlDir: string;
  /** How a chunk's source opens its step's connections (the worker's, from createActions). */
  connections: ConnectionOpener;
  openers: Record<string, ChunkSourceOpener>;
  sources: StepSources;
  /** The chunk's step while its attempt is running, else null (the chunk is then not loaded). */
  resolve(job: ChunkJob): Promise<ChunkStep | null>;
}

/**
 * A step while its attempt is running, read from the run's events and the
 * runbook the run started with: a chunk of an attempt that ended (aborted,
 * failed, superseded by a retry) is not loaded.
 */
export function stepFromRun(service: RunService, env: Readonly<Record<string, string | undefined>>): (job: ChunkJob) => Promise<ChunkStep | null> {
  return async (job) => {
    const state = await service.load(job.runId);
    const step = state?.steps[job.stepId];
    if (!state || !step || isFinished(state) || step.attempt !== job.attempt || step.status !== 'running') return null;
    const loaded = loadRunbook({ name: state.plan.runbook, file: state.runbookFile, text: state.runbookText, env });
    if (!loaded.ok) throw new CutoverError('runbook.invalid', `The runbook no longer loads in the worker: ${loaded.problems[0]?.message}`);
    const doc = [...loaded.runbook.doc.phases.flatMap((p) => p.steps), ...Object.values(loaded.runbook.doc.rollback).flatMap((r) => r.steps)].find((s) => s.id === job.stepId);
    if (!doc) return null;
    return { action: doc.action, params: loaded.runbook.params[job.stepId], connections: loaded.runbook.doc.connections };
  };
}

/**
 * Loads one chunk of a fanned-out step with loadChunk: its rows, refused rows
 * and checkpoint in one transaction, a chunk already booked skipped. Throws
 * the chunk's error (the chunk worker records it for the step job); returns
 * quietly when the step's attempt is no longer running.
 */
export async function runChunkJob(job: ChunkJob, control: ChunkControl, deps: ChunkRunnerDeps): Promise<void> {
  const log = deps.log.child({ runId: job.runId, stepId: job.stepId, table: job.table, chunk: job.chunk });
  const parsed = parseChunkPayload(job.payload);
  if (!parsed.ok) throw new CutoverError('queue.bad_job', 'A queued chunk could not be read.', { detail: parsed.problem });
  const step = await deps.resolve(job);
  if (!step) {
    log.info('chunk not loaded: its step attempt is no longer running');
    return;
  }
  const open = deps.openers[step.action];
  if (!open) throw new CutoverError('etl.fan_out_unsupported', `Action ${step.action} cannot load chunks on other workers.`);
  const { payload } = parsed;
  const key = `${job.runId}/${job.stepId}/${job.attempt}`;
  const result = await deps.sources.use(key, () => openFor(job, step, open, deps), (source) =>
    loadChunk(source.pool, {
      loadId: payload.loadId,
      table: payload.table,
      chunk: payload.chunk,
      open: () => source.source.openChunk(payload.table, payload.chunk, control.signal),
      signal: control.signal,
      onRows: control.rows,
      schema: payload.schema,
      truncateIfFresh: payload.truncateIfFresh,
      ...(payload.maxRejectedRows !== undefined ? { maxRejectedRows: payload.maxRejectedRows } : {}),
      sessionTimeZone: payload.sessionTimeZone,
    }),
  );
  log.info({ rows: result.rows, quarantined: result.quarantined, seconds: Math.round(result.seconds * 100) / 100 }, result.status === 'loaded' ? 'chunk loaded' : 'chunk already booked');
}

async function openFor(job: ChunkJob, step: ChunkStep, open: ChunkSourceOpener, deps: ChunkRunnerDeps): Promise<ChunkSource> {
  const log = deps.log.child({ runId: job.runId, stepId: job.stepId });
  const connections = deps.connections(step.connections, log);
  // Lives as long as the cached source: no step timeout or abort of its own (each chunk has its signal).
  const ctx: ActionContext = {
    runId: job.runId,
    stepId: job.stepId,
    attempt: job.attempt,
    dryRun: false,
    effectKey: null,
    connections,
    sqlDir: deps.sqlDir,
    signal: new AbortController().signal,
    progress: () => undefined,
    stepRecord: () => null,
    log,
  };
  try {
    const source = await open(ctx, step.params);
    return {
      ...source,
      close: async () => {
        await source.close().catch(() => undefined);
        await connections.close();
      },
    };
  } catch (err) {
    await connections.close();
    throw err;
  }
}

/**
 * A chunk worker's open sources, one per step attempt, shared by the chunks
 * of that step it runs at once and closed when none has come for IDLE_MS
 * (a SQL Server pool and encode threads are worth keeping between chunks,
 * not for the rest of the night).
 */
export class StepSources {
  private readonly open = new Map<string, { source: Promise<ChunkSource>; users: number; idle: NodeJS.Timeout | null }>();

  constructor(private readonly idleMs = 15_000) {}

  async use<T>(key: string, opener: () => Promise<ChunkSource>, fn: (source: ChunkSource) => Promise<T>): Promise<T> {
    let entry = this.open.get(key);
    if (!entry) {
      entry = { source: opener(), users: 0, idle: null };
      this.open.set(key, entry);
      const e = entry;
      // A failed open is forgotten, so the next chunk tries again.
      void e.source.catch(() => this.open.get(key) === e && this.open.delete(key));
    }
    const e = entry;
    if (e.idle) clearTimeout(e.idle);
    e.idle = null;
    e.users++;
    try {
      return await fn(await e.source);
    } finally {
      e.users--;
      if (e.users === 0 && this.open.get(key) === e) {
        e.idle = setTimeout(() => void this.drop(key, e), this.idleMs);
        e.idle.unref();
      }
    }
  }

  private async drop(key: string, e: { source: Promise<ChunkSource>; users: number }): Promise<void> {
    if (e.users > 0 || this.open.get(key) !== e) return;
    this.open.delete(key);
    await (await e.source).close().catch(() => undefined);
  }

  /** Closes every source; never throws. */
  async close(): Promise<void> {
    const all = [...this.open.values()];
    this.open.clear();
    for (const e of all) if (e.idle) clearTimeout(e.idle);
    await Promise.allSettled(all.map(async (e) => (await e.source).close()));
  }
}
