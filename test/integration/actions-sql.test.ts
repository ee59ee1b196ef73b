import { mkdtemp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sqlAction } from '../../engine/actions/sql.js';
import { sqlParams, type SqlParams } from '../../runbook/actions/sql.js';
import { actionContext, TEST_DATABASE_URL, thrown, urlWithPassword, type TestContext } from '../support/engine-context.js';

const S = `cutover_actions_sql_${process.pid}`;
const params = (p: Record<string, unknown>): SqlParams => sqlParams.parse({ connection: 'target', ...p });

let admin: pg.Pool;
let tmp: string;
let sqlDir: string;
let ctx: TestContext;

const count = async (where = 'true'): Promise<number> =>
  Number((await admin.query(`SELECT count(*) AS n FROM ${S}.t WHERE ${where}`)).rows[0].n);

beforeAll(async () => {
  admin = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 2 });
  await admin.query(`DROP SCHEMA IF EXISTS ${S} CASCADE; CREATE SCHEMA ${S}`);
  tmp = await mkdtemp(path.join(tmpdir(), 'cutover-sql-'));
  sqlDir = path.join(tmp, 'sql');
  await mkdir(path.join(sqlDir, 'checks'), { recursive: true });
  await writeFile(path.join(sqlDir, 'checks', 'count.sql'), `-- counts the fixture rows\nSELECT count(*) AS n FROM ${S}.t;\n`);
  await writeFile(path.join(sqlDir, 'placeholder.sql'), '\n  \n');
  await writeFile(path.join(tmp, 'outside.sql'), 'SELECT 1;');
  await symlink(path.join(tmp, 'outside.sql'), path.join(sqlDir, 'escape.sql'));
});

afterAll(async () => {
  await admin.query(`DROP SCHEMA IF EXISTS ${S} CASCADE`);
  await admin.end();
  await rm(tmp, { recursive: true, force: true });
});

beforeEach(async () => {
  await admin.query(`DROP TABLE IF EXISTS ${S}.t; CREATE TABLE ${S}.t (id int PRIMARY KEY, v text)`);
  await admin.query(`INSERT INTO ${S}.t VALUES (1, 'a'), (2, 'b'), (3, 'c')`);
  ctx = actionContext({ sqlDir });
});

afterEach(async () => {
  await ctx.connections.close();
});

describe('sql action on PostgreSQL', () => {
  it('runs all statements inside one explicit transaction and reports the last statement', async () => {
    const result = await sqlAction.run(
      ctx,
      params({
        sql: `INSERT INTO ${S}.t VALUES (4, 'd');
              SELECT xact_start < query_start AS in_tx FROM pg_stat_activity WHERE pid = pg_backend_pid();`,
      }),
    );
    expect(result.details).toMatchObject({ rowCount: 1, columns: ['in_tx'], rows: [['true']], statements: 2 });
    expect(await count('id = 4')).toBe(1);
  });

  it('runs without an explicit transaction when transaction is false', async () => {
    const result = await sqlAction.run(
      ctx,
      params({
        transaction: false,
        sql: 'SELECT xact_start < query_start AS in_tx FROM pg_stat_activity WHERE pid = pg_backend_pid()',
      }),
    );
    expect(result.details?.rows).toEqual([['false']]);
  });

  it('rolls back the first statement when the second fails, and says why', async () => {
    const err = await thrown(() =>
      sqlAction.run(ctx, params({ sql: `INSERT INTO ${S}.t VALUES (10, 'x');\nINSERT INTO ${S}.t VALUES (1, 'dup');` })),
    );
    expect(err.code).toBe('sql.failed');
    expect(err.userMessage).toBe(
      'SQL failed on "target": duplicate key value violates unique constraint "t_pkey" (Key (id)=(1) already exists.)',
    );
    expect(err.details).toMatchObject({ sqlstate: '23505' });
    expect(await count('id = 10')).toBe(0);
  });

  it('names the line of a syntax error in multi-line SQL', async () => {
    const err = await thrown(() => sqlAction.run(ctx, params({ sql: `SELECT 1;\nSELECT 2;\nSELEC 3;` })));
    expect(err.userMessage).toBe('SQL failed on "target" at line 3: syntax error at or near "SELEC"');
    expect(err.details).toMatchObject({ sqlstate: '42601', line: 3 });
  });

  it('changes nothing in a dry run, even DDL and even without transaction, yet reports what it would do', async () => {
    const result = await sqlAction.run(
      { ...ctx, dryRun: true },
      params({
        transaction: false,
        sql: `CREATE TABLE ${S}.dry (x int); UPDATE ${S}.t SET v = 'changed'; DELETE FROM ${S}.t WHERE id = 1`,
      }),
    );
    expect(result.summary).toMatch(/^dry run \(rolled back\): DELETE 1 on "target"/);
    expect(result.details).toMatchObject({ dryRun: true, command: 'DELETE', rowCount: 1 });
    expect(await count("v = 'changed'")).toBe(0);
    expect(await count()).toBe(3);
    const dry = await admin.query(`SELECT to_regclass('${S}.dry') AS t`);
    expect(dry.rows[0].t).toBeNull();
  });

  it('reports a statement that cannot run in a transaction as not rehearsed in a dry run', async () => {
    const result = await sqlAction.run({ ...ctx, dryRun: true }, params({ sql: `VACUUM ${S}.t` }));
    expect(result.summary).toMatch(/cannot run inside a transaction, so it was not rehearsed/);
    expect(result.details).toMatchObject({ rehearsed: false });
    // …and really runs outside a dry run when the runbook asks for no transaction.
    const real = await sqlAction.run(ctx, params({ sql: `VACUUM ${S}.t`, transaction: false }));
    expect(real.details).toMatchObject({ command: 'VACUUM' });
  });

  it('fails with a sentence and rolls back when expect.rows does not match', async () => {
    const err = await thrown(() =>
      sqlAction.run(ctx, params({ sql: `UPDATE ${S}.t SET v = 'z' WHERE id <= 3`, expect: { rows: 1 } })),
    );
    expect(err.code).toBe('sql.expectation');
    expect(err.userMessage).toBe(
      'inline SQL on "target": expected exactly 1 row from the last statement, got 3; the transaction was rolled back',
    );
    expect(await count("v = 'z'")).toBe(0);
  });

  it('keeps the changes and says so when an expectation fails outside a transaction', async () => {
    const err = await thrown(() =>
      sqlAction.run(ctx, params({ sql: `DELETE FROM ${S}.t WHERE id = 1`, transaction: false, expect: { min_rows: 2 } })),
    );
    expect(err.userMessage).toMatch(/expected at least 2 rows from the last statement, got 1; it ran without a transaction/);
    expect(await count()).toBe(2);
  });

  it('passes when the expectation holds', async () => {
    const result = await sqlAction.run(ctx, params({ sql: `SELECT * FROM ${S}.t`, expect: { rows: 3, min_rows: 1 } }));
    expect(result.summary).toMatch(/^3 rows on "target" from inline SQL in \d+\.\ds$/);
  });

  it('reads a file from the sql directory', async () => {
    const result = await sqlAction.run(ctx, params({ file: 'checks/count.sql', expect: { rows: 1 } }));
    expect(result.summary).toContain('from sql/checks/count.sql');
    expect(result.details).toMatchObject({ columns: ['n'], rows: [['3']] });
  });

  it.each([['../outside.sql'], ['escape.sql'], [path.join('/', 'etc', 'passwd.sql')]])(
    'refuses %s because it resolves outside the sql directory',
    async (file) => {
      const err = await thrown(() => sqlAction.run(ctx, { connection: 'target', file, transaction: true }));
      expect(err.code).toBe('sql.file_outside');
      expect(err.userMessage).toContain('must be inside the sql/ directory');
    },
  );

  it('says which file is missing', async () => {
    const err = await thrown(() => sqlAction.run(ctx, params({ file: 'nope.sql' })));
    expect(err.code).toBe('sql.file_missing');
    expect(err.userMessage).toBe('no file sql/nope.sql in this deployment');
  });

  it('refuses an empty file instead of succeeding with nothing done', async () => {
    const err = await thrown(() => sqlAction.run(ctx, params({ file: 'placeholder.sql' })));
    expect(err.code).toBe('sql.empty');
    expect(err.userMessage).toBe('sql/placeholder.sql is empty; nothing to run on "target"');
  });

  it('returns at most 10 rows, values as text with bigint and numeric digits kept', async () => {
    const result = await sqlAction.run(
      ctx,
      params({
        sql: `SELECT g, 9007199254740993::bigint AS big, 1.10::numeric AS num, NULL AS nothing, '{"a":1}'::jsonb AS doc
              FROM generate_series(1, 25) g`,
      }),
    );
    const rows = result.details?.rows as string[][];
    expect(result.details).toMatchObject({ rowCount: 25, truncated: true, columns: ['g', 'big', 'num', 'nothing', 'doc'] });
    expect(rows).toHaveLength(10);
    expect(rows[0]).toEqual(['1', '9007199254740993', '1.10', null, '{"a":1}']);
  });

  it('keeps an EXPLAIN (FORMAT JSON) as the plan text psql prints, and a text EXPLAIN line by line past the 10 rows of a result', async () => {
    const query = `SELECT t.v, count(*) FROM ${S}.t JOIN ${S}.t u ON u.id = t.id WHERE t.v > 'a' GROUP BY t.v ORDER BY 2 DESC LIMIT 5`;
    const json = await sqlAction.run(ctx, params({ sql: `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${query}` }));
    const text = await sqlAction.run(ctx, params({ sql: `EXPLAIN (ANALYZE, BUFFERS) ${query}` }));
    const lines = (details: Record<string, unknown> | undefined): string[] => ((details?.['rows'] ?? []) as string[][]).map((r) => r[0] ?? '');
    expect(json.details).toMatchObject({ columns: ['QUERY PLAN'] });
    // The same tree, node for node and condition for condition, as PostgreSQL's own text EXPLAIN (timings aside).
    const shape = (l: string[]): string[] => l.filter((x) => !/^Planning|^ +Buffers/.test(x)).map((x) => x.replace(/\(actual time=[^)]*\)/, '(actual)').replace(/Memory: \d+kB|Memory Usage: \d+kB/, 'Memory'));
    expect(shape(lines(json.details)).slice(0, -1)).toEqual(shape(lines(text.details)).slice(0, -1));
    expect(lines(json.details)[0]).toMatch(/^Limit {2}\(cost=[\d.]+\.\.[\d.]+ rows=\d+ width=\d+\) \(actual time=[\d.]+\.\.[\d.]+ rows=\d+ loops=1\)$/);
    expect(lines(json.details)).toContainEqual(expect.stringMatching(/^ {6,}Hash Cond: \(u\.id = t\.id\)$/));
    expect(lines(json.details).at(-1)).toMatch(/^Execution Time: [\d.]+ ms$/);
    expect(lines(text.details).length).toBeGreaterThan(10);
  });

  it('forwards NOTICE messages as progress', async () => {
    await sqlAction.run(ctx, params({ sql: `DO $$ BEGIN RAISE NOTICE 'copied % of %', 5, 10; END $$` }));
    expect(ctx.progressed.map((p) => p.message)).toContain('copied 5 of 10');
  });

  it('does not leak session settings into the next step using the pool', async () => {
    await sqlAction.run(ctx, params({ sql: `SET application_name = '${S}_leak'`, transaction: false }));
    const leaked = await admin.query('SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1', [`${S}_leak`]);
    expect(Number(leaked.rows[0].n)).toBe(0);
  });

  it('cancels a running statement quickly when the signal aborts, and rolls back', async () => {
    const started = Date.now();
    setTimeout(() => ctx.controller.abort(new Error('step timeout')), 300);
    const err = await thrown(() =>
      sqlAction.run(ctx, params({ sql: `INSERT INTO ${S}.t VALUES (20, 'x'); SELECT pg_sleep(30)` })),
    );
    expect(err.code).toBe('sql.cancelled');
    expect(err.userMessage).toBe('SQL on "target" (rolled back) was cancelled (step timeout)');
    expect(Date.now() - started).toBeLessThan(3000);
    expect(await count('id = 20')).toBe(0);
    const sleeping = await admin.query("SELECT count(*) AS n FROM pg_stat_activity WHERE query LIKE '%pg_sleep(30)%' AND pid <> pg_backend_pid()");
    expect(Number(sleeping.rows[0].n)).toBe(0);
  });

  it('refuses to start when the signal already fired', async () => {
    ctx.controller.abort();
    const err = await thrown(() => sqlAction.run(ctx, params({ sql: `DELETE FROM ${S}.t` })));
    expect(err.code).toBe('sql.cancelled');
    expect(await count()).toBe(3);
  });

  it('names an unknown connection', async () => {
    const err = await thrown(() => sqlAction.run(ctx, params({ connection: 'legacy', sql: 'SELECT 1' })));
    expect(err.code).toBe('connection.unknown');
    expect(err.message).toContain('no connection named "legacy"');
  });
});

describe('sql action error messages never carry a password', () => {
  const password = 'Sup3r-S3cret-pw';

  it('hides it when the failing statement itself echoes it back', async () => {
    const c = actionContext({ connectionSpecs: { target: { kind: 'postgres', url: urlWithPassword(password) } } });
    try {
      const err = await thrown(() => sqlAction.run(c, params({ sql: `SELECT '${password}'::int` })));
      expect(err.code).toBe('sql.failed');
      expect(err.userMessage).toContain('invalid input syntax for type integer');
      expect(err.userMessage).toContain('***');
      expect(`${err.userMessage} ${err.message}`).not.toContain(password);
    } finally {
      await c.connections.close();
    }
  });

  it.each([
    ['an unreachable port', (u: URL) => (u.port = '1')],
    ['a database that does not exist', (u: URL) => (u.pathname = `/${S}_missing`)],
  ])('hides it when connecting fails (%s)', async (_case, mutate) => {
    const u = new URL(urlWithPassword(password));
    mutate(u);
    const c = actionContext({ connectionSpecs: { target: { kind: 'postgres', url: u.toString() } } });
    try {
      const err = await thrown(() => sqlAction.run(c, params({ sql: 'SELECT 1' })));
      expect(err.code).toBe('sql.connection');
      expect(err.userMessage).toMatch(/^could not connect to "target" \(postgres:\/\/postgres:\*\*\*@127\.0\.0\.1/);
      expect(`${err.userMessage} ${err.message}`).not.toContain(password);
    } finally {
      await c.connections.close();
    }
  });
});

describe('sql action on SQL Server (no server here: only the connection failure path)', () => {
  it('fails with sql.connection and no password when the server cannot be reached', async () => {
    const password = 'Ms-S3cret-pw';
    const url = `mssql://sa:${password}@127.0.0.1:9/legacy?encrypt=false&connectTimeout=2000`;
    const c = actionContext({ connectionSpecs: { source: { kind: 'mssql', url } } });
    try {
      const err = await thrown(() => sqlAction.run(c, params({ connection: 'source', sql: 'SELECT 1' })));
      expect(err.code).toBe('sql.connection');
      expect(err.userMessage).toMatch(/^could not connect to "source" \(mssql:\/\/sa:\*\*\*@127\.0\.0\.1:9\/legacy/);
      expect(`${err.userMessage} ${err.message}`).not.toContain(password);
    } finally {
      await c.connections.close();
    }
  });
});

/**
 * Against a real TDS server when MSSQL_URL is set (SQL Server, or Babelfish: everything here is
 * common ground). Temporary tables only, so nothing is left in the server's database.
 */
const MSSQL_URL = process.env.MSSQL_URL;
describe.skipIf(!MSSQL_URL)(`sql action on SQL Server (${MSSQL_URL ? 'MSSQL_URL set' : 'skipped: MSSQL_URL is not set'})`, () => {
  let c: TestContext;
  beforeEach(() => {
    c = actionContext({ connectionSpecs: { source: { kind: 'mssql', url: MSSQL_URL ?? '' } } });
  });
  afterEach(async () => {
    await c.connections.close();
  });

  it('runs GO-separated batches on one session, forwards PRINT as progress and keeps decimal, money and bigint digits', async () => {
    const result = await sqlAction.run(c, params({
      connection: 'source',
      transaction: false,
      sql: [
        'CREATE TABLE #betrag (id int, amount decimal(10,2), tiny decimal(38,10), fee money)',
        "INSERT INTO #betrag VALUES (1, 1.10, 0.0000000001, 12.3400), (2, -5, 0, 0)",
        "PRINT 'inserted 2'",
        'GO',
        'SELECT id, amount, tiny, fee, CAST(9007199254740993 AS bigint) AS big FROM #betrag ORDER BY id',
      ].join('\n'),
    }));
    expect(c.progressed.map((p) => p.message)).toContain('inserted 2');
    expect(result.details).toMatchObject({
      rowCount: 2,
      columns: ['id', 'amount', 'tiny', 'fee', 'big'],
      rows: [['1', '1.10', '0.0000000001', '12.3400', '9007199254740993'], ['2', '-5.00', '0.0000000000', '0.0000', '9007199254740993']],
    });
  });

  it('names the batch and the line of the failing statement', async () => {
    const err = await thrown(() => sqlAction.run(c, params({
      connection: 'source',
      sql: 'CREATE TABLE #t (id int)\nGO\nINSERT INTO #t VALUES (1)\nSELECT * FROM dbo.cutover_no_such_table',
    })));
    expect(err.code).toBe('sql.failed');
    expect(err.userMessage).toMatch(/^SQL Server error \d+ on "source" in batch 2 at line 2: .*cutover_no_such_table/i);
  });
});
