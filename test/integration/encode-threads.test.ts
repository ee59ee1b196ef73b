import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { quoteTable } from '../../engine/etl/checkpoints.js';
import type { SourceAdapter, TableMapping } from '../../engine/etl/contracts.js';
import { EncodingSource } from '../../engine/etl/encoding-source.js';
import { loadTables, reconcileCounts } from '../../engine/etl/load-tables.js';
import { EncodeThreads } from '../../engine/etl/threads/encode-threads.js';
import { actionContext, TEST_DATABASE_URL } from '../support/engine-context.js';
import { etlCopyAction } from '../../engine/actions/etl-copy.js';
import { etlCopyParams } from '../../runbook/actions/etl-copy.js';
import { CutoverError } from '../../runbook/errors.js';
import { THREAD_ROWS_COLUMNS, threadRowSource, threadRowsRecipe, type ThreadRowOptions } from '../support/thread-row-source.js';

/**
 * Issue 15, part 2: chunks read and encoded on encode threads, the COPY and
 * the checkpoint transaction on the loader's thread as before. The thread
 * source (test/support/thread-row-source.ts) is opened inside each thread
 * from its recipe, like the mssql source with its own connection.
 */
const S = `cutover_threads_${process.pid}`;
const ETL = `${S}_etl`;
let pool: pg.Pool;
let n = 0;
let loadId: string;

const table = (name: string, rows: number): TableMapping => ({
  source: { schema: 'dbo', name: 'T' }, target: { schema: S, name }, columns: THREAD_ROWS_COLUMNS, key: { columns: ['id'], kind: 'integer' }, rowCount: rows,
});
const ddl = (t: TableMapping): string => `CREATE TABLE ${quoteTable(t.target)} (id integer NOT NULL, name varchar(60) NOT NULL, at timestamp(6), note text)`;
const fingerprint = async (t: TableMapping) =>
  (await pool.query<{ n: string; h: string }>(`SELECT count(*)::text AS n, md5(string_agg(x::text, '|' ORDER BY x.id)) AS h FROM ${quoteTable(t.target)} x`)).rows[0];
const counters = () => new Int32Array(new SharedArrayBuffer(16));
/** Bounded wait for a condition another thread brings about. */
async function until(what: string, ok: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function load(t: TableMapping, o: ThreadRowOptions, threads: number, chunkRows = 5000) {
  const source = new EncodingSource(threadRowSource(o), { threads });
  try {
    return await loadTables({ pool, source, tables: [t], loadId, chunkRows, parallel: 2, schema: ETL, signal: new AbortController().signal });
  } finally {
    await source.close();
  }
}

beforeAll(async () => {
  pool = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 6 });
  await pool.query(`DROP SCHEMA IF EXISTS ${S} CASCADE; DROP SCHEMA IF EXISTS ${ETL} CASCADE; CREATE SCHEMA ${S}`);
});

afterAll(async () => {
  await pool.query(`DROP SCHEMA IF EXISTS ${S} CASCADE; DROP SCHEMA IF EXISTS ${ETL} CASCADE`);
  await pool.end();
});

beforeEach(() => {
  loadId = `threads-${++n}/etl`;
});

describe('encode threads', () => {
  it('load the same rows, quarantine the same rows and reconcile exactly as reading on the loader\'s thread', async () => {
    const threaded = table('threaded', 23_000);
    const inline = table('inline', 23_000);
    for (const t of [threaded, inline]) await pool.query(ddl(t));
    const shared = new SharedArrayBuffer(12);
    const opts: ThreadRowOptions = { rows: 23_000, nulEvery: 997, shared };
    const viaThreads = await load(threaded, opts, 2);
    const onLoader = await load(inline, { rows: 23_000, nulEvery: 997 }, 0);
    for (const r of [viaThreads, onLoader]) {
      expect(r.error).toBeNull();
      expect(r.totals).toMatchObject({ chunksTotal: 5, chunksLoaded: 5, rows: 23_000 - 23, quarantined: 23 });
    }
    expect(await fingerprint(threaded)).toEqual(await fingerprint(inline));
    // The rows were produced inside the threads (the loader's own source only planned), and the sources of both threads and of the loader were closed.
    expect(Atomics.load(new Int32Array(shared), 0)).toBe(23_000);
    expect(Atomics.load(new Int32Array(shared), 2)).toBe(3);
    const q = await pool.query<{ key: { id: string }; reason: string }>(
      `SELECT key, reason FROM ${ETL}.quarantine WHERE load_id = $1 AND table_name = $2 ORDER BY (key->>'id')::int`, [loadId, `${S}.threaded`]);
    expect(q.rows.map((r) => r.key.id).slice(0, 3)).toEqual(['997', '1994', '2991']);
    expect(q.rows[0]?.reason).toMatch(/NUL/);
    const rec = await reconcileCounts(pool, [threaded], loadId, ETL);
    expect(rec[0]).toMatchObject({ accounted: 23_000, consistent: true });
  });

  it('hold back a thread while the loader does not read: at most a few batches run ahead', async () => {
    const shared = counters();
    const threads = new EncodeThreads(1);
    try {
      const chunk = await threads.openChunk(threadRowsRecipe({ rows: 1_000_000, shared: shared.buffer as SharedArrayBuffer }), table('x', 1_000_000), { id: 'all', kind: 'all' }, new AbortController().signal);
      await until('the thread to start producing', () => Atomics.load(shared, 0) > 0);
      // Unread, the thread must come to a stop (no progress over ten samples in a row) within a few batches.
      let last = -1;
      let still = 0;
      await until('the thread to stop producing', () => {
        const now = Atomics.load(shared, 0);
        still = now === last ? still + 1 : 0;
        last = now;
        return still >= 10;
      }, 60_000);
      expect(last).toBeLessThan(60_000);
      // Reading everything lets it finish.
      let bytes = 0;
      await pipeline(chunk.stream, new Writable({ write: (b: Buffer, _e, done) => { bytes += b.length; done(); } }));
      expect(Atomics.load(shared, 0)).toBe(1_000_000);
      expect(bytes).toBeGreaterThan(50_000_000);
    } finally {
      await threads.close();
    }
  }, 120_000);

  it('fail a chunk with the source\'s own error code when reading breaks in the thread; committed chunks stay, the rest loads on retry', async () => {
    const t = table('failing', 20_000);
    await pool.query(ddl(t));
    const broken = await load(t, { rows: 20_000, failAt: { row: 12_345, code: 'mssql.read_failed' } }, 2);
    expect(broken.ok).toBe(false);
    expect(broken.error).toMatchObject({ code: 'mssql.read_failed', message: expect.stringContaining('row 12345 failed') });
    const booked = (await pool.query(`SELECT chunk_id FROM ${ETL}.chunks WHERE load_id = $1`, [loadId])).rows.map((r) => r.chunk_id as string);
    expect(booked).not.toContain('t2');
    const again = await load(t, { rows: 20_000 }, 2);
    expect(again.ok).toBe(true);
    expect(again.totals.rows + again.totals.rowsBefore).toBe(20_000);
    expect((await fingerprint(t))?.n).toBe('20000');
  });

  it('fail only the chunk of a thread that dies, replace the thread, and load the rest', async () => {
    const t = table('crashing', 20_000);
    await pool.query(ddl(t));
    const crashed = await load(t, { rows: 20_000, crashAt: 7_000 }, 2);
    expect(crashed.ok).toBe(false);
    expect(crashed.error).toMatchObject({ code: 'etl.thread-died', message: expect.stringContaining('exited with code 7') });
    const again = await load(t, { rows: 20_000 }, 2);
    expect(again.ok).toBe(true);
    expect((await fingerprint(t))?.n).toBe('20000');
    expect(await reconcileCounts(pool, [t], loadId, ETL)).toEqual([expect.objectContaining({ accounted: 20_000, consistent: true })]);
  });

  it('open the source in every thread when started, before any chunk, and read every chunk through those sources', async () => {
    const shared = counters();
    const t = table('warmed', 20_000);
    await pool.query(ddl(t));
    const source = new EncodingSource(threadRowSource({ rows: 20_000, shared: shared.buffer as SharedArrayBuffer }), { threads: 2 });
    try {
      await source.startThreads();
      expect([Atomics.load(shared, 3), Atomics.load(shared, 0)]).toEqual([2, 0]);
      const loaded = await loadTables({ pool, source, tables: [t], loadId, chunkRows: 2500, parallel: 2, schema: ETL, signal: new AbortController().signal });
      expect(loaded.ok).toBe(true);
      expect([Atomics.load(shared, 3), Atomics.load(shared, 0)]).toEqual([2, 20_000]);
    } finally {
      await source.close();
    }
    expect((await fingerprint(t))?.n).toBe('20000');
  });

  it('start with etl.copy while it reads the catalog, and close again when the catalog read fails', async () => {
    const shared = counters();
    const rows = threadRowSource({ rows: 1000, shared: shared.buffer as SharedArrayBuffer });
    // The catalog read waits until both threads have opened their sources: it would time out if they started after it.
    const slowCatalog: SourceAdapter = {
      introspect: async () => {
        await until('the encode threads to open their sources', () => Atomics.load(shared, 3) === 2);
        throw new CutoverError('mssql.read_failed', 'the catalog could not be read (a test fault)');
      },
      planChunks: (t, n) => rows.planChunks(t, n),
      readChunk: (t, c, signal) => rows.readChunk(t, c, signal),
      countChunk: (t, c) => rows.countChunk(t, c),
      threadRecipe: () => rows.threadRecipe?.() ?? null,
      close: () => rows.close(),
    };
    const params = etlCopyParams.parse({ source: 'src', target: 'target', parallel: 2 });
    await expect(etlCopyAction(async () => slowCatalog).run(actionContext({ stepId: 'early-threads' }), params)).rejects.toMatchObject({ code: 'mssql.read_failed' });
    // Both threads' sources and the step's own are closed.
    expect(Atomics.load(shared, 2)).toBe(3);
  });

  it('stop the thread\'s read when the load is cancelled, and take the next chunk on the same thread', async () => {
    const shared = counters();
    const threads = new EncodeThreads(1);
    try {
      const abort = new AbortController();
      const recipe = threadRowsRecipe({ rows: 1_000_000, shared: shared.buffer as SharedArrayBuffer });
      const chunk = await threads.openChunk(recipe, table('x', 1_000_000), { id: 'all', kind: 'all' }, abort.signal);
      const reading = pipeline(chunk.stream, new Writable({ write: (_b, _e, done) => setTimeout(done, 5) }));
      await until('rows to flow', () => Atomics.load(shared, 0) > 1000);
      abort.abort(new Error('step timeout'));
      await expect(reading).rejects.toMatchObject({ code: 'etl.cancelled' });
      await until('the thread to abort its read', () => Atomics.load(shared, 1) === 1);
      const next = await threads.openChunk(recipe, table('x', 1_000_000), { id: 'r', kind: 'range', column: 'id', from: '1', to: '101', lastInclusive: false }, new AbortController().signal);
      let lines = 0;
      await pipeline(next.stream, new Writable({ write: (b: Buffer, _e, done) => { for (const c of b) if (c === 10) lines++; done(); } }));
      expect(lines).toBe(100);
    } finally {
      await threads.close();
    }
  }, 60_000);
});
