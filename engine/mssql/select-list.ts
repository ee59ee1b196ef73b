import { CutoverError } from '../../runbook/errors.js';
import type { ChunkSpec, ColumnMapping, TableMapping, ValueKind } from '../etl/contracts.js';

/**
 * The SELECT the mssql adapter streams a chunk with. Every column is selected
 * in the form of its ValueKind (engine/etl/contracts.ts) so no value passes
 * through a JavaScript number or Date that cannot hold it: exact numerics and
 * date/time types travel as text made by SQL Server. Pure: no driver here.
 */

/**
 * A bound parameter of a query; values never enter the SQL text. binary8
 * carries a rowversion as a Buffer; datetime2 carries a style-121 text that the
 * adapter binds as a datetime2(7) value without losing its 100 ns digits;
 * nvarchar carries text such as a key's canonical form (SQL Server converts it
 * to the column's type where it is compared).
 */
export type SqlParam =
  | { name: string; type: 'bigint' | 'int'; value: string | number }
  | { name: string; type: 'binary8'; value: Buffer }
  | { name: string; type: 'datetime2'; value: string }
  | { name: string; type: 'nvarchar'; value: string };

export interface BoundSql {
  text: string;
  params: SqlParam[];
}

/** Bracket-quotes an identifier; `]` inside is doubled, as T-SQL requires. */
export function quoteIdent(name: string): string {
  return `[${name.replaceAll(']', ']]')}]`;
}

export function quoteTable(table: { schema: string; name: string }): string {
  return `${quoteIdent(table.schema)}.${quoteIdent(table.name)}`;
}

interface Form {
  kind: ValueKind;
  select: (col: string) => string;
}

const as = (kind: ValueKind, select: (col: string) => string): Form => ({ kind, select });
const plain = (kind: ValueKind): Form => as(kind, (c) => c);

// Every CONVERT names its length: varchar without one is varchar(30) and silently truncates.
const FORMS: Record<string, Form> = {
  tinyint: plain('int'),
  smallint: plain('int'),
  int: plain('int'),
  // tedious already returns bigint as a string; converting says so in the SQL rather than relying on it.
  bigint: as('exact', (c) => `CONVERT(varchar(20), ${c})`),
  decimal: as('exact', (c) => `CONVERT(varchar(50), ${c})`),
  numeric: as('exact', (c) => `CONVERT(varchar(50), ${c})`),
  // Through the decimal of the same range and scale: exact, all four decimals (the default money style rounds
  // to two). Style 2 would do on SQL Server, but Babelfish rounds it to two decimals and pads it.
  money: as('exact', (c) => `CONVERT(varchar(50), CONVERT(decimal(19,4), ${c}))`),
  smallmoney: as('exact', (c) => `CONVERT(varchar(50), CONVERT(decimal(10,4), ${c}))`),
  float: plain('float'),
  real: plain('float'),
  bit: plain('bool'),
  char: plain('text'),
  varchar: plain('text'),
  nchar: plain('text'),
  nvarchar: plain('text'),
  sysname: plain('text'),
  text: plain('text'),
  ntext: plain('text'),
  xml: as('text', (c) => `CONVERT(nvarchar(max), ${c})`),
  hierarchyid: as('text', (c) => `${c}.ToString()`),
  geography: as('text', (c) => `${c}.STAsText()`),
  geometry: as('text', (c) => `${c}.STAsText()`),
  sql_variant: as('text', (c) => `CONVERT(nvarchar(4000), ${c})`),
  binary: plain('bytes'),
  varbinary: plain('bytes'),
  image: plain('bytes'),
  rowversion: plain('bytes'),
  timestamp: plain('bytes'),
  date: as('date', (c) => `CONVERT(varchar(10), ${c}, 23)`),
  // Default style: hh:mm:ss.fffffff (style 114 would put ':' before the fraction and keep only 3 digits).
  time: as('time', (c) => `CONVERT(varchar(16), ${c})`),
  datetime: as('timestamp', (c) => `CONVERT(varchar(27), ${c}, 121)`),
  smalldatetime: as('timestamp', (c) => `CONVERT(varchar(27), ${c}, 121)`),
  datetime2: as('timestamp', (c) => `CONVERT(varchar(27), ${c}, 121)`),
  // Style 121 keeps every fractional digit of the column's scale and the offset: yyyy-mm-dd hh:mi:ss.fffffff +hh:mi.
  datetimeoffset: as('timestamptz', (c) => `CONVERT(varchar(34), ${c}, 121)`),
  uniqueidentifier: as('uuid', (c) => `CONVERT(char(36), ${c})`),
};

/** Forms that arrive as strings, so a column mapped to kind 'text' may take them as they are. */
const STRING_KINDS = new Set<ValueKind>(['exact', 'text', 'date', 'time', 'timestamp', 'timestamptz', 'uuid']);

/** "decimal(38,10)" → "decimal"; the mapping may carry the source type with or without its arguments. */
export function baseType(sourceType: string): string {
  return sourceType.trim().toLowerCase().replace(/\s*\(.*$/, '');
}

/** The expression that returns one column in the form of its ValueKind. */
export function selectExpression(column: ColumnMapping): string {
  const type = baseType(column.sourceType);
  const form = Object.hasOwn(FORMS, type) ? FORMS[type] : undefined;
  if (!form) {
    throw new CutoverError(
      'mssql.unsupported_type',
      `column ${column.source} has SQL Server type ${column.sourceType}, which the mssql adapter cannot read exactly; map it with a per-column override or exclude it`,
    );
  }
  if (form.kind !== column.kind && !(column.kind === 'text' && STRING_KINDS.has(form.kind))) {
    throw new CutoverError(
      'mssql.kind_mismatch',
      `column ${column.source} (${column.sourceType}) is read as ${form.kind}, but its mapping expects ${column.kind}`,
    );
  }
  return form.select(quoteIdent(column.source));
}

export function selectList(table: TableMapping): string {
  if (table.columns.length === 0) {
    throw new CutoverError('mssql.no_columns', `table ${table.source.schema}.${table.source.name} has no columns to copy`);
  }
  return table.columns.map((c) => `${selectExpression(c)} AS ${quoteIdent(c.source)}`).join(', ');
}

/** The WHERE clause (without the keyword; '' for the whole table) of a chunk, with its parameters. */
export function chunkWhere(chunk: ChunkSpec): BoundSql {
  switch (chunk.kind) {
    case 'all':
      return { text: '', params: [] };
    case 'range': {
      const col = quoteIdent(chunk.column);
      return {
        text: `${col} >= @from AND ${col} ${chunk.lastInclusive ? '<=' : '<'} @to`,
        params: [
          { name: 'from', type: 'bigint', value: chunk.from },
          { name: 'to', type: 'bigint', value: chunk.to },
        ],
      };
    }
    case 'hash': {
      if (chunk.columns.length === 0) throw new CutoverError('mssql.bad_chunk', `hash chunk ${chunk.id} names no key columns`);
      // CAST before ABS: ABS(-2147483648) overflows int.
      const cols = chunk.columns.map(quoteIdent).join(', ');
      return {
        text: `ABS(CAST(CHECKSUM(${cols}) AS bigint)) % @buckets = @bucket`,
        params: [
          { name: 'buckets', type: 'int', value: chunk.buckets },
          { name: 'bucket', type: 'int', value: chunk.bucket },
        ],
      };
    }
  }
}

/** The query that streams a chunk; range chunks in key order, so a chunk reads as one index range scan. */
export function chunkSelect(table: TableMapping, chunk: ChunkSpec): BoundSql {
  const where = chunkWhere(chunk);
  const parts = [`SELECT ${selectList(table)} FROM ${quoteTable(table.source)}`];
  if (where.text) parts.push(`WHERE ${where.text}`);
  if (chunk.kind === 'range') parts.push(`ORDER BY ${quoteIdent(chunk.column)}`);
  return { text: parts.join(' '), params: where.params };
}

/** COUNT_BIG: a chunk (or table) may hold more rows than an int counts. */
export function chunkCount(table: TableMapping, chunk: ChunkSpec): BoundSql {
  const where = chunkWhere(chunk);
  const text = `SELECT COUNT_BIG(*) AS n FROM ${quoteTable(table.source)}${where.text ? ` WHERE ${where.text}` : ''}`;
  return { text, params: where.params };
}

/** MIN and MAX of an integer key as text: a bigint key may lie beyond what a JavaScript number holds. */
export function keyBoundsQuery(table: TableMapping, column: string): string {
  const col = quoteIdent(column);
  return `SELECT CONVERT(varchar(20), MIN(${col})) AS lo, CONVERT(varchar(20), MAX(${col})) AS hi FROM ${quoteTable(table.source)}`;
}
