/**
 * ETL source benchmark (issue 3, "Performance"): the end-to-end mssql → PostgreSQL
 * rate (schema.apply pre-load, then etl.copy) against reading the same table with
 * the driver alone into nothing (MssqlSource.readChunk of each planned chunk, rows
 * counted and dropped: the driver + select-list cost), on an Antrag-shaped table.
 *
 *   npx tsx bench/etl-mssql.ts [rows]        (default 300,000; needs MSSQL_URL, else skipped;
 *                                             PostgreSQL at TEST_DATABASE_URL)
 *
 * Creates its own database on the server and its own PostgreSQL schemas, and drops
 * them (and its cutover_etl rows) at the end, also on failure. Prints figures; not a test.
 *
 * Figures against Babelfish are not SQL Server's: Babelfish's TDS layer runs on
 * PostgreSQL and shares this machine's 2 cores with the bench and the target, and
 * there CONVERT(varchar(27), <datetime>, 121) alone costs ~160 µs a value (measured on
 * Babelfish 4.3: 8 s per 50,000 values, against 0.5 s for the same style on datetime2),
 * so the Antrag's one datetime column bounds both (a) and (b).
 */
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import mssql from 'mssql';
import pg from 'pg';
import { etlCopyAction } from '../engine/actions/etl-copy.js';
import { inParallel, type RowSourceFactory } from '../engine/actions/etl-sources.js';
import { schemaApplyAction } from '../engine/actions/schema-apply.js';
import { mssqlConfigFromUrl } from '../engine/connections.js';
import { conversionOptions } from '../engine/etl/conversion-options.js';
import type { ChunkSpec, TableMapping } from '../engine/etl/contracts.js';
import { quoteIdent } from '../engine/mssql/select-list.js';
import { MssqlSource } from '../engine/mssql/source.js';
import { convertSchema } from '../engine/schema/convert.js';
import { etlCopyParams, schemaApplyParams } from '../runbook/etl-action-params.js';
import { BENCH_DATABASE_URL as TEST_DATABASE_URL, benchContext } from './bench-context.js';

const CHUNK_ROWS = 50_000;
const PARALLEL = 2;
const ROUNDS = 3;
const FILL_BATCH = 50_000;

const ANTRAG = `CREATE TABLE dbo.Antrag (
  an_ID int IDENTITY(1,1) NOT NULL CONSTRAINT PK_Antrag PRIMARY KEY,
  an_Guid uniqueidentifier NOT NULL,
  an_Aktenzeichen nvarchar(40) NULL,
  an_Nachname nvarchar(100) NOT NULL,
  an_Bewerbungsdatum datetime NOT NULL,
  an_Aktiv bit NOT NULL,
  an_Betrag decimal(19,4) NULL,
  an_Vermerk nvarchar(max) NULL)`;

/** Rows @from+0 .. @from+@count-1 generated on the server: a numbers CTE (0..99,999), no round trip per row. */
const FILL = `WITH d AS (SELECT n FROM (VALUES (0),(1),(2),(3),(4),(5),(6),(7),(8),(9)) AS v(n)),
  k AS (SELECT a.n * 10000 + b.n * 1000 + c.n * 100 + e.n * 10 + f.n AS n
          FROM d AS a CROSS JOIN d AS b CROSS JOIN d AS c CROSS JOIN d AS e CROSS JOIN d AS f),
  r AS (SELECT @from + k.n AS i, nm.name FROM k JOIN (VALUES (0, N'Müller'), (1, N'Schäfer'), (2, N'Größ'), (3, N'O''Brien'),
          (4, N'Weiß'), (5, N'Jürgensen'), (6, N'Öztürk'), (7, N'Bäcker')) AS nm(j, name) ON nm.j = k.n % 8 WHERE k.n < @count)
INSERT INTO dbo.Antrag (an_Guid, an_Aktenzeichen, an_Nachname, an_Bewerbungsdatum, an_Aktiv, an_Betrag, an_Vermerk)
SELECT NEWID(),
  N'KGV-' + CONVERT(nvarchar(10), 2000 + i % 24) + N'/' + CONVERT(nvarchar(10), i) + N' "' + name + N'"',
  name + N', Jürgen "Jü" Straße ' + CONVERT(nvarchar(10), i % 200),
  DATEADD(millisecond, (i % 1000) * 3, DATEADD(second, (i * 97) % 86400, DATEADD(day, i % 5000, CAST('2005-01-01' AS datetime)))),
  CASE WHEN i % 3 = 0 THEN 1 ELSE 0 END,
  CAST(i % 1000000 AS decimal(19,4)) + CAST(i % 10000 AS decimal(19,4)) / 10000,
  CASE WHEN i % 2 = 0 THEN NULL ELSE N'Antrag auf Kleingarten „' + name + N'“, Parzelle ' + CONVERT(nvarchar(10), i % 500)
    + N'; Rückfrage: "Zaun" \\ Tor' + NCHAR(9) + REPLICATE(N'ä', i % 24) + REPLICATE(N' Anmerkung zur Warteliste, bitte prüfen.', i % 7) END
FROM r`;

async function timed<T>(what: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const out = await what();
  return [out, (performance.now() - t0) / 1000];
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

/** (a) Every chunk through the driver and the select list, rows counted and dropped. */
async function readIntoNothing(source: MssqlSource, table: TableMapping, chunks: ChunkSpec[]): Promise<number> {
  const counts = await inParallel(chunks, PARALLEL, async (chunk) => {
    let n = 0;
    const sink = new Writable({ objectMode: true, write: (_row, _enc, done) => {
      n++;
      done();
    } });
    await pipeline(source.readChunk(table, chunk, new AbortController().signal), sink);
    return n;
  });
  return counts.reduce((a, b) => a + b, 0);
}

async function main(url: string, rows: number): Promise<void> {
  const config = mssqlConfigFromUrl(url);
  const tag = randomBytes(4).toString('hex');
  const database = `cutover_bench_${tag}`;
  const S = `bench_mssql_${tag}`;
  const schemas: string[] = [];
  const db = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 2 });
  const admin = await new mssql.ConnectionPool({ ...config, database: 'master' }).connect();
  let pool: mssql.ConnectionPool | null = null;
  let created = false;
  let babelfish = false;
  try {
    const version = String((await admin.request().query('SELECT @@VERSION AS v')).recordset[0]?.v ?? '');
    babelfish = /babelfish/i.test(version);
    console.log(`source: ${version.split('\n')[0]}${babelfish ? ` (${/Babelfish [\d.]+/.exec(version)?.[0] ?? 'Babelfish'})` : ''}`);
    await admin.request().batch(`CREATE DATABASE ${quoteIdent(database)}`);
    created = true;
    // A filled bench table needs no point-in-time log: each batch's log can be reused after it commits.
    if (!babelfish) await admin.request().batch(`ALTER DATABASE ${quoteIdent(database)} SET RECOVERY SIMPLE`);
    pool = await new mssql.ConnectionPool({ ...config, database, pool: { max: PARALLEL + 2 } }).connect();
    await pool.request().batch(ANTRAG);
    const [, fillS] = await timed(async () => {
      for (let from = 1; from <= rows; from += FILL_BATCH) {
        const req = pool!.request();
        req.input('from', mssql.Int, from).input('count', mssql.Int, Math.min(FILL_BATCH, rows - from + 1));
        await req.query(FILL);
      }
      // Row counts for chunk planning come from sys.partitions; Babelfish reports 0 there until statistics exist.
      await pool!.request().batch('EXEC sp_updatestats');
    });
    console.log(`filled dbo.Antrag on the server with ${fmt(rows)} rows in ${fillS.toFixed(1)} s (batches of ${fmt(FILL_BATCH)})`);

    const src = pool;
    const open: RowSourceFactory = async () => new MssqlSource(src);
    const source = new MssqlSource(src);
    // The same mapping and chunk plan etl.copy makes from the catalog, so (a) reads what (b) reads.
    const options = conversionOptions(etlCopyParams.parse({ source: 'src', target: 'target', target_schema: S }));
    const table = convertSchema(await source.introspect(), options).mappings.find((m) => m.source.name.toLowerCase() === 'antrag');
    if (!table) throw new Error('dbo.Antrag was not introspected');
    const chunks = await source.planChunks(table, CHUNK_ROWS);
    console.log(`catalog row count ${fmt(table.rowCount)}; ${chunks.length} chunks of ~${fmt(CHUNK_ROWS)} rows, parallel ${PARALLEL}`);

    // The machine is shared: rounds alternate the two contenders and the best of each counts.
    const times = { read: [] as number[], copy: [] as number[], load: [] as number[] };
    for (let k = 0; k < ROUNDS; k++) {
      const [n, readS] = await timed(() => readIntoNothing(source, table, chunks));
      if (n !== rows) throw new Error(`the driver read ${n} of ${rows} rows`);
      times.read.push(readS);

      const schema = `${S}_${k}`;
      schemas.push(schema);
      const conv = { source: 'src', target: 'target', target_schema: schema };
      const ctx = (stepId: string) => benchContext(database, stepId);
      const pre = ctx(`pre${k}`);
      const copy = ctx(`copy${k}`);
      try {
        await schemaApplyAction(open).run(pre, schemaApplyParams.parse({ ...conv, phase: 'pre-load' }));
        await db.query('CHECKPOINT');
        const [result, copyS] = await timed(() =>
          etlCopyAction(open).run(copy, etlCopyParams.parse({ ...conv, chunk_rows: CHUNK_ROWS, parallel: PARALLEL })));
        const d = result.details as { rows?: number; rowsPerSecond?: number } | undefined;
        if (d?.rows !== rows) throw new Error(`etl.copy loaded ${d?.rows} of ${rows} rows: ${result.summary}`);
        times.copy.push(copyS);
        times.load.push(rows / (d.rowsPerSecond ?? rows));
      } finally {
        await Promise.allSettled([pre.connections.close(), copy.connections.close()]);
      }
    }

    const best = (xs: number[]): number => Math.min(...xs);
    const line = (label: string, xs: number[]): string =>
      `${label.padEnd(48)} best ${best(xs).toFixed(2)} s  ${fmt(rows / best(xs)).padStart(9)} rows/s   (${xs.map((x) => x.toFixed(2)).join(' / ')} s)`;
    console.log(`(a) ${line('driver alone into nothing (readChunk)', times.read)}`);
    console.log(`(b) ${line('etl.copy end to end (catalog, load, reconcile)', times.copy)}   (b)/(a) = ${(best(times.read) / best(times.copy)).toFixed(2)}`);
    console.log(`    ${line('  of which the load (etl.copy\'s own rows/s)', times.load)}   load/(a) = ${(best(times.read) / best(times.load)).toFixed(2)}`);
    console.log(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
  } finally {
    const failures: string[] = [];
    const attempt = async (what: string, fn: () => Promise<unknown>): Promise<void> => {
      await fn().catch((err: unknown) => failures.push(`${what}: ${err instanceof Error ? err.message : String(err)}`));
    };
    if (pool) await attempt('closing the source pool', () => pool!.close());
    if (created) {
      if (!babelfish) await attempt('single-user', () => admin.request().batch(`ALTER DATABASE ${quoteIdent(database)} SET SINGLE_USER WITH ROLLBACK IMMEDIATE`));
      await attempt(`dropping database ${database}`, () => admin.request().batch(`DROP DATABASE ${quoteIdent(database)}`));
    }
    await attempt('closing master', () => admin.close());
    for (const schema of schemas) await attempt(`dropping schema ${schema}`, () => db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
    for (const t of schemas.length ? ['chunks', 'quarantine'] : []) {
      await attempt(`cleaning cutover_etl.${t}`, () => db.query(`DELETE FROM cutover_etl.${t} WHERE load_id LIKE $1`, [`${database}/%`]));
    }
    await db.end();
    for (const f of failures) console.error(`cleanup: ${f}`);
  }
}

const URL = process.env.MSSQL_URL;
if (!URL) console.log('etl-mssql bench skipped: MSSQL_URL is not set (it reads from a SQL Server, e.g. mssql://user:pass@host:1433/master?encrypt=true)');
else await main(URL, Number(process.argv[2] ?? 300_000));
