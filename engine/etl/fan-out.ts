import { randomBytes } from 'node:crypto';
import type { ChunkFlow, ChunkJob } from '../../config/backend.js';
import { toErrorCode } from '../../runbook/error-codes.js';
import { asCutoverError, CutoverError } from '../../runbook/errors.js';
import { cancelledError } from '../action.js';
import { bookedName, checkpointsOf, DEFAULT_ETL_SCHEMA, ensureCheckpointTables } from './checkpoints.js';
import type { ChunkPayload } from './chunk-payload.js';
import { LoadTally, type LoadReport } from './load-report.js';
import { owedChunks, truncateIfFresh, type LoadTablesOptions, type OwedChunk } from './load-tables.js';

export interface FanOutOptions extends Omit<LoadTablesOptions, 'parallel'> {
  /** The step job's side of the flow its chunks are added to. */
  flow: ChunkFlow;
  /** The step attempt the chunks belong to (a chunk worker loads only while it is running). */
  step: { runId: string; stepId: string; attempt: number };
  /** How often the step job reads the checkpoints and the chunks in flight (default 1 s). */
  pollMs?: number;
  /** How long a stop waits for running chunks to roll back before the step reports (default 30 s). */
  stopWaitMs?: number;
}

/** Rounds of re-adding chunks that every child finished without booking (a child removed by hand, a lost job). */
const MAX_ROUNDS = 3;

const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

/**
 * The step job's half of a fanned-out load (issue 15, part 3): plans the
 * chunks as loadTables does, empties fresh tables, adds one child job per
 * chunk still to load, and then only watches. Any worker's chunk worker loads
 * a chunk with loadChunk (rows and checkpoint in one transaction), so the
 * checkpoint table is the one account of what is loaded: progress, rows/s and
 * ETA are read from it plus the rows chunks in flight report. Done when every
 * chunk is booked and no child is pending; the first failing chunk stops the
 * others and its reason is the load's error; an abort, a timeout or a lost
 * lock (the signal) stops every child and waits for them to roll back.
 * Never throws, like loadTables: the report carries the outcome.
 */
export async function fanOutLoad(o: FanOutOptions): Promise<LoadReport> {
  const schema = o.schema ?? DEFAULT_ETL_SCHEMA;
  const tally = new LoadTally(o.tables.map((t) => ({ table: bookedName(t.target), expectedRows: t.rowCount })));
  try {
    if (o.signal.aborted) throw cancelledError('etl', o.signal, 'The load');
    await ensureCheckpointTables(o.pool, schema);
    const todo = await owedChunks(o, schema, tally);
    await emptyFreshTables(o, schema, todo, tally);
    return tally.report(await watch(o, schema, todo, tally));
  } catch (err) {
    return tally.report(o.signal.aborted ? cancelledError('etl', o.signal, 'The load') : asCutoverError(err, 'etl.load-failed'));
  }
}

/** As loadTables' 'if-fresh': a table of several chunks none of which is booked is emptied once, before any child can commit into it. */
async function emptyFreshTables(o: FanOutOptions, schema: string, todo: OwedChunk[], tally: LoadTally): Promise<void> {
  if (o.truncate !== 'if-fresh') return;
  const seen = new Set<string>();
  for (const p of todo) {
    const name = bookedName(p.table.target);
    if (seen.has(name) || (p.single && o.freeze !== false) || tally.table(name).chunksSkipped > 0) continue;
    seen.add(name);
    await truncateIfFresh(o.pool, p.table, o.loadId, schema);
  }
}

function jobsOf(o: FanOutOptions, schema: string, round: string, planned: OwedChunk[]): ChunkJob[] {
  return planned.map((p) => {
    const payload: ChunkPayload = {
      loadId: o.loadId,
      schema,
      table: p.table,
      chunk: p.chunk,
      truncateIfFresh: o.truncate === 'if-fresh' && p.single && o.freeze !== false,
      ...(o.maxRejectedRows !== undefined ? { maxRejectedRows: o.maxRejectedRows } : {}),
      sessionTimeZone: o.sessionTimeZone ?? null,
    };
    return { ...o.step, round, table: bookedName(p.table.target), chunk: p.chunk.id, payload };
  });
}

/** Adds the chunks and follows the checkpoints until every chunk is booked, one fails, or the signal fires; returns the load's error or null. */
async function watch(o: FanOutOptions, schema: string, todo: OwedChunk[], tally: LoadTally): Promise<CutoverError | null> {
  const pollMs = o.pollMs ?? 1000;
  const known = new Set<string>();
  const keyOf = (table: string, chunk: string): string => `${table}\u0001${chunk}`;
  let missing = todo;
  let lastProgress = 0;
  for (let round = 1; ; round++) {
    const id = randomBytes(4).toString('hex');
    await o.flow.resume();
    await o.flow.add(jobsOf(o, schema, id, missing));
    for (;;) {
      if (o.signal.aborted) {
        const reason: unknown = o.signal.reason;
        // Without the step job's lock another worker may hold it already: stop the children, but do not wait for them.
        const lockLost = reason instanceof CutoverError && reason.code === 'worker.lock_lost';
        return stopAll(o, cancelledError('etl', o.signal, 'The load'), reason instanceof CutoverError ? reason.userMessage : 'the step was stopped', lockLost ? 0 : undefined);
      }
      const booked = await checkpointsOf(o.pool, o.loadId, schema);
      const flying = await o.flow.inFlight();
      for (const p of todo) {
        const name = bookedName(p.table.target);
        const key = keyOf(name, p.chunk.id);
        if (known.has(key)) continue;
        const b = booked.get(name)?.get(p.chunk.id);
        if (b) {
          known.add(key);
          tally.started(name);
          tally.finished(name, p.chunk.id, { status: 'loaded', rows: b.rows, quarantined: b.quarantined, bytes: b.bytes, seconds: 0, bisected: false, frozen: false });
          committed(o, name, { rows: b.rows, quarantined: b.quarantined, tableRowsPerSecond: tally.rowsPerSecond(name) });
        } else if (flying.has(key)) {
          tally.started(name);
          tally.streaming(name, p.chunk.id, flying.get(key) ?? 0);
        }
      }
      if (o.onProgress && Date.now() - lastProgress >= 1000 && tally.changed()) {
        lastProgress = Date.now();
        o.onProgress(tally.progress());
      }
      const failed = (await o.flow.failures(id))[0];
      if (failed) {
        const error = new CutoverError(toErrorCode(failed.code, 'etl.load-failed'), `Loading chunk ${failed.chunk} of ${failed.table} failed: ${failed.message}`);
        if (failed.code === 'etl.too-many-rejected') tally.failed(failed.table, failed.message);
        return stopAll(o, error, `chunk ${failed.chunk} of ${failed.table} failed`);
      }
      const pending = await o.flow.pending();
      missing = todo.filter((p) => !known.has(keyOf(bookedName(p.table.target), p.chunk.id)));
      if (missing.length === 0 && pending === 0) return null;
      // Every child finished and some chunk is still not booked: add those again (a new round), a few times at most.
      if (missing.length > 0 && pending === 0) break;
      await sleep(pollMs, o.signal);
    }
    if (round >= MAX_ROUNDS) {
      const first = missing[0];
      return new CutoverError('etl.chunk_lost', `${missing.length} chunks were never booked although their jobs finished (e.g. chunk ${first?.chunk.id} of ${first ? bookedName(first.table.target) : '?'}); the step's retry loads what is missing`);
    }
  }
}

/** Tells every child to stop and waits (bounded) until none is pending, so nothing commits after the step reported. */
async function stopAll(o: FanOutOptions, error: CutoverError, why: string, waitMs = o.stopWaitMs ?? 30_000): Promise<CutoverError> {
  try {
    await o.flow.stop(why);
    const until = Date.now() + waitMs;
    const never = new AbortController().signal;
    while (Date.now() < until && (await o.flow.pending()) > 0) await sleep(200, never);
  } catch {
    // Redis gone: the children stop on their own when the step's lock or the run says so; the error stands.
  }
  return error;
}

function committed(o: FanOutOptions, table: string, chunk: { rows: number; quarantined: number; tableRowsPerSecond: number }): void {
  try {
    o.onChunkCommitted?.(table, chunk);
  } catch {
    // A metrics bug must not fail the load.
  }
}
