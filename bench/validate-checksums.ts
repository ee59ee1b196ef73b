/**
 * validate.checksums benchmark (issue 4): two PostgreSQL schemas holding the
 * same generated mixed-type table, 10 scattered rows changed in one. Prints
 * the time of validate.checksums finding all 10 keys, the time of one plain
 * full-table scan computing the same hash in PostgreSQL alone, the ratio
 * (goal < 3×) and the worker's peak RSS. The source side is the PostgreSQL
 * stand-in (PgChecksumSource on the first schema), as in the tests.
 *
 *   npx tsx bench/validate-checksums.ts [rows]   (default 1,000,000; DATABASE_URL or TEST_DATABASE_URL)
 */
import pg from 'pg';
import { pino } from 'pino';
import { ActionError } from '../engine/action.js';
import { validateChecksumsAction } from '../engine/actions/validate-checksums.js';
import { ConnectionRegistry } from '../engine/connections.js';
import type { ColumnMapping, TableMapping } from '../engine/etl/contracts.js';
import { hashedColumns } from '../engine/validate/canonical.js';
import { pgHashSlice, pgRowHash, pgTable } from '../engine/validate/canonical-pg.js';
import type { ValidationResult } from '../engine/validate/contracts.js';
import { PgChecksumSource } from '../engine/validate/pg-checksum-source.js';
import { checksumParams } from '../runbook/actions/validate-checksums.js';

const URL = process.env.DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const ROWS = Number(process.argv[2] ?? 1_000_000);
const A = `bench_ck_src_${process.pid}`;
const B = `bench_ck_tgt_${process.pid}`;

const col = (name: string, sourceType: string, targetType: string, kind: ColumnMapping['kind']): ColumnMapping => ({ source: name, target: name, sourceType, targetType, kind, nullable: true, maxChars: null });
const COLUMNS = [
  col('id', 'int', 'integer', 'int'), col('name', 'nvarchar', 'text', 'text'), col('code', 'char(8)', 'char(8)', 'text'),
  col('amount', 'decimal', 'numeric(19,4)', 'exact'), col('big', 'bigint', 'bigint', 'exact'), col('flag', 'bit', 'boolean', 'bool'),
  col('g', 'uniqueidentifier', 'uuid', 'uuid'), col('ts', 'datetime2', 'timestamp(6)', 'timestamp'), col('d', 'date', 'date', 'date'),
  col('b', 'varbinary', 'bytea', 'bytes'), col('f', 'float', 'double precision', 'float'),
];
const mapping: TableMapping = { source: { schema: 'dbo', name: 'T' }, target: { schema: B, name: 't' }, columns: COLUMNS, key: { columns: ['id'], kind: 'integer' }, rowCount: ROWS };

async function setup(db: pg.Pool): Promise<number[]> {
  for (const s of [A, B]) {
    await db.query(`CREATE SCHEMA "${s}"`);
    await db.query(`CREATE TABLE "${s}".t (${COLUMNS.map((c) => `${c.target} ${c.targetType}`).join(', ')}, PRIMARY KEY (id))`);
  }
  await db.query(`INSERT INTO "${A}".t SELECT i, 'Name ' || i || CASE WHEN i % 7 = 0 THEN ' Grüße 😀' ELSE '' END, 'C' || (i % 1000), (i * 1.2345)::numeric(19,4), i::bigint * 1000,
    i % 2 = 0, md5(i::text)::uuid, timestamp '2020-01-01' + i * interval '1.234567 second', date '2000-01-01' + (i % 10000),
    CASE WHEN i % 5 = 0 THEN NULL ELSE decode(md5(i::text), 'hex') END, i / 3.0 FROM generate_series(1, ${ROWS}) i`);
  await db.query(`INSERT INTO "${B}".t SELECT * FROM "${A}".t`);
  const keys = Array.from({ length: 10 }, (_, i) => Math.floor(((i + 0.37) * ROWS) / 10));
  await db.query(`UPDATE "${B}".t SET name = name || '!' WHERE id = ANY($1::int[])`, [keys]);
  for (const s of [A, B]) await db.query(`VACUUM ANALYZE "${s}".t`);
  return keys;
}

async function main(): Promise<void> {
  const db = new pg.Pool({ connectionString: URL, max: 8 });
  const connections = new ConnectionRegistry({ target: { kind: 'postgres', url: URL } });
  try {
    console.log(`generating ${ROWS.toLocaleString('en-US')} rows twice…`);
    const keys = await setup(db);
    const scanSql = `SELECT sum(${pgHashSlice(pgRowHash(hashedColumns(mapping)))}) FROM ${pgTable(mapping.target)}`;
    await db.query(scanSql); // warm the cache for both measurements alike
    let t0 = performance.now();
    await db.query(scanSql);
    const scan = (performance.now() - t0) / 1000;

    const action = validateChecksumsAction(async () => ({ source: new PgChecksumSource(db, { schema: A }), tables: [mapping] }));
    const ctx = { runId: 'bench', stepId: 'checksums', attempt: 1, dryRun: false, effectKey: null, connections, sqlDir: '', signal: new AbortController().signal, progress: () => {}, stepRecord: () => null, log: pino({ level: 'silent' }) };
    t0 = performance.now();
    let validation: ValidationResult | undefined;
    try {
      await action.run(ctx, checksumParams.parse({ source: 'src', target: 'target', target_schema: B }));
    } catch (err) {
      if (!(err instanceof ActionError)) throw err;
      validation = err.details?.['validation'] as ValidationResult;
    }
    const diff = (performance.now() - t0) / 1000;
    const item = validation?.items[0];
    const found = ((item?.figures?.['keys'] ?? []) as Array<{ key: Record<string, string> }>).map((k) => Number(k.key['id'])).sort((a, b) => a - b);
    const all = JSON.stringify(found) === JSON.stringify([...keys].sort((a, b) => a - b));
    console.log(`rows: ${ROWS.toLocaleString('en-US')} per side, 10 changed (ids ${keys.join(', ')})`);
    console.log(`validate.checksums: ${diff.toFixed(2)} s, found ${found.length} keys${all ? ' (all 10, nothing else)' : ` — MISMATCH: ${found.join(', ')}`}, ${String(item?.figures?.['queries'])} queries`);
    console.log(`plain full-table hash scan (one side): ${scan.toFixed(2)} s`);
    console.log(`ratio: ${(diff / scan).toFixed(2)}× (goal < 3×)`);
    console.log(`peak RSS: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
  } finally {
    for (const s of [A, B]) await db.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
    await db.end();
    await connections.close();
  }
}

await main();
