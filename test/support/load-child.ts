/**
 * A loader process for the crash test (test/integration/load-crash.test.ts):
 * loads the generated sample table through loadTables, slowed down per batch
 * so the test can SIGKILL it at chosen points. Prints the report as JSON.
 *
 * env: DATABASE_URL, TARGET_SCHEMA, ETL_SCHEMA, LOAD_ID, ROWS, CHUNK_ROWS, BATCH_DELAY_MS
 */
import pg from 'pg';
import { loadTables } from '../../engine/etl/load-tables.js';
import { MemoryEncodedSource, sampleTable } from './memory-encoded-source.js';

const env = (name: string): string => {
  const v = process.env[name];
  if (!v) throw new Error(`load-child: ${name} is not set`);
  return v;
};

const pool = new pg.Pool({ connectionString: env('DATABASE_URL'), max: 4 });
const table = sampleTable(env('TARGET_SCHEMA'), 'big', Number(env('ROWS')));
const delay = Number(process.env.BATCH_DELAY_MS ?? '0');
const source = new MemoryEncodedSource([table], { batchRows: 2000, beforeBatch: () => (delay ? new Promise((r) => setTimeout(r, delay)) : undefined) });
const report = await loadTables({
  pool, source, tables: [table.mapping], loadId: env('LOAD_ID'), chunkRows: Number(env('CHUNK_ROWS')),
  parallel: 2, schema: env('ETL_SCHEMA'), truncate: 'if-fresh', signal: new AbortController().signal,
});
await pool.end();
process.stdout.write(`${JSON.stringify({ ok: report.ok, error: report.error?.message ?? null, totals: report.totals })}\n`);
process.exitCode = report.ok ? 0 : 1;
