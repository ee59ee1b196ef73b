import type { ExportTableSpec } from '../../runbook/actions/rollback-export-since-golive.js';
import { CutoverError } from '../../runbook/errors.js';
import type { TableMapping } from '../etl/contracts.js';
import type { SchemaModel, TableModel } from '../schema/model.js';
import { quoteIdent, quoteLiteral } from '../schema/naming.js';
import type { TimezoneRule } from '../schema/type-map.js';
import { replayColumn, UNWRITABLE_TYPES, type ReplayColumn } from './replay-values.js';

/**
 * Pure: which source table and columns each exported target table goes back
 * to, read from the same conversion the load used (the ETL's TableMappings
 * for 1:1 tables, the step's explicit `columns` for tables a transform built),
 * and the order the replay touches them in.
 */
export interface ReplayTable {
  /** schema.table at the source, e.g. dbo.Antrag. */
  source: string;
  /** schema.table on the target, as the runbook names it. */
  target: string;
  /** Source columns written, in order. */
  columns: ReplayColumn[];
  /** Per column, the PostgreSQL expression over the target row `t` that gives its value. */
  selects: string[];
  /** Source key columns (the primary key), each one of `columns`. */
  key: string[];
  /** The source's IDENTITY column when the replay writes it (SET IDENTITY_INSERT around it). */
  identity: string | null;
  changedColumn: string;
  sameRowCount: boolean;
  /** Source tables this one references through a foreign key (itself left out). */
  parents: string[];
}

const lower = (s: string): string => s.toLowerCase();
const qualified = (t: { schema: string; name: string }): string => `${t.schema}.${t.name}`;
const DATETIME_SOURCE = new Set(['datetime', 'smalldatetime', 'datetime2']);

export function planReplay(model: SchemaModel, mappings: TableMapping[], specs: readonly ExportTableSpec[], timezone: TimezoneRule): ReplayTable[] {
  const tables = specs.map((spec) => (spec.columns ? explicitTable(model, spec, spec.columns) : convertedTable(model, mappings, spec, timezone)));
  const seen = new Map<string, string>();
  for (const t of tables) {
    const other = seen.get(lower(t.source));
    if (other) throw new CutoverError('rollback.source_twice', `${other} and ${t.target} both go back to ${t.source}; export each source table once`);
    seen.set(lower(t.source), t.target);
  }
  return dependencyOrder(tables);
}

function findSourceTable(model: SchemaModel, name: string, target: string): TableModel {
  const found = model.tables.find((t) => lower(qualified(t)) === lower(name));
  if (!found) throw new CutoverError('rollback.no_source_table', `${target} goes back to ${name}, which is not in the source catalog the load converted`);
  return found;
}

function convertedTable(model: SchemaModel, mappings: TableMapping[], spec: ExportTableSpec, timezone: TimezoneRule): ReplayTable {
  const m = mappings.find((x) => qualified(x.target) === spec.table);
  if (!m) {
    throw new CutoverError(
      'rollback.not_converted',
      `${spec.table} is not a table the conversion made (it makes ${mappings.slice(0, 3).map((x) => qualified(x.target)).join(', ')}${mappings.length > 3 ? ', …' : ''}); a table built by a transform needs source_table and columns`,
    );
  }
  const table = findSourceTable(model, spec.source_table ?? qualified(m.source), spec.table);
  const byName = new Map(table.columns.map((c) => [lower(c.name), c]));
  const picked = m.columns.filter((c) => !UNWRITABLE_TYPES.has(lower(c.sourceType)));
  const columns = picked.map((c) => replayColumn(byName.get(lower(c.source)) ?? missing(table, c.source), `${qualified(table)}.${c.source}`));
  const selects = picked.map((c) => {
    const col = `t.${quoteIdent(c.target)}`;
    // A wall-clock datetime the load read as an instant in the runbook's zone goes back as that zone's wall-clock.
    if (typeof timezone === 'object' && c.kind === 'timestamp' && DATETIME_SOURCE.has(lower(c.sourceType)) && /timestamptz|with time zone/.test(c.targetType)) {
      return `(${col} AT TIME ZONE ${quoteLiteral(timezone.zone)})`;
    }
    return col;
  });
  return finish(table, spec, columns, selects);
}

function explicitTable(model: SchemaModel, spec: ExportTableSpec, mapping: NonNullable<ExportTableSpec['columns']>): ReplayTable {
  const table = findSourceTable(model, spec.source_table ?? '', spec.table);
  const columns: ReplayColumn[] = [];
  const selects: string[] = [];
  for (const [name, from] of Object.entries(mapping)) {
    const c = table.columns.find((x) => lower(x.name) === lower(name)) ?? missing(table, name);
    if (c.computed || c.isRowVersion || UNWRITABLE_TYPES.has(lower(c.type))) {
      throw new CutoverError('rollback.unwritable_column', `${qualified(table)}.${c.name} is ${c.computed ? 'computed' : 'a rowversion'}: SQL Server fills it, so it cannot be in ${spec.table}'s columns`);
    }
    columns.push(replayColumn(c, `${qualified(table)}.${c.name}`));
    selects.push(typeof from === 'string' ? `t.${quoteIdent(from)}` : `(${from.sql})`);
  }
  return finish(table, spec, columns, selects);
}

function missing(table: TableModel, column: string): never {
  throw new CutoverError('rollback.no_source_column', `${qualified(table)} has no column "${column}"`);
}

function finish(table: TableModel, spec: ExportTableSpec, columns: ReplayColumn[], selects: string[]): ReplayTable {
  const keyCols = table.primaryKey?.columns ?? table.uniques[0]?.columns;
  if (!keyCols) throw new CutoverError('rollback.no_key', `${qualified(table)} has no primary key: the replay could not find its rows again`);
  const key = keyCols.map((k) => {
    const c = columns.find((x) => lower(x.name) === lower(k));
    if (!c) throw new CutoverError('rollback.key_unmapped', `${spec.table}: the key column ${qualified(table)}.${k} is not among the columns written back; map it`);
    return c.name;
  });
  const identity = table.columns.find((c) => c.identity && columns.some((x) => x.name === c.name))?.name ?? null;
  const parents = [...new Set(table.foreignKeys.map((f) => `${f.refSchema}.${f.refTable}`))].filter((p) => lower(p) !== lower(qualified(table)));
  return { source: qualified(table), target: spec.table, columns, selects, key, identity, changedColumn: spec.changed_column, sameRowCount: spec.same_row_count, parents };
}

/**
 * Parents before children (upserts run in this order, deletes in reverse).
 * Stable: tables with no order between them keep the runbook's order. A
 * cycle of foreign keys keeps the runbook's order for the tables in it.
 */
export function dependencyOrder(tables: ReplayTable[]): ReplayTable[] {
  const names = new Set(tables.map((t) => lower(t.source)));
  const done = new Set<string>();
  const out: ReplayTable[] = [];
  const pending = [...tables];
  while (pending.length > 0) {
    const ready = pending.findIndex((t) => t.parents.every((p) => !names.has(lower(p)) || done.has(lower(p))));
    const [next] = pending.splice(ready < 0 ? 0 : ready, 1);
    if (!next) break;
    done.add(lower(next.source));
    out.push(next);
  }
  return out;
}
