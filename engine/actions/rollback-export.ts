import { mkdir, rename } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ExportSinceGoliveParams, ExportTableSpec } from '../../runbook/rollback-action-params.js';
import { ActionError, abortReason, type ActionContext, type ActionImpl, type ActionResult } from '../action.js';
import { checkout, quoteIdent, type Queryable } from '../etl/checkpoints.js';
import { csvLine } from '../rollback/csv-writer.js';
import { sha256File } from '../backup/pg-tools.js';
import { cursorRows, describeTable, type PgTableShape } from '../rollback/pg-rows.js';
import { tsqlFooter, tsqlHeader, tsqlTableEnd, tsqlTableStart, tsqlUpsert, type TsqlTable } from '../rollback/tsql-writer.js';

export interface ExportDeps {
  /** The run's recorded go-live time (ISO), used when the runbook gives no `since`. */
  goLiveAt?: (ctx: ActionContext) => Promise<string | undefined>;
}

interface Plan {
  spec: ExportTableSpec;
  shape: PgTableShape;
  tsql: TsqlTable;
  query: string;
}

export const TSQL_FILE = 'rollback-since-golive.sql';
export const csvFileOf = (table: string): string => `${table.replace(/[^\w.-]/g, '_')}.csv`;

/**
 * rollback.export_since_golive: rows of the declared tables whose changed
 * column is at or after go-live, written as a T-SQL replay script and a CSV per
 * table (with sha256) for the DBA to review and run on SQL Server. Reads in one
 * REPEATABLE READ snapshot so the script and the CSVs show the same rows.
 */
export function rollbackExportAction(deps: ExportDeps = {}): ActionImpl<ExportSinceGoliveParams> {
  return {
    id: 'rollback.export_since_golive',
    async run(ctx, params) {
      const since = params.since ?? (await deps.goLiveAt?.(ctx));
      if (!since) throw new ActionError('rollback.no_golive', 'no go-live time: the runbook gives no "since" and the run has recorded no switch');
      const client = await checkout(ctx.connections.postgres(params.target));
      let clean = false;
      try {
        await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET LOCAL TimeZone = 'UTC'; SET LOCAL DateStyle = 'ISO, YMD'");
        const plans = await Promise.all(params.tables.map((spec) => planTable(client, spec)));
        const result = ctx.dryRun ? await countOnly(client, plans, since) : await writeFiles(ctx, client, plans, since, path.resolve(params.dir));
        await client.query('COMMIT');
        clean = true;
        return result;
      } catch (err) {
        if (ctx.signal.aborted) throw new ActionError('rollback.cancelled', `the export was cancelled (${abortReason(ctx.signal)})`, { cause: err });
        throw err;
      } finally {
        client.release(!clean);
      }
    },
  };
}

async function planTable(db: Queryable, spec: ExportTableSpec): Promise<Plan> {
  const shape = await describeTable(db, spec.table);
  const names = new Set(shape.columns.map((c) => c.name));
  for (const col of [spec.changed_column, ...spec.key]) {
    if (!names.has(col)) throw new ActionError('rollback.no_column', `${spec.table} has no column "${col}"`);
  }
  const dot = spec.table.indexOf('.');
  const from = `${quoteIdent(spec.table.slice(0, dot))}.${quoteIdent(spec.table.slice(dot + 1))}`;
  const query = `SELECT ${shape.selectList} FROM ${from} WHERE ${quoteIdent(spec.changed_column)} >= $1::timestamptz ORDER BY ${spec.key.map(quoteIdent).join(', ')}`;
  const tsql: TsqlTable = {
    name: spec.source_table ?? `dbo.${spec.table.slice(dot + 1)}`,
    columns: shape.columns,
    key: spec.key,
    identity: spec.identity ?? shape.hasIdentity,
  };
  return { spec, shape, tsql, query };
}

async function countOnly(db: Queryable, plans: Plan[], since: string): Promise<ActionResult> {
  const counts: Record<string, number> = {};
  for (const p of plans) {
    const { rows } = await db.query<{ n: string }>(`SELECT count(*) AS n FROM (${p.query}) q`, [since]);
    counts[p.spec.table] = Number(rows[0]?.n ?? 0);
  }
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  return { summary: `dry run: ${total} rows in ${plans.length} tables since ${since} would be exported (nothing written)`, details: { since, counts, dryRun: true } };
}

async function writeFiles(ctx: ActionContext, db: Queryable, plans: Plan[], since: string, dir: string): Promise<ActionResult> {
  await mkdir(dir, { recursive: true });
  const counts: Record<string, number> = {};
  const rowsOf = (p: Plan, cursor: string) => cursorRows(db, cursor, p.query, [since], ctx.signal);
  async function* tsqlChunks(): AsyncGenerator<string> {
    yield tsqlHeader({ runId: ctx.runId, since, tables: plans.map((p) => p.spec.table) });
    for (const p of plans) {
      let n = 0;
      yield tsqlTableStart(p.tsql, p.spec.table);
      for await (const row of rowsOf(p, 'rollback_tsql')) {
        n++;
        yield tsqlUpsert(p.tsql, row);
      }
      yield tsqlTableEnd(p.tsql, n);
      counts[p.spec.table] = n;
      ctx.progress(`${p.spec.table}: ${n} rows since go-live`);
    }
    yield tsqlFooter();
  }
  const files = [{ file: await writeAtomically(path.join(dir, TSQL_FILE), tsqlChunks()), table: null as string | null }];
  for (const p of plans) {
    async function* csvChunks(): AsyncGenerator<string> {
      yield csvLine(p.shape.columns.map((c) => c.name));
      for await (const row of rowsOf(p, 'rollback_csv')) yield csvLine(row);
    }
    files.push({ file: await writeAtomically(path.join(dir, csvFileOf(p.spec.table)), csvChunks()), table: p.spec.table });
  }
  const hashed = await Promise.all(files.map(async (f) => ({ ...f, sha256: await sha256File(f.file) })));
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  return {
    summary: `${total} rows in ${plans.length} tables since ${since}: files ${hashed.map((f) => path.basename(f.file)).join(', ')} in ${dir} — review, then run the .sql on SQL Server`,
    details: { since, counts, files: hashed },
  };
}

/** Streams chunks to file.partial and renames it, so a crash never leaves a file that looks complete. */
async function writeAtomically(file: string, chunks: AsyncIterable<string>): Promise<string> {
  const partial = `${file}.partial`;
  await pipeline(Readable.from(chunks), createWriteStream(partial));
  await rename(partial, file);
  return file;
}
