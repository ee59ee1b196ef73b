import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChunkFailure, ChunkFlow, ChunkJob } from '../../config/backend.js';
import { CutoverError } from '../../runbook/errors.js';
import { parseChunkPayload } from '../../engine/etl/chunk-payload.js';
import { loadChunk } from '../../engine/etl/copy-chunk.js';
import { fanOutLoad } from '../../engine/etl/fan-out.js';
import { TEST_DATABASE_URL } from '../support/engine-context.js';
import { createTableSql, MemoryEncodedSource, sampleTable } from '../support/memory-encoded-source.js';

/**
 * The step job's half of a fan-out against a flow of this process (the
 * queue's part is proven with real workers in fan-out-etl-copy and the e2e
 * test): chunks whose jobs all finished without booking them are added again
 * in a new round, a flow that keeps losing them fails the load by name, and a
 * lost lock stops the children without waiting for them.
 */
const P = process.pid;
const schema = `it_fanout_rounds_${P}`;
const etl = `${schema}_etl`;
const ROWS = 5000;
const db = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 6 });
db.on('error', () => undefined);

/** Runs each added chunk at once (as a worker would) unless `drop` says to lose it; counts rounds and stops. */
class LocalFlow implements ChunkFlow {
  rounds: string[] = [];
  stops: string[] = [];
  constructor(
    private readonly source: MemoryEncodedSource,
    private readonly drop: (job: ChunkJob, round: number) => boolean,
    private readonly stuck = false,
    private readonly onAdd: () => void = () => undefined,
  ) {}

  async add(jobs: readonly ChunkJob[]): Promise<void> {
    this.rounds.push(jobs[0]?.round ?? '?');
    this.onAdd();
    for (const job of jobs) {
      if (this.drop(job, this.rounds.length)) continue;
      const parsed = parseChunkPayload(job.payload);
      if (!parsed.ok) throw new Error(parsed.problem);
      const p = parsed.payload;
      await loadChunk(db, { loadId: p.loadId, table: p.table, chunk: p.chunk, schema: p.schema, truncateIfFresh: p.truncateIfFresh, sessionTimeZone: null, signal: new AbortController().signal, open: () => this.source.openChunk(p.table, p.chunk, new AbortController().signal) });
    }
  }
  pending = async (): Promise<number> => (this.stuck ? 1 : 0);
  failures = async (): Promise<ChunkFailure[]> => [];
  inFlight = async (): Promise<Map<string, number>> => new Map();
  stop = async (reason: string): Promise<void> => void this.stops.push(reason);
  resume = async (): Promise<void> => {};
}

async function load(name: string, flow: (source: MemoryEncodedSource) => LocalFlow, signal = new AbortController().signal) {
  const table = sampleTable(schema, name, ROWS);
  await db.query(createTableSql(table.mapping));
  const source = new MemoryEncodedSource([table]);
  const f = flow(source);
  const report = await fanOutLoad({
    pool: db, source, tables: [table.mapping], loadId: `rounds/${name}`, chunkRows: 1000, schema: etl, truncate: 'if-fresh',
    signal, flow: f, step: { runId: 'rounds', stepId: name, attempt: 1 }, pollMs: 20, stopWaitMs: 60_000,
  });
  const { rows } = await db.query<{ n: string }>(`SELECT count(*) AS n FROM "${schema}"."${name}"`);
  return { report, flow: f, rows: Number(rows[0]?.n) };
}

beforeAll(async () => {
  await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE; CREATE SCHEMA ${schema}`);
});

afterAll(async () => {
  await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE; DROP SCHEMA IF EXISTS ${etl} CASCADE`);
  await db.end();
});

describe('fanOutLoad (the step job\'s side)', () => {
  it('adds again, in a new round, a chunk whose job finished without booking it, and loads every row once', async () => {
    const { report, flow, rows } = await load('lost_once', (s) => new LocalFlow(s, (job, round) => round === 1 && job.chunk === 'r0002'));
    expect(report.error).toBeNull();
    expect(report.ok).toBe(true);
    expect(flow.rounds).toHaveLength(2);
    expect(new Set(flow.rounds).size).toBe(2);
    expect(rows).toBe(ROWS);
    expect(report.totals.rows).toBe(ROWS);
  });

  it('fails with etl.chunk_lost, naming the chunk, when every round loses it', async () => {
    const { report, flow, rows } = await load('lost_always', (s) => new LocalFlow(s, (job) => job.chunk === 'r0003'));
    expect(report.ok).toBe(false);
    expect(report.error?.code).toBe('etl.chunk_lost');
    expect(report.error?.userMessage).toContain(`chunk r0003 of ${schema}.lost_always`);
    expect(flow.rounds).toHaveLength(3);
    expect(rows).toBe(ROWS - 1000);
  });

  it('a lost lock stops the children and returns at once, without waiting for the pending ones', async () => {
    const lease = new AbortController();
    const lose = () => lease.abort(new CutoverError('worker.lock_lost', 'this worker lost the job\'s lock'));
    const started = Date.now();
    // The children never finish (stuck) and stopWaitMs is a minute: only the lost lock explains a quick return.
    const { report, flow } = await load('lock_lost', (s) => new LocalFlow(s, () => true, true, lose), lease.signal);
    expect(report.error?.code).toBe('etl.cancelled');
    expect(flow.rounds).toHaveLength(1);
    expect(flow.stops).toEqual(["this worker lost the job's lock"]);
    expect(Date.now() - started).toBeLessThan(30_000);
  });
});
