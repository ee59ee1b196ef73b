/**
 * ETL load benchmark (issue 3, etl.copy): an Antrag-shaped table as COPY text,
 * loaded by `psql \copy` and by the loader (file → chunks → loadTables), plus
 * the whole path from source values (as the mssql adapter yields them) through the encoder into COPY,
 * FREEZE against no FREEZE and the loader's peak RSS at 100,000 vs 5,000,000 rows; the values → encoder → COPY
 * path also on 2 encode threads (end to end, and with the values prepared in advance, against psql \copy runs of the
 * same rounds: issue 15's goal line), and fanned out to 1 and to 2 worker processes sharing the table (bench/etl-fan-out.ts).
 *
 *   npx tsx bench/etl-load.ts [rows]         (default 1,000,000; DATABASE_URL or TEST_DATABASE_URL; REDIS_URL for the fan-out;
 *                                             BENCH_ROUNDS (3), BENCH_RSS=0 to leave out the peak-RSS loads)
 *
 * Prints figures; not a test. Generated files go to os.tmpdir() and are removed.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { ChunkSpec, ColumnMapping, EncodedChunk, EncodedSource, TableMapping } from '../engine/etl/contracts.js';
import { quoteTable } from '../engine/etl/checkpoints.js';
import { EncodingSource } from '../engine/etl/encoding-source.js';
import { loadTables } from '../engine/etl/load-tables.js';
import { startFanOutBench } from './etl-fan-out.js';
import { hex, NAMES, p2, valueSource, values } from './etl-values.js';

const URL = process.env.DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const S = process.env.BENCH_SCHEMA ?? `bench_etl_${process.pid}`;
const col = (name: string, targetType: string, kind: ColumnMapping['kind']): ColumnMapping =>
  ({ source: name, target: name, sourceType: '', targetType, kind, nullable: true, maxChars: null });
const COLUMNS = [
  col('an_id', 'integer', 'int'), col('an_guid', 'uuid', 'uuid'), col('an_aktenzeichen', 'varchar(40)', 'text'),
  col('an_name', 'varchar(100)', 'text'), col('an_eingang', 'timestamp(3)', 'timestamp'), col('an_aktiv', 'boolean', 'bool'),
  col('an_betrag', 'numeric(12,2)', 'exact'), col('an_bemerkung', 'text', 'text'),
];
const antrag = (name: string, rows: number): TableMapping =>
  ({ source: { schema: 'dbo', name: 'Antrag' }, target: { schema: S, name }, columns: COLUMNS, key: { columns: ['an_id'], kind: 'integer' }, rowCount: rows });
// No autovacuum: a million freshly inserted rows would wake it within a minute, in the middle of the next contender's load.
const ddl = (t: TableMapping): string =>
  `CREATE TABLE ${quoteTable(t.target)} (${COLUMNS.map((c) => `${c.target} ${c.targetType}`).join(', ')}) WITH (autovacuum_enabled = false)`;

/** One Antrag row as COPY text, about 150 bytes on average like the measured 154 MB per million. */
function line(i: number): string {
  const r = Math.imul(i, 2654435761) >>> 0;
  const guid = `${hex(r, 8)}-${hex(i, 4)}-4${hex(r >>> 4, 3)}-a${hex(i >>> 3, 3)}-${hex(r ^ i, 8)}${hex(i, 4)}`;
  const n = NAMES[r % NAMES.length] as string;
  const at = `20${p2(10 + (r % 14))}-${p2(1 + (r % 12))}-${p2(1 + (i % 28))} ${p2(r % 24)}:${p2(i % 60)}:${p2(r % 60)}.${String(r % 1000).padStart(3, '0')}`;
  const note = r % 2 === 0 ? '\\N' : `Antrag auf Kleingarten „${n}“, Parzelle ${r % 500}; Rückfrage: "Zaun" \\\\ Tor\\t${'ä'.repeat(r % 24)}`;
  return `${i}\t${guid}\tKGV-${2000 + (r % 24)}/${i} "${n}"\t${n}, Jürgen "Jü" Straße ${r % 200}\t${at}\t${r % 3 === 0 ? 't' : 'f'}\t${r % 1_000_000}.${p2(r % 100)}\t${note}\n`;
}

/** Lines [lo, hi) in ~256 KB Buffers, each line written straight into its Buffer (no big strings to collect). */
async function* lines(lo: number, hi: number): AsyncGenerator<Buffer> {
  const size = 256 * 1024;
  let buf = Buffer.allocUnsafe(size);
  let at = 0;
  for (let i = lo; i < hi; i++) {
    const l = line(i);
    if (at + l.length * 3 > size) {
      yield buf.subarray(0, at);
      buf = Buffer.allocUnsafe(size);
      at = 0;
    }
    at += buf.write(l, at);
  }
  if (at > 0) yield buf.subarray(0, at);
}

/** A source over a COPY text file: planning finds the byte offset of every chunkRows-th line. */
function fileSource(file: string): EncodedSource {
  const ranges = new Map<string, [number, number]>();
  const plans = new Map<number, ChunkSpec[]>();
  return {
    introspect: () => Promise.reject(new Error('not used')),
    async planChunks(_t, targetRows) {
      const planned = plans.get(targetRows);
      if (planned) return planned;
      const chunks: ChunkSpec[] = [];
      plans.set(targetRows, chunks);
      let [start, offset, rowsIn] = [0, 0, 0];
      for await (const buf of createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
        for (let nl = buf.indexOf(10); nl !== -1; nl = buf.indexOf(10, nl + 1)) {
          if (++rowsIn < targetRows) continue;
          const end = offset + nl + 1;
          ranges.set(`${targetRows}/c${chunks.length}`, [start, end]);
          chunks.push({ id: `${targetRows}/c${chunks.length}`, kind: 'range', column: 'an_id', from: String(start), to: String(end), lastInclusive: false });
          [start, rowsIn] = [end, 0];
        }
        offset += buf.length;
      }
      if (offset > start) {
        ranges.set(`${targetRows}/c${chunks.length}`, [start, offset]);
        chunks.push({ id: `${targetRows}/c${chunks.length}`, kind: 'range', column: 'an_id', from: String(start), to: String(offset), lastInclusive: false });
      }
      return chunks;
    },
    async openChunk(_t, chunk): Promise<EncodedChunk> {
      const [start, end] = ranges.get(chunk.id) ?? [0, 0];
      return { stream: createReadStream(file, { start, end: end - 1, highWaterMark: 1 << 20 }), quarantined: [] };
    },
    close: async () => {},
  };
}

async function timed<T>(what: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const out = await what();
  return [out, (performance.now() - t0) / 1000];
}

async function viaLoader(pool: pg.Pool, source: EncodedSource, t: TableMapping, parallel: number, chunkRows: number, freeze: boolean) {
  const report = await loadTables({
    pool, source, tables: [t], loadId: `bench/${t.target.name}/${performance.now()}`, chunkRows, parallel, schema: `${S}_etl`,
    truncate: 'if-fresh', freeze, signal: new AbortController().signal,
  });
  if (!report.ok) throw report.error ?? new Error(JSON.stringify(report.tables));
  return report;
}

/** Child mode: load a COPY file of `rows` rows and print the peak RSS in MB. */
async function rssChild(file: string, rows: number): Promise<void> {
  const pool = new pg.Pool({ connectionString: URL, max: 3 });
  const t = antrag(`rss_${rows}`, rows);
  await pool.query(ddl(t));
  // The same shape of work at both sizes (20 chunks, 2 in flight), so only the row count differs.
  await viaLoader(pool, fileSource(file), t, 2, Math.ceil(rows / 20), false);
  await pool.query(`DROP TABLE ${quoteTable(t.target)}`);
  await pool.end();
  process.stdout.write(`${JSON.stringify({ rows, maxRssMb: process.resourceUsage().maxRSS / 1024 })}\n`);
}

/** Peak RSS of a fresh process loading `rows` generated rows (the file is written here, outside the measured process). */
async function rssOf(dir: string, rows: number): Promise<number> {
  const file = path.join(dir, `rss-${rows}.copy`);
  await writeCopyFile(file, rows);
  const self = fileURLToPath(import.meta.url);
  try {
    return await new Promise((resolve, reject) => {
      const c = spawn(process.execPath, ['--import', 'tsx', self, '--rss', file, String(rows)], { env: { ...process.env, BENCH_SCHEMA: S }, stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      c.stdout.on('data', (d) => (out += String(d)));
      c.on('exit', (code) => (code === 0 ? resolve((JSON.parse(out.trim()) as { maxRssMb: number }).maxRssMb) : reject(new Error(`rss child for ${rows} rows exited ${code}`))));
    });
  } finally {
    await rm(file, { force: true });
  }
}

const writeCopyFile = (file: string, rows: number): Promise<void> => pipeline(Readable.from(lines(1, rows + 1), { objectMode: false }), createWriteStream(file));

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

async function main(rows: number): Promise<void> {
  const pool = new pg.Pool({ connectionString: URL, max: 4 });
  const dir = await mkdtemp(path.join(tmpdir(), 'cutover-bench-etl-'));
  const file = path.join(dir, 'antrag.copy');
  try {
    await pool.query(`CREATE SCHEMA ${S}`);
    const [, gen] = await timed(() => writeCopyFile(file, rows));
    const size = (await stat(file)).size;
    console.log(`generated ${fmt(rows)} Antrag rows, ${(size / 1e6).toFixed(0)} MB of COPY text in ${gen.toFixed(1)} s`);
    const fresh = async (name: string): Promise<TableMapping> => {
      const t = antrag(name, rows);
      await pool.query(`DROP TABLE IF EXISTS ${quoteTable(t.target)}; ${ddl(t)}`);
      // Start each measurement without the previous one's dirty buffers or WAL still to flush.
      await pool.query('CHECKPOINT');
      return t;
    };
    const source = fileSource(file);
    const chunkRows = Math.max(1000, Math.ceil(rows / 10));
    const [chunks, planS] = await timed(() => source.planChunks(antrag('plan', rows), chunkRows));
    console.log(`planned ${chunks.length} chunks in ${planS.toFixed(2)} s (a newline scan of the file, not counted below; a snapshot manifest holds them)`);

    const copyWithPsql = async (): Promise<number> => {
      const t = await fresh('psql');
      return (await timed(async () => execFileSync('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', URL, '-c', `\\copy ${quoteTable(t.target)} from '${file}'`])))[1];
    };
    // The machine is shared: rounds interleave the contenders and the best of each counts.
    const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
    const times: Record<'psql' | 'p1' | 'p2', number[]> = { psql: [], p1: [], p2: [] };
    for (let k = 0; k < rounds; k++) {
      times.psql.push(await copyWithPsql());
      for (const parallel of [1, 2] as const) {
        const [r, sec] = await timed(async () => viaLoader(pool, source, await fresh(`loader_p${parallel}`), parallel, chunkRows, true));
        if (r.totals.rows !== rows) throw new Error(`loader loaded ${r.totals.rows} of ${rows} rows`);
        times[`p${parallel}`].push(sec);
      }
    }
    const best = (xs: number[]): number => Math.min(...xs);
    const line = (label: string, xs: number[]): string =>
      `${label.padEnd(34)} best ${best(xs).toFixed(2)} s  ${fmt(rows / best(xs)).padStart(9)} rows/s   (${xs.map((x) => x.toFixed(2)).join(' / ')} s)`;
    console.log(`(a) ${line('psql \\copy', times.psql)}`);
    for (const p of [1, 2] as const) {
      const xs = times[`p${p}`];
      console.log(`(b) ${line(`loader, ${chunks.length} chunks, parallel ${p}`, xs)}   loader/psql = ${(best(times.psql) / best(xs)).toFixed(2)}`);
    }

    // The live path: values → encoder → COPY. Producing the values costs CPU the driver would spend anyway,
    // so it is timed alone too (like reading with the driver into nothing in bench/etl-mssql.ts).
    const encodeTimes: number[] = [];
    const produceTimes: number[] = [];
    for (let k = 0; k < rounds; k++) {
      const [r, sec] = await timed(async () => viaLoader(pool, new EncodingSource(valueSource(rows)), await fresh('encoded_p2'), 2, chunkRows, true));
      if (r.totals.rows !== rows) throw new Error(`encoding loader loaded ${r.totals.rows} of ${rows} rows`);
      encodeTimes.push(sec);
      produceTimes.push((await timed(async () => { let n = 0; for (let i = 1; i <= rows; i++) n += values(i).length; return n; }))[1]);
    }
    console.log(`(e) ${line('values → encoder → COPY, parallel 2', encodeTimes)}   (encoder+COPY)/psql = ${(best(times.psql) / best(encodeTimes)).toFixed(2)}`);
    console.log(`    producing the values alone: best ${best(produceTimes).toFixed(2)} s; without it (encoder+COPY)/psql = ${(best(times.psql) / Math.max(0.001, best(encodeTimes) - best(produceTimes))).toFixed(2)} (target ≥ 0.8)`);

    // The same path with the reading and encoding on 2 encode threads (engine/etl/threads/): the values are produced
    // there too, as the driver parses on its thread, so this is end to end and compares with (e) as a whole.
    const cores = availableParallelism();
    const load = (): string => loadavg().map((x) => x.toFixed(1)).join(' ');
    /** Rounds on 2 encode threads; with `alongside`, a psql \copy in each round too, so both see the machine as it is then. */
    const onThreads = async (prepared: boolean, alongside?: number[]): Promise<number[]> => {
      const times: number[] = [];
      for (let k = 0; k < rounds; k++) {
        if (alongside) alongside.push(await copyWithPsql());
        const encoded = new EncodingSource(valueSource(rows, { prepared }), { threads: 2 });
        await encoded.startThreads();
        try {
          const [r, sec] = await timed(async () => viaLoader(pool, encoded, await fresh('encoded_t2'), 2, chunkRows, true));
          if (r.totals.rows !== rows) throw new Error(`threaded loader loaded ${r.totals.rows} of ${rows} rows`);
          times.push(sec);
        } finally {
          await encoded.closeThreads();
        }
      }
      return times;
    };
    const threadTimes = await onThreads(false);
    console.log(`(f) ${line('values → encoder on 2 threads → COPY', threadTimes)}   (encoder+COPY)/psql = ${(best(times.psql) / best(threadTimes)).toFixed(2)}; speed-up over one thread (e) ${(best(encodeTimes) / best(threadTimes)).toFixed(2)}× on ${cores} cores (load average ${load()})`);
    // The generator costs more than encoding its rows, and on 2 threads it cannot be subtracted as in (e): the goal's
    // line takes it out by preparing 4,096 distinct rows once per thread and handing on copies (bench/etl-values.ts).
    // This machine's speed drifts over minutes, so the goal's line compares with psql \copy runs of the same rounds.
    const psqlAlongside: number[] = [];
    const preparedTimes = await onThreads(true, psqlAlongside);
    console.log(`    ${line('psql \\copy, in the same rounds', psqlAlongside)}`);
    console.log(`    ${line('… values prepared in advance', preparedTimes)}   without it (encoder+COPY on 2 threads)/psql = ${(best(psqlAlongside) / best(preparedTimes)).toFixed(2)} (goal ≥ 1.0)`);

    // The same path fanned out (issue 15, part 3): the step job adds the chunks as BullMQ children and chunk-worker
    // processes load them; first one process, then two sharing the table. Each process encodes on its own thread.
    const fan = await startFanOutBench(pool, rows, chunkRows, URL);
    try {
      const byProcesses: Record<1 | 2, number[]> = { 1: [], 2: [] };
      for (const n of [1, 2] as const) {
        await fan.addWorker();
        for (let k = 0; k < rounds; k++) byProcesses[n].push(await fan.load(await fresh(`fanout_${n}`), `${S}_etl`));
      }
      console.log(`(g) ${line('values → encoder → COPY, 1 worker process', byProcesses[1])}   (encoder+COPY)/psql = ${(best(times.psql) / best(byProcesses[1])).toFixed(2)}`);
      console.log(`    ${line('… 2 worker processes sharing the table', byProcesses[2])}   (encoder+COPY)/psql = ${(best(times.psql) / best(byProcesses[2])).toFixed(2)}; speed-up over one process ${(best(byProcesses[1]) / best(byProcesses[2])).toFixed(2)}× on ${cores} cores shared with PostgreSQL (load average ${load()})`);
    } finally {
      await fan.close();
    }

    for (const freeze of [false, true]) {
      const t = await fresh(`one_chunk_${freeze ? 'freeze' : 'plain'}`);
      await pool.query(`INSERT INTO ${quoteTable(t.target)} (an_id) VALUES (0)`);
      const [, load] = await timed(() => viaLoader(pool, source, t, 1, rows + 1, freeze));
      const [, scan] = await timed(() => pool.query(`SELECT count(*) FROM ${quoteTable(t.target)}`));
      const [, vac] = await timed(() => pool.query(`VACUUM (FREEZE) ${quoteTable(t.target)}`));
      const how = freeze ? 'TRUNCATE + COPY FREEZE, one tx' : 'TRUNCATE; COPY (no FREEZE)   ';
      console.log(`(c) one chunk, ${how}  load ${load.toFixed(2)} s, first scan ${scan.toFixed(2)} s, VACUUM (FREEZE) ${vac.toFixed(2)} s`);
    }
    const wal = (await pool.query('SHOW wal_level')).rows[0].wal_level;
    console.log(`    (wal_level=${wal}: COPY after TRUNCATE in the same transaction skips WAL only under wal_level=minimal)`);
    // BENCH_RSS=0 leaves out the peak-RSS part (three more loads, up to 5M rows) for a quick look at the rest.
    if (process.env.BENCH_RSS === '0') return;
    const small = await rssOf(dir, 100_000);
    const mid = await rssOf(dir, 1_000_000);
    const big = await rssOf(dir, 5_000_000);
    console.log(`(d) peak RSS of a loader process: 100,000 rows ${small.toFixed(0)} MB, 5,000,000 rows ${big.toFixed(0)} MB, ratio ${(big / small).toFixed(2)} (target ≤ 1.2)`);
    // A 100,000-row load ends before the heap has grown to its working size; 1M against 5M shows whether memory follows the table.
    console.log(`    1,000,000 rows ${mid.toFixed(0)} MB: 5M/1M ${(big / mid).toFixed(2)}`);
  } finally {
    await pool.query(`DROP SCHEMA IF EXISTS ${S} CASCADE; DROP SCHEMA IF EXISTS ${S}_etl CASCADE`);
    await rm(dir, { recursive: true, force: true });
    await pool.end();
  }
}

const args = process.argv.slice(2);
if (args[0] === '--rss') await rssChild(args[1] ?? '', Number(args[2]));
else await main(Number(args[0] ?? 1_000_000));
