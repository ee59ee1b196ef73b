import { mkdir, rename } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ExportSinceGoliveParams } from '../../runbook/actions/rollback-export-since-golive.js';
import { ActionError, abortReason, type ActionContext, type ActionImpl, type ActionResult } from '../action.js';
import { checkout, quoteIdent, type Queryable } from '../etl/checkpoints.js';
import { csvLine } from '../rollback/csv-writer.js';
import { sha256File } from '../backup/pg-tools.js';
import { cursorRows } from '../rollback/pg-rows.js';
import { planReplay, type ReplayTable } from '../rollback/export-plan.js';
import { BATCH_ROWS, tsqlDialect, type ReplayDialect, type Row, type TableFigures } from '../rollback/replay-script.js';
import { TOMBSTONE_TABLE, trackedTables } from '../rollback/tombstones.js';
import type { SchemaModel } from '../schema/model.js';
import { SnapshotSource } from '../snapshot/reader.js';
import { mappingsOf } from './validate-sources.js';
import { openMssqlSource } from './etl-sources.js';

/** Reads the source catalog the load converted: the snapshot's manifest, or the live SQL Server. */
export type SourceModelReader = (ctx: ActionContext, params: ExportSinceGoliveParams) => Promise<SchemaModel>;

export const readSourceModel: SourceModelReader = async (ctx, params) => {
  if (params.snapshot !== undefined) return (await SnapshotSource.open(params.snapshot)).introspect();
  const source = await openMssqlSource(ctx, params.source ?? '');
  try {
    return await source.introspect();
  } finally {
    await source.close();
  }
};

export interface ExportDeps {
  /** The run's recorded go-live time (ISO), used when the runbook gives no `since`. */
  goLiveAt?: (ctx: ActionContext) => Promise<string | undefined>;
  sourceModel?: SourceModelReader;
  /** T-SQL for SQL Server; the tests also write the PostgreSQL form to execute it. */
  dialect?: ReplayDialect;
}

export const TSQL_FILE = tsqlDialect.file;
export const csvFileOf = (table: string): string => `${table.replace(/[^\w.-]/g, '_')}.csv`;

interface Plan {
  table: ReplayTable;
  upserts: string;
  deletes: string;
}

/**
 * rollback.export_since_golive: the rows the application wrote in PostgreSQL
 * since go-live, mapped back to the source's tables and columns through the
 * conversion the load used, as one replay script (upserts parents first,
 * deletes children first, every count checked before COMMIT) and a CSV per
 * table of what it upserts. Deletions come from the tombstones the switch
 * started keeping (engine/rollback/tombstones.ts). Reads one REPEATABLE READ
 * snapshot, so the header's counts, the script and the CSVs agree.
 */
export function rollbackExportAction(deps: ExportDeps = {}): ActionImpl<ExportSinceGoliveParams> {
  const dialect = deps.dialect ?? tsqlDialect;
  return {
    id: 'rollback.export_since_golive',
    async run(ctx, params) {
      const since = params.since ?? (await deps.goLiveAt?.(ctx));
      if (!since) throw new ActionError('rollback.no_golive', 'no go-live time: the runbook gives no "since" and the run has recorded no switch');
      const model = await (deps.sourceModel ?? readSourceModel)(ctx, params);
      const tables = planReplay(model, mappingsOf(model, { ...params, tables: undefined }), params.tables, params.timezone);
      const client = await checkout(ctx.connections.postgres(params.target));
      let clean = false;
      try {
        await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET LOCAL TimeZone = 'UTC'; SET LOCAL DateStyle = 'ISO, YMD'; SET LOCAL bytea_output = 'hex'; SET LOCAL extra_float_digits = 1");
        const from = await trackedSince(client, ctx.runId, tables, since);
        const plans = tables.map(queries);
        const figures: TableFigures[] = [];
        for (const p of plans) figures.push(await figuresOf(client, p, from)); // one client: one query at a time
        const result = ctx.dryRun ? dryRun(figures, from) : await writeFiles(ctx, client, plans, figures, from, path.resolve(params.dir), dialect);
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

/**
 * Without the switch's tombstones the export would silently leave out every
 * deletion: it refuses instead. Returns the time rows are exported from: the
 * go-live time, or the start of the transaction that began tracking when that
 * is earlier (the switch takes its go-live time just after the flip commits,
 * and a row the application wrote in between must not be missed).
 */
async function trackedSince(db: Queryable, runId: string, tables: ReplayTable[], since: string): Promise<string> {
  const tracked = await trackedTables(db);
  let from = since;
  for (const t of tables) {
    const by = tracked.get(t.target);
    if (by?.runId !== runId) {
      const why = by ? `its deletions are tracked since the switch of run ${by.runId}, not of this run` : 'its deletions are not tracked';
      throw new ActionError('rollback.untracked', `${t.target}: ${why}, so rows deleted since go-live cannot be exported; list it in the switch step's track_deletes.tables`);
    }
    if (Date.parse(by.installedAt) < Date.parse(from)) from = by.installedAt;
  }
  return from;
}

const splitName = (qualified: string): string => {
  const dot = qualified.indexOf('.');
  return `${quoteIdent(qualified.slice(0, dot))}.${quoteIdent(qualified.slice(dot + 1))}`;
};

function queries(table: ReplayTable): Plan {
  const list = table.selects.map((s, i) => `(${s})::text AS c${i}`).join(', ');
  const keyOrder = table.key.map((k) => `${table.columns.findIndex((c) => c.name === k) + 1}`).join(', ');
  const keyList = table.key.map((k) => `(${table.selects[table.columns.findIndex((c) => c.name === k)]})::text`);
  const from = splitName(table.target);
  return {
    table,
    upserts: `SELECT ${list} FROM ${from} AS t WHERE t.${quoteIdent(table.changedColumn)} >= $1::timestamptz ORDER BY ${keyOrder}`,
    // The deleted row comes back from its jsonb as a row of the table, so the mapping's expressions apply to it
    // unchanged. A source key some row still has (deleted and inserted again under another target key) is no delete.
    deletes: `SELECT * FROM (
      SELECT ${keyList.map((k, i) => `${k} AS k${i}`).join(', ')} FROM ${TOMBSTONE_TABLE} AS d CROSS JOIN LATERAL jsonb_populate_record(NULL::${from}, d.old_row) AS t
      WHERE d.table_name = $1 AND d.gone AND NOT d.born_after_golive
      EXCEPT SELECT ${keyList.join(', ')} FROM ${from} AS t) AS gone ORDER BY ${keyList.map((_, i) => i + 1).join(', ')}`,
  };
}

async function figuresOf(db: Queryable, p: Plan, since: string): Promise<TableFigures> {
  const idKey = p.table.identity !== null && p.table.key.includes(p.table.identity) ? p.table.columns.findIndex((c) => c.name === p.table.identity) : -1;
  const fresh = idKey >= 0 ? `count(*) FILTER (WHERE c${idKey} IS NULL)` : '0';
  const up = await db.query<{ n: string; fresh: string }>(`SELECT count(*) AS n, ${fresh} AS fresh FROM (${p.upserts}) q`, [since]);
  const del = await db.query<{ n: string }>(`SELECT count(*) AS n FROM (${p.deletes}) q`, [p.table.target]);
  const all = await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${splitName(p.table.target)}`);
  return { table: p.table, upserts: Number(up.rows[0]?.n ?? 0), fresh: Number(up.rows[0]?.fresh ?? 0), deletes: Number(del.rows[0]?.n ?? 0), rowsAfter: Number(all.rows[0]?.n ?? 0) };
}

/** Per target table what the script does; `rowsAfter` is what rollback.verify_source (export_step) compares when `checked`. */
const countsOf = (figures: TableFigures[]) =>
  Object.fromEntries(
    figures.map((f) => [f.table.target, { source: f.table.source, upserts: f.upserts, deletes: f.deletes, rowsAfter: f.rowsAfter, checked: f.table.sameRowCount }]),
  );

function dryRun(figures: TableFigures[], since: string): ActionResult {
  const total = figures.reduce((n, f) => n + f.upserts + f.deletes, 0);
  return { summary: `dry run: ${total} rows in ${figures.length} tables since ${since} would be replayed (nothing written)`, details: { since, counts: countsOf(figures), dryRun: true } };
}

/** The key is NULL only for rows created after go-live in a table whose key is the source's IDENTITY: the source numbers them. */
const isFresh = (t: ReplayTable, row: Row): boolean => t.identity !== null && t.key.includes(t.identity) && row[t.columns.findIndex((c) => c.name === t.identity)] === null;

async function* batches(rows: AsyncIterable<Row>): AsyncGenerator<Row[]> {
  let batch: Row[] = [];
  for await (const row of rows) {
    batch.push(row);
    if (batch.length >= BATCH_ROWS) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

async function writeFiles(ctx: ActionContext, db: Queryable, plans: Plan[], figures: TableFigures[], since: string, dir: string, dialect: ReplayDialect): Promise<ActionResult> {
  await mkdir(dir, { recursive: true });
  const info = { runId: ctx.runId, since, figures };
  const upsertRows = (p: Plan, cursor: string) => cursorRows(db, cursor, p.upserts, [since], ctx.signal);
  async function* script(): AsyncGenerator<string> {
    yield dialect.header(info);
    for (const p of plans) {
      const t = p.table;
      yield `\n-- ${t.source} ← PostgreSQL ${t.target}: upserts\n`;
      const fresh: Row[] = [];
      if (t.identity) yield dialect.identity(t, true);
      for await (const batch of batches(upsertRows(p, 'replay_upserts'))) {
        const keyed = batch.filter((r) => !isFresh(t, r));
        fresh.push(...batch.filter((r) => isFresh(t, r)));
        if (keyed.length > 0) yield dialect.upsert(t, keyed);
      }
      if (t.identity) yield dialect.identity(t, false);
      for (let i = 0; i < fresh.length; i += BATCH_ROWS) yield dialect.insertFresh(t, fresh.slice(i, i + BATCH_ROWS));
      ctx.progress(`${t.target} → ${t.source}: upserts written`);
    }
    for (const p of [...plans].reverse()) {
      yield `\n-- ${p.table.source} ← PostgreSQL ${p.table.target}: deletes\n`;
      for await (const batch of batches(cursorRows(db, 'replay_deletes', p.deletes, [p.table.target], ctx.signal))) yield dialect.remove(p.table, batch);
    }
    yield `\n${dialect.footer(info)}`;
  }
  const files = [{ file: await writeAtomically(path.join(dir, dialect.file), script()), table: null as string | null }];
  for (const p of plans) {
    async function* csvChunks(): AsyncGenerator<string> {
      yield csvLine(p.table.columns.map((c) => c.name));
      for await (const row of upsertRows(p, 'replay_csv')) yield csvLine(row);
    }
    files.push({ file: await writeAtomically(path.join(dir, csvFileOf(p.table.source)), csvChunks()), table: p.table.source });
  }
  const hashed = await Promise.all(files.map(async (f) => ({ ...f, sha256: await sha256File(f.file) })));
  const upserts = figures.reduce((n, f) => n + f.upserts, 0);
  const deletes = figures.reduce((n, f) => n + f.deletes, 0);
  return {
    summary: `${upserts} upserts and ${deletes} deletes in ${plans.length} tables since ${since}, in dependency order: ${path.basename(dialect.file)} (one transaction, checked before COMMIT) and a CSV per table in ${dir} — review, then run it on the source`,
    details: { since, counts: countsOf(figures), order: plans.map((p) => p.table.source), files: hashed },
  };
}

/** Streams chunks to file.partial and renames it, so a crash never leaves a file that looks complete. */
async function writeAtomically(file: string, chunks: AsyncIterable<string>): Promise<string> {
  const partial = `${file}.partial`;
  await pipeline(Readable.from(chunks), createWriteStream(partial));
  await rename(partial, file);
  return file;
}
