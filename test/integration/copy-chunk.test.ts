import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ensureCheckpointTables } from '../../engine/etl/checkpoints.js';
import type { ChunkSpec } from '../../engine/etl/contracts.js';
import { loadChunk, type LoadChunkOptions } from '../../engine/etl/copy-chunk.js';
import { TEST_DATABASE_URL, thrown } from '../support/engine-context.js';
import {
  column, createTableSql, mapping, MemoryEncodedSource, sampleTable, type MemorySourceHooks, type MemoryTable,
} from '../support/memory-encoded-source.js';

const S = `cutover_copy_chunk_${process.pid}`;
const ETL = `${S}_etl`;
const ALL: ChunkSpec = { id: 'c1', kind: 'all' };
let pool: pg.Pool;

const count = async (sql: string, params: unknown[] = []): Promise<number> => Number((await pool.query(sql, params)).rows[0].n);
const tableRows = (name = 't'): Promise<number> => count(`SELECT count(*) AS n FROM ${S}.${name}`);
const booked = (): Promise<number> => count(`SELECT count(*) AS n FROM ${ETL}.chunks`);

function load(table: MemoryTable, hooks: MemorySourceHooks = {}, over: Partial<LoadChunkOptions> = {}) {
  const source = new MemoryEncodedSource([table], hooks);
  const run = loadChunk(pool, {
    loadId: 'run-1/step-1', table: table.mapping, chunk: ALL, schema: ETL, signal: new AbortController().signal,
    open: () => source.openChunk(table.mapping, ALL, new AbortController().signal), ...over,
  });
  return { source, run };
}

beforeAll(async () => {
  pool = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 4, application_name: S });
  await pool.query(`DROP SCHEMA IF EXISTS ${S} CASCADE; DROP SCHEMA IF EXISTS ${ETL} CASCADE; CREATE SCHEMA ${S}`);
  await ensureCheckpointTables(pool, ETL);
});

afterAll(async () => {
  await pool.query(`DROP SCHEMA IF EXISTS ${S} CASCADE; DROP SCHEMA IF EXISTS ${ETL} CASCADE`);
  await pool.end();
});

beforeEach(async () => {
  await pool.query(`DROP TABLE IF EXISTS ${S}.t; TRUNCATE ${ETL}.chunks, ${ETL}.quarantine`);
});

const sample = (rows: number): MemoryTable => sampleTable(S, 't', rows);

describe('loadChunk', () => {
  it('commits the rows and the checkpoint in one transaction', async () => {
    const t = sample(5000);
    await pool.query(createTableSql(t.mapping));
    const result = await load(t).run;
    expect(result).toMatchObject({ status: 'loaded', rows: 5000, quarantined: 0, bisected: false });
    expect(await tableRows()).toBe(5000);
    const cp = (await pool.query(`SELECT rows, quarantined, bytes, xmin::text AS x FROM ${ETL}.chunks`)).rows;
    expect(cp).toEqual([{ rows: '5000', quarantined: '0', bytes: String(result.bytes), x: expect.any(String) }]);
    expect(result.bytes).toBeGreaterThan(5000 * 50);
    const xmins = (await pool.query(`SELECT DISTINCT xmin::text AS x FROM ${S}.t`)).rows.map((r) => r.x);
    expect(xmins).toEqual([cp[0].x]);
  });

  it('skips a chunk this load already booked, without opening it or duplicating a row', async () => {
    const t = sample(300);
    await pool.query(createTableSql(t.mapping));
    await load(t).run;
    const again = load(t);
    expect(await again.run).toMatchObject({ status: 'skipped', rows: 300 });
    expect(again.source.opened).toEqual([]);
    expect(await tableRows()).toBe(300);
    expect(await booked()).toBe(1);
  });

  it('loads the same chunk again under a new load id', async () => {
    const t = sample(100);
    await pool.query(createTableSql(t.mapping));
    await load(t).run;
    expect((await load(t, {}, { loadId: 'run-2/step-1' }).run).status).toBe('loaded');
    expect(await tableRows()).toBe(200);
  });

  it('leaves no row and no checkpoint when the stream fails mid-way', async () => {
    const t = sample(5000);
    await pool.query(createTableSql(t.mapping));
    const { run } = load(t, {
      beforeBatch: ({ sent }) => {
        if (sent >= 3000) throw new Error('source connection reset');
      },
    });
    const err = await thrown(() => run);
    expect(err.code).toBe('etl.copy-failed');
    expect(err.message).toContain('source connection reset');
    expect(await tableRows()).toBe(0);
    expect(await booked()).toBe(0);
    // The pool's client came back usable: the same chunk loads now.
    expect((await load(t).run).rows).toBe(5000);
  });

  it('quarantines exactly the two rows PostgreSQL refuses, with its reason and their keys, and loads the rest', async () => {
    const m = mapping(S, 't', [column('id', 'integer', { kind: 'int' }), column('code', 'varchar(5)', { maxChars: 5 }), column('qty', 'integer', { kind: 'int' })]);
    const bad: Record<number, string> = { 1234: `1234\tabcdefgh\t1`, 4321: `4321\tok\tabc` };
    const t: MemoryTable = { mapping: m, rows: 5000, line: (i) => bad[i] ?? `${i}\tc${i % 1000}\t${i}` };
    await pool.query(createTableSql(m));
    const progress: number[] = [];
    const result = await load(t, { batchRows: 700 }, { onRows: (n) => progress.push(n) }).run;
    expect(result).toMatchObject({ status: 'loaded', rows: 4998, quarantined: 2, bisected: true });
    expect(await tableRows()).toBe(4998);
    expect(await count(`SELECT count(*) AS n FROM ${S}.t WHERE id IN (1234, 4321)`)).toBe(0);
    const q = (await pool.query(`SELECT key, column_name, reason, sample, chunk_id FROM ${ETL}.quarantine ORDER BY id`)).rows;
    expect(q).toEqual([
      { key: { id: '1234' }, column_name: 'code', reason: '22001: value too long for type character varying(5)', sample: 'abcdefgh', chunk_id: 'c1' },
      { key: { id: '4321' }, column_name: 'qty', reason: '22P02: invalid input syntax for type integer: "abc"', sample: 'abc', chunk_id: 'c1' },
    ]);
    expect((await pool.query(`SELECT rows, quarantined FROM ${ETL}.chunks`)).rows).toEqual([{ rows: '4998', quarantined: '2' }]);
    expect(progress.at(-1)).toBe(4998);
  });

  it('books the rows the encoder refused together with those PostgreSQL refused', async () => {
    const m = mapping(S, 't', [column('id', 'integer', { kind: 'int' }), column('v', 'smallint', { kind: 'int' })]);
    const t: MemoryTable = { mapping: m, rows: 50, line: (i) => (i === 7 ? '7\t99999' : `${i}\t${i}`) };
    await pool.query(createTableSql(m));
    const refuse = (_: string, i: number) => (i === 3 ? { key: { id: '3' }, column: 'v', reason: 'NUL byte in text', sample: 'a\\0b' } : null);
    const result = await load(t, { refuse }).run;
    expect(result).toMatchObject({ rows: 48, quarantined: 2 });
    const q = (await pool.query(`SELECT key->>'id' AS id, reason FROM ${ETL}.quarantine ORDER BY key->>'id'`)).rows;
    expect(q).toEqual([
      { id: '3', reason: 'NUL byte in text' },
      { id: '7', reason: '22003: value "99999" is out of range for type smallint' },
    ]);
  });

  it('quarantines a duplicate key inside the chunk instead of failing it', async () => {
    const m = mapping(S, 't', [column('id', 'integer', { kind: 'int' }), column('v', 'text')]);
    const t: MemoryTable = { mapping: m, rows: 20, line: (i) => (i === 15 ? '3\tdup' : `${i}\tv${i}`) };
    await pool.query(`${createTableSql(m)}; ALTER TABLE ${S}.t ADD PRIMARY KEY (id)`);
    const result = await load(t).run;
    expect(result).toMatchObject({ rows: 19, quarantined: 1 });
    const q = (await pool.query(`SELECT key, reason FROM ${ETL}.quarantine`)).rows;
    expect(q).toEqual([{ key: { id: '3' }, reason: expect.stringMatching(/^23505: duplicate key value violates unique constraint .*\(Key \(id\)=\(3\) already exists\.\)$/) }]);
  });

  it('leaves nothing when cancelled through the signal mid-stream', async () => {
    const t = sample(5000);
    await pool.query(createTableSql(t.mapping));
    const controller = new AbortController();
    const { run } = load(t, {
      batchRows: 500,
      beforeBatch: async ({ sent }) => {
        if (sent === 1500) controller.abort(new Error('step timeout'));
        await new Promise((r) => setTimeout(r, 5));
      },
    }, { signal: controller.signal });
    const err = await thrown(() => run);
    expect(err.code).toBe('etl.cancelled');
    expect(await tableRows()).toBe(0);
    expect(await booked()).toBe(0);
    expect(await count(`SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1 AND state LIKE 'idle in transaction%'`, [S])).toBe(0);
  });

  it('fails the chunk, leaving nothing, when its connection is killed mid-COPY', async () => {
    const t = sample(5000);
    await pool.query(createTableSql(t.mapping));
    let killed = 0;
    let hookFinished: () => void = () => undefined;
    const hook = new Promise<void>((resolve) => (hookFinished = resolve));
    const { run } = load(t, {
      batchRows: 500,
      beforeBatch: async ({ sent }) => {
        if (sent !== 2000) return;
        try {
          await killCopy();
        } finally {
          hookFinished();
        }
      },
    });
    async function killCopy(): Promise<void> {
      // The source runs ahead of the server: poll until the COPY shows in pg_stat_activity (bounded by time, not by
      // a count of polls, which a loaded machine exhausts before the server reports the COPY), then kill it.
      const deadline = Date.now() + 20_000;
      while (killed === 0 && Date.now() < deadline) {
        const r = await pool.query(
          `SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity WHERE application_name = $1 AND query LIKE 'COPY %' AND pid <> pg_backend_pid()`,
          [S],
        );
        killed = Number(r.rows[0].n);
        if (killed === 0) await new Promise((r) => setTimeout(r, 20));
      }
    }
    const err = await thrown(() => run);
    // The load fails as soon as its socket dies, which can be before the kill query's own answer is read.
    await hook;
    expect(killed).toBe(1);
    expect(err.code).toBe('etl.copy-failed');
    expect(await tableRows()).toBe(0);
    expect(await booked()).toBe(0);
    expect((await load(t).run).rows).toBe(5000);
  });

  it('truncates a fresh table in the chunk transaction and loads it with FREEZE, also when a row is refused', async () => {
    const t = sample(1000);
    const line = t.line;
    await pool.query(`${createTableSql(t.mapping)}; INSERT INTO ${S}.t (id) SELECT g FROM generate_series(1, 10) g`);
    const clean = await load(t, {}, { truncateIfFresh: true }).run;
    expect(clean).toMatchObject({ rows: 1000, frozen: true });
    expect(await tableRows()).toBe(1000);

    await pool.query(`TRUNCATE ${ETL}.chunks; INSERT INTO ${S}.t (id) VALUES (-1)`);
    const withBad: MemoryTable = { ...t, line: (i) => (i === 500 ? line(i).replace(/^500\t[^\t]+/, '500\tnot-a-uuid') : line(i)) };
    const piecewise = await load(withBad, {}, { truncateIfFresh: true }).run;
    expect(piecewise).toMatchObject({ rows: 999, quarantined: 1, bisected: true, frozen: false });
    expect(await tableRows()).toBe(999);
  });
});
