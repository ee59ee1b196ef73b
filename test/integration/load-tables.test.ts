import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { registry } from '../../config/metrics.js';
import { actionMetrics } from '../../engine/action-metrics.js';
import { loadTables, reconcileCounts, type LoadProgress, type LoadTablesOptions } from '../../engine/etl/load-tables.js';
import { TEST_DATABASE_URL } from '../support/engine-context.js';
import { parseExposition } from '../support/prometheus.js';
import {
  column, createTableSql, mapping, MemoryEncodedSource, sampleTable, type MemorySourceHooks, type MemoryTable,
} from '../support/memory-encoded-source.js';

const S = `cutover_load_tables_${process.pid}`;
const ETL = `${S}_etl`;
let pool: pg.Pool;
let loadNo = 0;
let loadId: string;

const count = async (sql: string): Promise<number> => Number((await pool.query(sql)).rows[0].n);

/** Three tables: one big (several chunks), one small (one chunk), one with rows PostgreSQL refuses. */
function tables(): MemoryTable[] {
  const withBad = mapping(S, 'c', [column('id', 'integer', { kind: 'int' }), column('code', 'varchar(3)', { maxChars: 3 })], { rowCount: 9000 });
  return [
    sampleTable(S, 'a', 23_000),
    sampleTable(S, 'b', 1_500),
    { mapping: withBad, rows: 9000, line: (i) => `${i}\t${i % 997 === 0 ? 'toolong' : 'ok'}` },
  ];
}

function run(ts: MemoryTable[], hooks: MemorySourceHooks = {}, over: Partial<LoadTablesOptions> = {}) {
  const source = new MemoryEncodedSource(ts, hooks);
  const report = loadTables({
    pool, source, tables: ts.map((t) => t.mapping), loadId, chunkRows: 5000, parallel: 2, schema: ETL,
    signal: new AbortController().signal, ...over,
  });
  return { source, report };
}

beforeAll(async () => {
  pool = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 6 });
  await pool.query(`DROP SCHEMA IF EXISTS ${S} CASCADE; DROP SCHEMA IF EXISTS ${ETL} CASCADE; CREATE SCHEMA ${S}`);
});

afterAll(async () => {
  await pool.query(`DROP SCHEMA IF EXISTS ${S} CASCADE; DROP SCHEMA IF EXISTS ${ETL} CASCADE`);
  await pool.end();
});

beforeEach(async () => {
  loadId = `run-${++loadNo}/etl`;
  await pool.query(`DROP TABLE IF EXISTS ${S}.a, ${S}.b, ${S}.c`);
  for (const t of tables()) await pool.query(createTableSql(t.mapping));
});

describe('loadTables', () => {
  it('loads several tables two chunks at a time and counts reconcile: source = loaded + quarantined', async () => {
    const ts = tables();
    const { source, report } = run(ts, { beforeBatch: () => new Promise((r) => setTimeout(r, 2)) });
    const r = await report;
    expect(r.error).toBeNull();
    expect(r.ok).toBe(true);
    expect(source.maxActive).toBe(2);
    const byName = Object.fromEntries(r.tables.map((t) => [t.table, t]));
    expect(byName[`${S}.a`]).toMatchObject({ chunksTotal: 5, chunksLoaded: 5, chunksSkipped: 0, rows: 23_000, quarantined: 0 });
    expect(byName[`${S}.b`]).toMatchObject({ chunksTotal: 1, chunksLoaded: 1, rows: 1_500 });
    expect(byName[`${S}.c`]).toMatchObject({ chunksTotal: 2, rows: 9000 - 9, quarantined: 9 });
    expect(r.totals).toMatchObject({ chunksTotal: 8, chunksLoaded: 8, rows: 23_000 + 1_500 + 8_991, quarantined: 9 });
    expect(byName[`${S}.a`]?.rowsPerSecond).toBeGreaterThan(0);

    const rec = await reconcileCounts(pool, ts.map((t) => t.mapping), loadId, ETL);
    expect(rec.map((x) => [x.table, x.accounted, x.consistent])).toEqual(ts.map((t) => [`${S}.${t.mapping.target.name}`, t.rows, true]));
    expect(rec.find((x) => x.table === `${S}.c`)).toMatchObject({ targetRows: 8991, loadedRows: 8991, quarantined: 9 });
  });

  it('reports progress with rates and an ETA, at most once a second', async () => {
    const ts = [sampleTable(S, 'a', 23_000)];
    const seen: Array<{ at: number; p: LoadProgress }> = [];
    const { report } = run(ts, { batchRows: 250, beforeBatch: () => new Promise((r) => setTimeout(r, 60)) }, {
      onProgress: (p) => seen.push({ at: performance.now(), p }),
    });
    const r = await report;
    expect(r.ok).toBe(true);
    expect(seen.length).toBeGreaterThanOrEqual(2);
    for (let i = 1; i < seen.length; i++) expect((seen[i]?.at ?? 0) - (seen[i - 1]?.at ?? 0)).toBeGreaterThanOrEqual(990);
    const first = seen[0]?.p;
    expect(first?.overall.rows).toBeGreaterThan(0);
    expect(first?.overall.rows).toBeLessThan(23_000);
    expect(first?.overall).toMatchObject({ expectedRows: 23_000, chunksTotal: 5, etaSeconds: expect.any(Number) });
    expect(first?.overall.rowsPerSecond).toBeGreaterThan(0);
    expect(first?.tables[0]).toMatchObject({ table: `${S}.a`, expectedRows: 23_000, etaSeconds: expect.any(Number) });
    const rows = seen.map((s) => s.p.overall.rows);
    expect([...rows].sort((x, y) => x - y)).toEqual(rows);
  });

  it('resumes after a failure in the middle: only the missing chunks are loaded, none twice', async () => {
    const ts = tables();
    const failing = run(ts, {
      beforeBatch: ({ table, chunk, sent }) => {
        if (table === 'a' && chunk.id === 'r0003' && sent >= 2000) throw new Error('source lost');
      },
    }, { parallel: 1 });
    const first = await failing.report;
    expect(first.ok).toBe(false);
    expect(first.error?.code).toBe('etl.copy-failed');
    expect(first.error?.message).toContain('source lost');
    const bookedFirst = (await pool.query(`SELECT table_name || '/' || chunk_id AS c FROM ${ETL}.chunks WHERE load_id = $1 ORDER BY 1`, [loadId])).rows.map((x) => x.c);
    // Largest table first, one at a time: a's r0000..r0002 were committed before r0003 failed; nothing after.
    expect(bookedFirst).toEqual([`${S}.a/r0000`, `${S}.a/r0001`, `${S}.a/r0002`]);
    expect(await count(`SELECT count(*) AS n FROM ${S}.a`)).toBe(15_000);

    const resumed = run(ts, {}, { truncate: 'if-fresh' });
    const second = await resumed.report;
    expect(second.ok).toBe(true);
    expect(second.totals).toMatchObject({ chunksSkipped: 3, chunksLoaded: 5, rowsBefore: 15_000 });
    expect(resumed.source.opened.filter((o) => o.table === 'a').map((o) => o.chunk).sort()).toEqual(['r0003', 'r0004']);
    expect(await count(`SELECT count(*) - count(DISTINCT id) AS n FROM ${S}.a`)).toBe(0);
    const rec = await reconcileCounts(pool, ts.map((t) => t.mapping), loadId, ETL);
    expect(rec.map((x) => [x.accounted, x.consistent])).toEqual(ts.map((t) => [t.rows, true]));

    const once = run(ts, {}, { truncate: 'if-fresh' });
    const third = await once.report;
    expect(third.ok).toBe(true);
    expect(third.totals).toMatchObject({ chunksLoaded: 0, chunksSkipped: 8, rows: 0, rowsBefore: 33_491, quarantined: 0, quarantinedBefore: 9 });
    expect(once.source.opened).toEqual([]);
    expect(await count(`SELECT count(*) AS n FROM ${S}.a`)).toBe(23_000);
  });

  it('counts rows copied and quarantined per table as chunks commit, and not again for chunks a resumed load skips (/metrics)', async () => {
    const ts = tables();
    const metrics = actionMetrics('kgv');
    const figures = async (table: string) => {
      const m = parseExposition(await registry.metrics());
      const labels = { runbook: 'kgv', table: `${S}.${table}` };
      return { copied: m.count('cutover_etl_rows_copied_total', labels), quarantined: m.count('cutover_etl_rows_quarantined_total', labels), rate: m.value('cutover_etl_table_rows_per_second', labels) };
    };
    const before = { a: await figures('a'), c: await figures('c') };
    const failing = run(ts, { beforeBatch: ({ table, chunk, sent }) => {
      if (table === 'a' && chunk.id === 'r0003' && sent >= 2000) throw new Error('source lost');
    } }, { parallel: 1, onChunkCommitted: metrics.chunkCommitted });
    expect((await failing.report).ok).toBe(false);
    // Three chunks of a committed before the failure; the half-sent fourth rolled back and is not counted.
    expect((await figures('a')).copied - before.a.copied).toBe(15_000);

    const resumed = await run(ts, {}, { truncate: 'if-fresh', onChunkCommitted: metrics.chunkCommitted }).report;
    expect(resumed.ok).toBe(true);
    const a = await figures('a');
    const c = await figures('c');
    expect(a.copied - before.a.copied).toBe(23_000);
    expect(c.copied - before.c.copied).toBe(8_991);
    expect(c.quarantined - before.c.quarantined).toBe(9);
    expect(a.rate).toBeGreaterThan(0);

    await run(ts, {}, { truncate: 'if-fresh', onChunkCommitted: metrics.chunkCommitted }).report;
    expect((await figures('a')).copied).toBe(a.copied);
  });

  it("with truncate 'if-fresh' empties leftovers of an earlier load, and loads a one-chunk table with FREEZE", async () => {
    const ts = tables();
    await pool.query(`INSERT INTO ${S}.a (id) VALUES (-1), (-2); INSERT INTO ${S}.b (id) VALUES (-3)`);
    const r = await run(ts, {}, { truncate: 'if-fresh' }).report;
    expect(r.ok).toBe(true);
    expect(await count(`SELECT count(*) AS n FROM ${S}.a WHERE id < 0`)).toBe(0);
    expect(await count(`SELECT count(*) AS n FROM ${S}.b`)).toBe(1_500);
    const rec = await reconcileCounts(pool, ts.map((t) => t.mapping), loadId, ETL);
    expect(rec.every((x) => x.consistent)).toBe(true);
  });

  it("without truncate keeps what is there, and reconcile says the target does not match the books", async () => {
    const ts = tables();
    await pool.query(`INSERT INTO ${S}.b (id) VALUES (-3)`);
    await run(ts).report;
    const rec = await reconcileCounts(pool, ts.map((t) => t.mapping), loadId, ETL);
    expect(rec.find((x) => x.table === `${S}.b`)).toMatchObject({ targetRows: 1_501, loadedRows: 1_500, consistent: false });
  });

  it('stops a table whose chunk refuses too many rows and goes on with the others', async () => {
    const ts = tables();
    const broken: MemoryTable = { ...ts[2] as MemoryTable, line: (i) => `${i}\twaytoolong` };
    const r = await run([ts[0] as MemoryTable, broken], {}, { maxRejectedRows: 5 }).report;
    expect(r.ok).toBe(false);
    expect(r.error).toBeNull();
    const c = r.tables.find((t) => t.table === `${S}.c`);
    expect(c?.error).toMatch(/refused more than 5 rows/);
    expect(c?.chunksLoaded).toBe(0);
    expect(r.tables.find((t) => t.table === `${S}.a`)).toMatchObject({ chunksLoaded: 5, rows: 23_000, error: null });
    expect(await count(`SELECT count(*) AS n FROM ${S}.c`)).toBe(0);
  });

  it('comes back cancelled, with nothing half-loaded, when the signal fires', async () => {
    const controller = new AbortController();
    const ts = tables();
    const { report } = run(ts, {
      beforeBatch: ({ table, chunk }) => {
        if (table === 'a' && chunk.id === 'r0002') controller.abort(new Error('shutdown'));
      },
    }, { signal: controller.signal, parallel: 1 });
    const r = await report;
    expect(r.error?.code).toBe('etl.cancelled');
    expect(r.totals.chunksLoaded).toBe(2);
    expect(await count(`SELECT count(*) AS n FROM ${S}.a`)).toBe(10_000);
  });
});
