/**
 * ETL source benchmark (issue 15, part 4): etl.copy of an Antrag-shaped table
 * SQL Server → PostgreSQL (schema.apply pre-load, then etl.copy with the
 * product's defaults: native reads, encode threads as many as `parallel`)
 * against the raw driver reading `SELECT *` of the same table into nothing
 * (the mssql package streaming rows, counted and dropped: what reading the
 * table costs before the product adds anything). Each contender runs in a
 * fresh process, so each has its own peak RSS; rounds alternate them and the
 * best of each counts. Also shown: the product's select list read into
 * nothing (MssqlSource.readChunk), to tell the reading from the loading.
 *
 *   npx tsx bench/etl-mssql.ts [rows]        (default 300,000; needs MSSQL_URL, else skipped;
 *                                             PostgreSQL at TEST_DATABASE_URL)
 *
 * Prints one line `etl.copy / raw driver read = X` with rows/s and peak RSS of
 * each (goal ≥ 0.8). Creates its own database on the server and its own
 * PostgreSQL schemas, and drops them (and its cutover_etl rows) at the end,
 * also on failure. Prints figures; not a test.
 *
 * Figures against Babelfish are not SQL Server's: Babelfish's TDS layer runs on
 * PostgreSQL and shares the machine with the bench and the target. So each
 * contender's line is followed by what the PostgreSQL servers on this machine
 * (Babelfish is one) spent meanwhile (bench/server-cpu.ts), and a CPU budget
 * line says how far etl.copy could get on these cores at best.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
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
import { RowBatch } from '../engine/etl/row-batch.js';
import { convertSchema } from '../engine/schema/convert.js';
import { etlCopyParams } from '../runbook/actions/etl-copy.js';
import { schemaApplyParams } from '../runbook/actions/schema-apply.js';
import { BENCH_DATABASE_URL as TEST_DATABASE_URL, benchContext } from './bench-context.js';
import { serverCpu, serverCpuSince, serverCpuText } from './server-cpu.js';

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

/**
 * What a contender process reports: rows, seconds of the work alone (connecting excluded), the CPU seconds its
 * threads spent on it (on a shared machine wall time says as much about the neighbours as about the code), its peak RSS.
 */
interface Measured {
  rows: number;
  seconds: number;
  cpuSeconds: number;
  maxRssMb: number;
  /** etl.copy's own rate from its step result: rows over the time from its first chunk to its last, without the catalog read and the reconciliation. */
  loadRowsPerSecond?: number;
  /** CPU seconds of each PostgreSQL server on this machine meanwhile (filled in by the parent). */
  servers?: Map<string, number>;
}

/** Runs this file in a fresh process with `args` and reads its one line of JSON. */
function measureIn(args: string[]): Promise<Measured> {
  const self = fileURLToPath(import.meta.url);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', self, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += String(d)));
    child.on('exit', (code) => {
      const last = out.trim().split('\n').pop() ?? '';
      const m: unknown = code === 0 ? JSON.parse(last) : null;
      const ok = (x: unknown): x is Measured => typeof x === 'object' && x !== null && ['rows', 'seconds', 'cpuSeconds', 'maxRssMb'].every((k) => typeof (x as Record<string, unknown>)[k] === 'number');
      if (ok(m)) resolve(m);
      else reject(new Error(`${args[0]} exited ${code}: ${out.slice(-500)}`));
    });
  });
}

/** Prints a child's Measured; `cpuFrom` is process.cpuUsage() taken when its timed work began (all threads of the process). */
function report(rows: number, seconds: number, cpuFrom: NodeJS.CpuUsage, loadRowsPerSecond?: number): void {
  const cpu = process.cpuUsage(cpuFrom);
  const m: Measured = { rows, seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, maxRssMb: process.resourceUsage().maxRSS / 1024, ...(loadRowsPerSecond ? { loadRowsPerSecond } : {}) };
  process.stdout.write(`${JSON.stringify(m)}\n`);
}

/** Child (a): the mssql driver streaming SELECT * of the table, each row counted and dropped. */
async function rawChild(url: string, database: string): Promise<void> {
  const pool = await new mssql.ConnectionPool({ ...mssqlConfigFromUrl(url), database }).connect();
  try {
    const cpu = process.cpuUsage();
    const [rows, seconds] = await timed(
      () =>
        new Promise<number>((resolve, reject) => {
          const req = pool.request();
          req.stream = true;
          let n = 0;
          req.on('row', () => void n++);
          req.on('error', reject);
          req.on('done', () => resolve(n));
          void req.query('SELECT * FROM dbo.Antrag').catch(reject);
        }),
    );
    report(rows, seconds, cpu);
  } finally {
    await pool.close();
  }
}

/** Child (b): schema.apply pre-load (not timed), then etl.copy as a runbook step would run it (encode threads as many as `parallel`). */
async function copyChild(url: string, database: string, schema: string): Promise<void> {
  const config = { ...mssqlConfigFromUrl(url), database };
  const pool = await new mssql.ConnectionPool({ ...config, pool: { max: PARALLEL + 2 } }).connect();
  const open: RowSourceFactory = async () => new MssqlSource(pool, { ownsPool: false, threadConfig: config });
  const conv = { source: 'src', target: 'target', target_schema: schema };
  const pre = benchContext(database, `pre-${schema}`);
  const copy = benchContext(database, `copy-${schema}`);
  try {
    await schemaApplyAction(open).run(pre, schemaApplyParams.parse({ ...conv, phase: 'pre-load' }));
    const cpu = process.cpuUsage();
    const [result, seconds] = await timed(() => etlCopyAction(open).run(copy, etlCopyParams.parse({ ...conv, chunk_rows: CHUNK_ROWS, parallel: PARALLEL })));
    const d = result.details as { rows?: number; rowsPerSecond?: number } | undefined;
    report(d?.rows ?? -1, seconds, cpu, d?.rowsPerSecond);
  } finally {
    await Promise.allSettled([pre.connections.close(), copy.connections.close(), pool.close()]);
  }
}

/** Every chunk through the driver and the product's select list, rows counted and dropped. */
async function readIntoNothing(source: MssqlSource, table: TableMapping, chunks: ChunkSpec[]): Promise<number> {
  const counts = await inParallel(chunks, PARALLEL, async (chunk) => {
    let n = 0;
    const sink = new Writable({ objectMode: true, write: (item: unknown, _enc, done) => {
      n += item instanceof RowBatch ? item.rows.length : 1;
      done();
    } });
    await pipeline(source.readChunk(table, chunk, new AbortController().signal), sink);
    return n;
  });
  return counts.reduce((a, b) => a + b, 0);
}

const loadNow = (): string => loadavg().map((x) => x.toFixed(2)).join(' / ');

async function main(url: string, rows: number): Promise<void> {
  const load0 = loadNow();
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
    console.log(`load average (1/5/15 min) ${load0} on ${availableParallelism()} cores`);
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

    const source = new MssqlSource(pool);
    // The same mapping and chunk plan etl.copy makes from the catalog, so the select-list read covers what (b) reads.
    const options = conversionOptions(etlCopyParams.parse({ source: 'src', target: 'target', target_schema: S }));
    const table = convertSchema(await source.introspect(), options).mappings.find((m) => m.source.name.toLowerCase() === 'antrag');
    if (!table) throw new Error('dbo.Antrag was not introspected');
    const chunks = await source.planChunks(table, CHUNK_ROWS);
    console.log(`catalog row count ${fmt(table.rowCount)}; ${chunks.length} chunks of ~${fmt(CHUNK_ROWS)} rows, parallel ${PARALLEL}`);

    // The machine is shared: rounds alternate the contenders (each in a fresh process) and the best of each counts.
    const runs = { raw: [] as Measured[], copy: [] as Measured[], select: [] as number[] };
    // What the servers on this machine spent while a contender ran (Babelfish is the source, PostgreSQL the target).
    const withServers = async (args: string[]): Promise<Measured> => {
      const before = serverCpu();
      const m = await measureIn(args);
      return { ...m, servers: serverCpuSince(before) };
    };
    for (let k = 0; k < ROUNDS; k++) {
      const raw = await withServers(['--raw', database]);
      if (raw.rows !== rows) throw new Error(`the raw driver read ${raw.rows} of ${rows} rows`);
      runs.raw.push(raw);

      const [n, readS] = await timed(() => readIntoNothing(source, table, chunks));
      if (n !== rows) throw new Error(`the select list read ${n} of ${rows} rows`);
      runs.select.push(readS);

      const schema = `${S}_${k}`;
      schemas.push(schema);
      const copy = await withServers(['--copy', database, schema]);
      if (copy.rows !== rows) throw new Error(`etl.copy loaded ${copy.rows} of ${rows} rows`);
      runs.copy.push(copy);
    }

    const fastest = (xs: Measured[]): Measured => xs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
    const raw = fastest(runs.raw);
    const copy = fastest(runs.copy);
    const rate = (m: Measured): string => `${fmt(m.rows / m.seconds).padStart(9)} rows/s`;
    const line = (label: string, m: Measured, xs: Measured[]): string =>
      `${label.padEnd(44)} best ${m.seconds.toFixed(2)} s ${rate(m)}   worker CPU ${m.cpuSeconds.toFixed(1)} s   peak RSS ${m.maxRssMb.toFixed(0)} MB   (${xs.map((x) => x.seconds.toFixed(2)).join(' / ')} s)`;
    console.log(`(a) ${line('raw driver, SELECT * into nothing', raw, runs.raw)}`);
    console.log(`    servers on this machine meanwhile: ${serverCpuText(raw.servers ?? new Map())}`);
    console.log(`(b) ${line('etl.copy end to end (catalog, load, reconcile)', copy, runs.copy)}`);
    console.log(`    servers on this machine meanwhile: ${serverCpuText(copy.servers ?? new Map())}`);
    if (copy.loadRowsPerSecond) {
      console.log(`    its load alone (the step's own rows/s, without the catalog read and the reconciliation): ${fmt(copy.loadRowsPerSecond)} rows/s = ${(copy.loadRowsPerSecond / (rows / raw.seconds)).toFixed(2)} of the raw driver`);
    }
    const selectBest = Math.min(...runs.select);
    console.log(`    the product's select list into nothing (readChunk, parallel ${PARALLEL}): best ${selectBest.toFixed(2)} s ${fmt(rows / selectBest)} rows/s`);
    console.log(`load average (1/5/15 min) at the start ${load0}, at the end ${loadNow()}: the machine is shared, so the figures are noisy`);
    // Where the source and the target share this machine's cores with the worker, etl.copy cannot go faster than all
    // its CPU seconds (worker and servers) spread over every core: that bounds etl.copy / raw driver whatever the code
    // does, and says what the total would have to fall to for the goal.
    const servers = (m: Measured): number => [...(m.servers ?? new Map<string, number>()).values()].reduce((a, b) => a + b, 0);
    if (copy.servers?.size) {
      const cores = availableParallelism();
      const total = copy.cpuSeconds + servers(copy);
      const bound = (raw.seconds * cores) / total;
      const needed = (raw.seconds * cores) / 0.8;
      console.log(
        `CPU budget: etl.copy took ${copy.cpuSeconds.toFixed(1)} CPU-s in the worker + ${servers(copy).toFixed(1)} in the servers here = ${total.toFixed(1)}; on ${cores} cores that allows at most ` +
          `etl.copy / raw driver = ${bound.toFixed(2)}. For 0.8 the total would have to fall to ${needed.toFixed(1)} CPU-s, leaving the worker ${(needed - servers(copy)).toFixed(1)} ` +
          `(the raw driver alone took ${raw.cpuSeconds.toFixed(1)}, its server ${servers(raw).toFixed(1)})`,
      );
    }
    console.log(`etl.copy / raw driver read = ${(raw.seconds / copy.seconds).toFixed(2)}   (etl.copy ${fmt(rows / copy.seconds)} rows/s, peak RSS ${copy.maxRssMb.toFixed(0)} MB; raw driver ${fmt(rows / raw.seconds)} rows/s, peak RSS ${raw.maxRssMb.toFixed(0)} MB; goal ≥ 0.8)`);
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
const args = process.argv.slice(2);
if (URL && args[0] === '--raw') await rawChild(URL, args[1] ?? '');
else if (URL && args[0] === '--copy') await copyChild(URL, args[1] ?? '', args[2] ?? '');
else if (!URL) console.log('etl-mssql bench skipped: MSSQL_URL is not set (it reads from a SQL Server, e.g. mssql://user:pass@host:1433/master?encrypt=true)');
else await main(URL, Number(args[0] ?? 300_000));
