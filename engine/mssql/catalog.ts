import type mssql from 'mssql';
import type { z } from 'zod';
import { CutoverError } from '../../runbook/errors.js';
import type {
  CheckModel,
  ColumnModel,
  ForeignKeyModel,
  IndexModel,
  KeyModel,
  OtherObjectModel,
  SchemaModel,
  TableModel,
} from '../schema/model.js';
import * as q from './catalog-queries.js';
import {
  catalogRows,
  type CatalogRows,
  type CatalogRowsInput,
  type ColumnRow,
  type ForeignKeyColumnRow,
  type IndexColumnRow,
} from './catalog-rows.js';

/** Reads the catalog of the pool's database into the neutral schema model. */
export async function introspect(pool: Pick<mssql.ConnectionPool, 'request'>): Promise<SchemaModel> {
  const read = async (name: string, text: string): Promise<unknown[]> => {
    try {
      const request = pool.request();
      request.stream = false; // a pool configured with stream: true would resolve with no recordset
      return (await request.query(text)).recordset ?? [];
    } catch (err) {
      throw new CutoverError('mssql.catalog_failed', `reading the SQL Server catalog (${name}) failed: ${messageOf(err)}`, { cause: err });
    }
  };
  const [database] = await read('database', q.DATABASE_QUERY);
  const columns = await read('columns', q.COLUMNS_QUERY);
  const anyComputed = columns.some((c) => field(c, 'is_computed') === true || field(c, 'is_computed') === 1);
  const raw = {
    database,
    tables: await read('tables', q.TABLES_QUERY),
    columns,
    computedColumns: anyComputed ? await read('computed columns', q.COMPUTED_COLUMNS_QUERY) : [],
    indexColumns: await read('indexes', q.INDEX_COLUMNS_QUERY),
    foreignKeyColumns: await read('foreign keys', q.FOREIGN_KEY_COLUMNS_QUERY),
    checks: await read('check constraints', q.CHECKS_QUERY),
    others: await read('other objects', q.OTHERS_QUERY),
  };
  const parsed = catalogRows.safeParse(raw);
  if (!parsed.success) throw unexpectedRows(parsed.error);
  return toModel(parsed.data);
}

/** The pure half of introspect: raw catalog rows (as the server returns them) to the model. */
export function catalogRowsToModel(rows: CatalogRowsInput): SchemaModel {
  const parsed = catalogRows.safeParse(rows);
  if (!parsed.success) throw unexpectedRows(parsed.error);
  return toModel(parsed.data);
}

function toModel(rows: CatalogRows): SchemaModel {
  const columns = groupBy(rows.columns, (r) => r.object_id);
  const indexes = groupBy(rows.indexColumns, (r) => r.object_id);
  const fks = groupBy(rows.foreignKeyColumns, (r) => r.parent_object_id);
  const checks = groupBy(rows.checks, (r) => r.parent_object_id);
  const computed = new Map(rows.computedColumns.map((c) => [`${c.object_id}:${c.column_id}`, c]));
  const toColumn = (r: ColumnRow, index: number): ColumnModel => {
    if (!r.is_computed) return columnModel(r, index, null);
    const c = computed.get(`${r.object_id}:${r.column_id}`);
    if (!c) throw new CutoverError('mssql.catalog_unexpected', `the SQL Server catalog gave no definition for computed column ${r.column_name}`);
    return columnModel(r, index, { definition: c.definition, persisted: c.is_persisted });
  };
  const tables = rows.tables.map((t): TableModel => {
    const keys = toKeys(indexes.get(t.object_id) ?? []);
    return {
      schema: t.schema_name,
      name: t.table_name,
      columns: (columns.get(t.object_id) ?? []).sort((a, b) => a.column_id - b.column_id).map(toColumn),
      ...keys,
      foreignKeys: toForeignKeys(fks.get(t.object_id) ?? []),
      checks: (checks.get(t.object_id) ?? []).map((c): CheckModel => ({ name: c.check_name, definition: c.definition, column: c.column_name })),
      rowCount: t.row_count,
    };
  });
  return {
    sourceKind: 'mssql',
    database: rows.database.database_name,
    serverVersion: rows.database.server_version,
    collation: rows.database.collation_name,
    tables,
    others: rows.others.map(toOther),
  };
}

/** Lengths as sys.columns holds them: characters of single-byte text, bytes of binary (rowversion is binary(8)). */
const SIZED_TYPES = new Set(['char', 'varchar', 'binary', 'varbinary', 'rowversion']);
const NCHAR_TYPES = new Set(['nchar', 'nvarchar']);
const LOB_TYPES = new Set(['text', 'ntext', 'image']);
/** Types whose precision/scale mean something to conversion: exact and approximate numerics, dates and times (scale = fractional digits). */
const SCALED_TYPES = new Set([
  'decimal', 'numeric', 'money', 'smallmoney', 'float', 'real',
  'date', 'time', 'datetime', 'datetime2', 'smalldatetime', 'datetimeoffset',
]);

function columnModel(r: ColumnRow, index: number, computed: ColumnModel['computed']): ColumnModel {
  // 'timestamp' is SQL Server's old name for rowversion; it is no point in time, and the name would mislead the mapping.
  const type = r.type_name.toLowerCase() === 'timestamp' ? 'rowversion' : r.type_name.toLowerCase();
  let maxLength: number | null = null;
  if (SIZED_TYPES.has(type)) maxLength = r.max_length;
  else if (NCHAR_TYPES.has(type)) maxLength = r.max_length === -1 ? -1 : r.max_length / 2; // sys.columns counts bytes of UTF-16
  else if (LOB_TYPES.has(type)) maxLength = -1;
  const scaled = SCALED_TYPES.has(type);
  return {
    name: r.column_name,
    // Position, not column_id: column_id keeps gaps where columns were dropped.
    ordinal: index + 1,
    type,
    maxLength,
    precision: scaled ? r.precision : null,
    scale: scaled && type !== 'float' && type !== 'real' ? r.scale : null,
    nullable: r.is_nullable,
    identity: r.is_identity ? { seed: r.identity_seed ?? '1', increment: r.identity_increment ?? '1' } : null,
    defaultExpression: r.default_definition,
    computed,
    collation: r.collation_name,
    isRowVersion: type === 'rowversion',
  };
}

function toKeys(rows: IndexColumnRow[]): Pick<TableModel, 'primaryKey' | 'uniques' | 'indexes'> {
  let primaryKey: KeyModel | null = null;
  const uniques: KeyModel[] = [];
  const indexes: IndexModel[] = [];
  for (const cols of groupBy(rows, (r) => r.index_id).values()) {
    const [head] = cols;
    if (!head) continue;
    const keyCols = cols.filter((c) => !c.is_included_column && c.key_ordinal > 0).sort((a, b) => a.key_ordinal - b.key_ordinal);
    const include = cols.filter((c) => c.is_included_column).sort((a, b) => a.index_column_id - b.index_column_id);
    const key: KeyModel = { name: head.index_name, columns: keyCols.map((c) => c.column_name) };
    if (head.is_primary_key) primaryKey = key;
    else if (head.is_unique_constraint) uniques.push(key);
    else {
      indexes.push({
        name: head.index_name,
        columns: keyCols.map((c) => ({ name: c.column_name, descending: c.is_descending_key })),
        include: include.map((c) => c.column_name),
        unique: head.is_unique,
        where: head.filter_definition,
      });
    }
  }
  return { primaryKey, uniques, indexes };
}

function toForeignKeys(rows: ForeignKeyColumnRow[]): ForeignKeyModel[] {
  return [...groupBy(rows, (r) => r.object_id).values()].flatMap((cols): ForeignKeyModel[] => {
    const sorted = [...cols].sort((a, b) => a.constraint_column_id - b.constraint_column_id);
    const [head] = sorted;
    if (!head) return [];
    return [
      {
        name: head.fk_name,
        columns: sorted.map((c) => c.column_name),
        refSchema: head.ref_schema,
        refTable: head.ref_table,
        refColumns: sorted.map((c) => c.ref_column_name),
        onDelete: head.delete_referential_action_desc,
        onUpdate: head.update_referential_action_desc,
        trusted: !head.is_not_trusted && !head.is_disabled,
      },
    ];
  });
}

const OTHER_KINDS: Record<string, OtherObjectModel['kind']> = {
  V: 'view',
  P: 'procedure', PC: 'procedure', X: 'procedure', RF: 'procedure',
  FN: 'function', IF: 'function', TF: 'function', FS: 'function', FT: 'function', AF: 'function',
  TR: 'trigger', TA: 'trigger',
  SO: 'sequence',
  SN: 'synonym',
  TY: 'type',
};

function toOther(r: CatalogRows['others'][number]): OtherObjectModel {
  const kind = OTHER_KINDS[r.object_type.trim().toUpperCase()];
  if (!kind) throw new CutoverError('mssql.catalog_unexpected', `the SQL Server catalog listed ${r.schema_name}.${r.object_name} with unknown object type "${r.object_type}"`);
  return { schema: r.schema_name, name: r.object_name, kind, parent: kind === 'trigger' ? r.parent_name : null };
}

function groupBy<T, K>(items: T[], keyOf: (item: T) => K): Map<K, T[]> {
  const out = new Map<K, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const list = out.get(key);
    if (list) list.push(item);
    else out.set(key, [item]);
  }
  return out;
}

function unexpectedRows(error: z.ZodError): CutoverError {
  const issue = error.issues[0];
  const where = issue ? `${issue.path.join('.')}: ${issue.message}` : error.message;
  return new CutoverError('mssql.catalog_unexpected', `the SQL Server catalog returned a row this version of cutover cannot read (${where})`, { cause: error });
}

function field(row: unknown, name: string): unknown {
  return typeof row === 'object' && row !== null ? Reflect.get(row, name) : undefined;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
