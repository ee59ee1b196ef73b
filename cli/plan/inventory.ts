import { resolve } from 'node:path';
import mssql from 'mssql';
import type { TableMapping } from '../../engine/etl/contracts.js';
import { mssqlConfigFromUrl, redactUrl } from '../../engine/connections.js';
import { introspect } from '../../engine/mssql/catalog.js';
import { convertSchema, type ConversionReport } from '../../engine/schema/convert.js';
import type { SchemaModel, TableModel } from '../../engine/schema/model.js';
import { SnapshotSource } from '../../engine/snapshot/reader.js';
import { CutoverError } from '../../runbook/errors.js';
import { estimatedRowBytes, MSSQL_SIZES_QUERY, sizesByTable } from './mssql-sizes.js';
import { snapshotTotals } from './snapshot-totals.js';

/** One table as the plan sizes it. */
export interface PlannedTable {
  mapping: TableMapping;
  /** Rows at the source (the snapshot's, or SQL Server's sys.partitions estimate). */
  rows: number;
  /** The snapshot's compressed bytes, or SQL Server's used pages; an estimate from the column types when neither is readable. */
  bytes: number;
  bytesEstimated: boolean;
}

type PlanSource =
  | { kind: 'snapshot'; dir: string; createdAt: string; quarantined: number }
  | { kind: 'mssql'; url: string };

/** What the source holds, converted as the runbook's steps will convert it. */
export interface Inventory {
  source: PlanSource;
  database: string;
  serverVersion: string | null;
  targetSchema: string;
  naming: 'lower' | 'exact';
  /** The source tables the runbook moves, when not all of the catalog's (conversion option `tables`). */
  selection: string[] | null;
  tables: PlannedTable[];
  report: ConversionReport;
  /** Snapshot only: the exact sum of each money/decimal column, by source `schema.table.column`. */
  totals: Map<string, string | null> | null;
  /** Said once in the plan's header: what planning could not do exactly (an estimate, a fallback). */
  notes: string[];
}

interface InventoryOptions {
  /** --tables: source names, `Antrag` or `dbo.Antrag`. */
  tables: string[];
  /** --schema: the target schema (mssql; a snapshot fixes its own). */
  targetSchema: string | null;
  signal: AbortSignal;
}

/** --source is a snapshot directory unless it is a URL. */
export const isSourceUrl = (source: string): boolean => /^(mssql|sqlserver):\/\//i.test(source);

export async function inventory(source: string, cwd: string, opts: InventoryOptions): Promise<Inventory> {
  if (isSourceUrl(source)) return mssqlInventory(source, opts);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(source)) {
    throw new CutoverError('plan.source_kind', `--source must be a SQL Server URL (mssql://…) or a snapshot directory, got ${redactUrl(source)}`);
  }
  return snapshotInventory(resolve(cwd, source), opts);
}

async function snapshotInventory(dir: string, opts: InventoryOptions): Promise<Inventory> {
  const snapshot = await SnapshotSource.open(dir);
  const { manifest } = snapshot;
  const written = snapshot.tables();
  const first = written[0];
  if (!first) throw new CutoverError('plan.empty_snapshot', `the snapshot in ${dir} holds no tables`);
  const targetSchema = first.target.schema;
  if (opts.targetSchema !== null && opts.targetSchema !== targetSchema) {
    throw new CutoverError('plan.schema_mismatch', `--schema ${opts.targetSchema}: the snapshot was extracted for schema ${targetSchema}, and its load can only go there`);
  }
  const extracted = written.length === manifest.schema.tables.length ? null : written.map((t) => `${t.source.schema}.${t.source.name}`);
  const notes: string[] = [];
  const naming = namingOf(manifest.schema, written, targetSchema, extracted, notes);
  const missing = opts.tables.filter((name) => !written.some((t) => matches(t, [name])));
  if (missing.length > 0) throw new CutoverError('plan.unknown_tables', `--tables: the snapshot holds no table ${missing.join(', ')}`);
  const selection = opts.tables.length > 0 ? opts.tables : extracted;
  const { report } = convertSchema(manifest.schema, { targetSchema, naming, ...(selection ? { tables: selection } : {}) });
  if (report.errors.length > 0) throw conversionErrors(report);
  const chosen = selection === null ? written : written.filter((t) => matches(t, selection));
  const tables = chosen.map((mapping): PlannedTable => {
    const entry = manifest.tables.find((t) => t.mapping === mapping);
    return { mapping, rows: entry?.sourceRows ?? mapping.rowCount, bytes: entry?.chunks.reduce((n, c) => n + c.bytes, 0) ?? 0, bytesEstimated: false };
  });
  const quarantined = manifest.tables.filter((t) => chosen.includes(t.mapping)).reduce((n, t) => n + t.quarantined, 0);
  return {
    source: { kind: 'snapshot', dir, createdAt: manifest.createdAt, quarantined },
    database: manifest.sourceDatabase,
    serverVersion: manifest.schema.serverVersion,
    targetSchema,
    naming,
    selection,
    tables,
    report,
    totals: await snapshotTotals(snapshot, chosen, opts.signal),
    notes,
  };
}

const matches = (t: TableMapping, names: string[]): boolean =>
  names.some((n) => [`${t.source.schema}.${t.source.name}`, t.source.name].some((x) => x.toLowerCase() === n.toLowerCase()));

/**
 * The naming the extract used, found by converting the snapshot's catalog both
 * ways: the runbook's schema and validation steps recompute the mapping and
 * must arrive at the snapshot's names.
 */
function namingOf(model: SchemaModel, written: TableMapping[], targetSchema: string, tables: string[] | null, notes: string[]): 'lower' | 'exact' {
  const names = (ms: TableMapping[]) => JSON.stringify(ms.map((m) => [m.target.name, m.columns.map((c) => c.target)]));
  const types = (ms: TableMapping[]) => JSON.stringify(ms.map((m) => m.columns.map((c) => c.targetType)));
  for (const naming of ['lower', 'exact'] as const) {
    const conversion = convertSchema(model, { targetSchema, naming, ...(tables ? { tables } : {}) });
    if (names(conversion.mappings) !== names(written)) continue;
    if (types(conversion.mappings) !== types(written)) {
      notes.push('the snapshot holds column types the default conversion does not give: the extract used overrides; copy them into x-conversion.overrides');
    }
    return naming;
  }
  throw new CutoverError(
    'plan.snapshot_naming',
    'the snapshot was extracted with a rename map (naming: { tables, columns }); plan can only reproduce naming lower or exact — write the runbook from a plan of the live source instead',
  );
}

const conversionErrors = (report: ConversionReport): CutoverError =>
  new CutoverError(
    'plan.conversion_errors',
    `the schema does not convert: ${report.errors.slice(0, 3).map((e) => `${e.table}: ${e.message}`).join('; ')}${report.errors.length > 3 ? ` (and ${report.errors.length - 3} more)` : ''}`,
  );

async function mssqlInventory(url: string, opts: InventoryOptions): Promise<Inventory> {
  const pool = new mssql.ConnectionPool(mssqlConfigFromUrl(url));
  pool.on('error', () => {}); // failures reach us through the awaited calls
  try {
    await pool.connect().catch((err: unknown) => {
      throw new CutoverError('plan.source_unreachable', `cannot connect to ${redactUrl(url)}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    });
    const model = await introspect(pool);
    const targetSchema = opts.targetSchema ?? 'public';
    const selection = opts.tables.length > 0 ? opts.tables : null;
    const conversion = convertSchema(model, { targetSchema, naming: 'lower', ...(selection ? { tables: selection } : {}) });
    if (conversion.report.errors.length > 0) throw conversionErrors(conversion.report);
    if (conversion.mappings.length === 0) throw new CutoverError('plan.no_tables', `database ${model.database} on ${redactUrl(url)} has no tables to migrate`);
    const notes: string[] = [];
    const sizes = await readSizes(pool, notes);
    const tables = conversion.mappings.map((mapping): PlannedTable => {
      const table = tableOf(model, mapping);
      const measured = sizes?.get(`${mapping.source.schema}.${mapping.source.name}`.toLowerCase());
      const rows = mapping.rowCount;
      return measured !== undefined
        ? { mapping, rows, bytes: measured, bytesEstimated: false }
        : { mapping, rows, bytes: rows * estimatedRowBytes(table?.columns ?? []), bytesEstimated: true };
    });
    if (tables.some((t) => t.rows === 0)) notes.push('SQL Server reports 0 rows for some tables (sys.partitions is an estimate; exact after a quiesced source): their durations are the minimum');
    return { source: { kind: 'mssql', url }, database: model.database, serverVersion: model.serverVersion, targetSchema, naming: 'lower', selection, tables, report: conversion.report, totals: null, notes };
  } finally {
    await pool.close().catch(() => undefined);
  }
}

const tableOf = (model: SchemaModel, m: TableMapping): TableModel | undefined =>
  model.tables.find((t) => t.schema === m.source.schema && t.name === m.source.name);

async function readSizes(pool: mssql.ConnectionPool, notes: string[]): Promise<Map<string, number> | null> {
  try {
    const request = pool.request();
    request.stream = false;
    return sizesByTable((await request.query(MSSQL_SIZES_QUERY)).recordset ?? []);
  } catch (err) {
    notes.push(`table sizes are estimated from the column types: SQL Server did not show its allocation units (${err instanceof Error ? err.message : String(err)})`);
    return null;
  }
}
