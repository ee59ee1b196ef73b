/**
 * `cutover plan`'s snapshot totals (issue 18): the exact sum of every
 * money/decimal column, read from a snapshot's rows. Writes a snapshot of one
 * table (id, a decimal(19,4), a decimal(38,0) and a text column) through the
 * extract's writer, then prints:
 *   (a) the time of snapshotTotals against the honest limit — decompressing and
 *       hashing every file as snapshot.verify does (the least work that reads
 *       them) — and the ratio (goal ≤ 2);
 *   (b) peak RSS of a process summing 100,000 and 1,000,000 rows, and the ratio
 *       (goal ≤ 1.2: memory flat whatever the snapshot's size).
 *
 *   npx tsx bench/plan-snapshot-totals.ts [rows]   (default 1,000,000)
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { snapshotTotals } from '../cli/plan/snapshot-totals.js';
import type { ChunkSpec, ColumnMapping, SourceRow, TableMapping } from '../engine/etl/contracts.js';
import type { SchemaModel } from '../engine/schema/model.js';
import { SnapshotSource } from '../engine/snapshot/reader.js';
import { SnapshotWriter } from '../engine/snapshot/writer.js';

const CHUNK = 100_000;
const col = (name: string, sourceType: string, targetType: string, kind: ColumnMapping['kind']): ColumnMapping => ({ source: name, target: name, sourceType, targetType, kind, nullable: true, maxChars: null });
const COLUMNS = [col('id', 'int', 'integer', 'int'), col('amount', 'decimal', 'numeric(19,4)', 'exact'), col('big', 'decimal', 'numeric(38,0)', 'exact'), col('note', 'nvarchar', 'text', 'text')];

function mappingOf(rows: number): TableMapping {
  return { source: { schema: 'dbo', name: 'Buchung' }, target: { schema: 'bench', name: 'buchung' }, columns: COLUMNS, key: { columns: ['id'], kind: 'integer' }, rowCount: rows };
}

function modelOf(rows: number): SchemaModel {
  const column = (name: string, type: string, precision: number | null, scale: number | null, maxLength: number | null) => ({
    name, ordinal: 0, type, maxLength, precision, scale, nullable: true, identity: null, defaultExpression: null, computed: null, collation: null, isRowVersion: false,
  });
  const columns = [column('id', 'int', 10, 0, null), column('amount', 'decimal', 19, 4, null), column('big', 'decimal', 38, 0, null), column('note', 'nvarchar', null, null, 200)].map((c, i) => ({ ...c, ordinal: i + 1 }));
  return {
    sourceKind: 'mssql', database: 'bench', serverVersion: null, collation: null, others: [],
    tables: [{ schema: 'dbo', name: 'Buchung', columns, primaryKey: { name: 'PK', columns: ['id'] }, uniques: [], indexes: [], foreignKeys: [], checks: [], rowCount: rows }],
  };
}

function* rowsOf(from: number, to: number): Generator<SourceRow> {
  for (let i = from; i < to; i++) yield [i, `${i * 7}.${String(i % 10000).padStart(4, '0')}`, `${i}${'9'.repeat(20)}`, `Buchung ${i} für Kleingarten ${i % 977}`];
}

async function writeSnapshot(dir: string, rows: number): Promise<void> {
  const writer = new SnapshotWriter(dir);
  const mapping = mappingOf(rows);
  const signal = new AbortController().signal;
  for (let from = 1; from <= rows; from += CHUNK) {
    const to = Math.min(rows + 1, from + CHUNK);
    const chunk: ChunkSpec = { id: `r${from}`, kind: 'range', column: 'id', from: String(from), to: String(to), lastInclusive: false };
    await writer.writeChunk(mapping, chunk, Readable.from(rowsOf(from, to)), signal);
  }
  await writer.finish(modelOf(rows), [mapping]);
}

async function sumIt(dir: string): Promise<Map<string, string | null>> {
  const snapshot = await SnapshotSource.open(dir);
  return snapshotTotals(snapshot, snapshot.tables(), new AbortController().signal);
}

/** Peak RSS (MB) of a fresh process that only sums the snapshot. */
function childPeakMb(dir: string): number {
  const run = spawnSync(process.execPath, ['--import', 'tsx', new URL(import.meta.url).pathname, '--child', dir], { encoding: 'utf8' });
  const mb = Number(/peak-rss-mb (\d+(\.\d+)?)/.exec(run.stdout)?.[1]);
  if (!Number.isFinite(mb)) throw new Error(`the child did not report its RSS: ${run.stderr}`);
  return mb;
}

async function main(): Promise<void> {
  if (process.argv[2] === '--child') {
    await sumIt(process.argv[3] ?? '');
    console.log(`peak-rss-mb ${(process.resourceUsage().maxRSS / 1024).toFixed(1)}`);
    return;
  }
  const rows = Number(process.argv[2] ?? 1_000_000);
  const work = await mkdtemp(join(tmpdir(), 'cutover-bench-totals-'));
  try {
    const big = join(work, 'big');
    const small = join(work, 'small');
    console.log(`writing snapshots of ${rows.toLocaleString('en-US')} and 100,000 rows…`);
    await writeSnapshot(big, rows);
    await writeSnapshot(small, 100_000);

    const snapshot = await SnapshotSource.open(big);
    await snapshot.verify({ content: true }); // warm the page cache for both measurements alike
    const times = { limit: [] as number[], totals: [] as number[] };
    let sums = new Map<string, string | null>();
    for (let i = 0; i < 3; i++) {
      let t0 = performance.now();
      await snapshot.verify({ content: true });
      times.limit.push((performance.now() - t0) / 1000);
      t0 = performance.now();
      sums = await sumIt(big);
      times.totals.push((performance.now() - t0) / 1000);
    }
    const best = (xs: number[]) => Math.min(...xs);
    console.log(`sums: ${[...sums].map(([k, v]) => `${k} = ${v}`).join(', ')}`);
    console.log(`(a) read every file (sha256, gunzip, row hash): best ${best(times.limit).toFixed(2)} s; totals: best ${best(times.totals).toFixed(2)} s (${Math.round(rows / best(times.totals)).toLocaleString('en-US')} rows/s)   totals/limit = ${(best(times.totals) / best(times.limit)).toFixed(2)} (goal ≤ 2)`);
    const smallMb = childPeakMb(small);
    const bigMb = childPeakMb(big);
    console.log(`(b) peak RSS summing 100,000 rows ${smallMb.toFixed(0)} MB, ${rows.toLocaleString('en-US')} rows ${bigMb.toFixed(0)} MB   ratio ${(bigMb / smallMb).toFixed(2)} (goal ≤ 1.2)`);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

await main();
