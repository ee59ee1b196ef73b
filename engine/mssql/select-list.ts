import { CutoverError } from '../../runbook/errors.js';
import type { ChunkSpec, ColumnMapping, TableMapping, ValueKind } from '../etl/contracts.js';
import { EXACT_DIGITS } from './native-values.js';

/**
 * The SELECTs of the mssql adapter. Each column has a converting form, the
 * text SQL Server makes of it (selectExpression: what validation hashes and
 * compares), and the ETL's read (readExpression): the column as it is on the
 * wire wherever native-values.ts turns the driver's value into that same
 * text exactly; for money and wide decimals, whose driver number may have
 * rounded, the converting form's text too, for the values beyond 15 digits
 * only. No value passes through a JavaScript number or Date that cannot
 * hold it. Pure: no driver here.
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

/** Types whose wire value engine/mssql/row-decoder.ts reads exactly, selected as they are. */
const NATIVE = new Set([
  'tinyint', 'smallint', 'int', 'bigint', 'float', 'real', 'bit', 'smallmoney',
  'char', 'varchar', 'nchar', 'nvarchar', 'sysname', 'text', 'ntext', 'xml',
  'binary', 'varbinary', 'image', 'rowversion', 'timestamp', 'uniqueidentifier',
  'date', 'time', 'datetime', 'smalldatetime', 'datetime2', 'datetimeoffset',
]);
const DECIMALS = new Set(['decimal', 'numeric']);
const MONEY_SCALE = 4;

/**
 * |v| below which a value of `scale` decimals has at most 15 significant
 * digits (10^(15 − scale)), as a T-SQL literal: the driver's number holds
 * such a value exactly.
 */
export function exactBound(scale: number): string {
  const digits = EXACT_DIGITS - scale;
  return digits >= 0 ? `1${'0'.repeat(digits)}` : `0.${'0'.repeat(-digits - 1)}1`;
}

/**
 * The scale of a decimal/money column the driver reads as a number that may
 * have rounded it (money, decimal/numeric wider than 15 digits), or null.
 */
function roundedScale(type: string, column: ColumnMapping): number | null {
  if (type === 'money') return MONEY_SCALE;
  if (!DECIMALS.has(type) || typeof column.sourcePrecision !== 'number' || column.sourcePrecision <= EXACT_DIGITS) return null;
  return typeof column.sourceScale === 'number' ? column.sourceScale : null;
}

/**
 * The ETL's read of one column: the column itself where the driver carries it
 * exactly, else its converting form. Some columns need a second result
 * column, `helper`:
 *  - a datetimeoffset its offset in minutes, which tedious drops;
 *  - money and decimals wider than 15 digits their converting form's text,
 *    but only for values beyond 15 significant digits (NULL for the others,
 *    which the driver's number holds exactly): the server converts the few
 *    values it must, not every value of the column.
 */
export function readExpression(column: ColumnMapping): { expression: string; helper: string | null } {
  const converting = selectExpression(column); // validates the type and the kind
  const type = baseType(column.sourceType);
  const col = quoteIdent(column.source);
  const precision = column.sourcePrecision;
  if (NATIVE.has(type) || (DECIMALS.has(type) && typeof precision === 'number' && precision <= EXACT_DIGITS)) {
    return { expression: col, helper: type === 'datetimeoffset' ? `DATEPART(TZOFFSET, ${col})` : null };
  }
  const scale = roundedScale(type, column);
  if (scale === null) return { expression: converting, helper: null };
  const bound = exactBound(scale);
  return { expression: col, helper: `CASE WHEN ${col} > -${bound} AND ${col} < ${bound} THEN NULL ELSE ${converting} END` };
}

/** A row query of the ETL: `helpers[i]` is the result column holding mapped column i's helper (readExpression), or -1. */
export interface RowSelect extends BoundSql {
  helpers: number[];
}

/** The mapped columns in their ETL reads, then the helper columns some of them need. */
export function selectList(table: TableMapping): { text: string; helpers: number[] } {
  if (table.columns.length === 0) {
    throw new CutoverError('mssql.no_columns', `table ${table.source.schema}.${table.source.name} has no columns to copy`);
  }
  const reads = table.columns.map(readExpression);
  const extra: string[] = [];
  const helpers = reads.map((r) => {
    if (r.helper === null) return -1;
    extra.push(`${r.helper} AS ${quoteIdent(`helper ${extra.length + 1}`)}`);
    return table.columns.length + extra.length - 1;
  });
  const list = table.columns.map((c, i) => `${(reads[i] as { expression: string }).expression} AS ${quoteIdent(c.source)}`);
  return { text: [...list, ...extra].join(', '), helpers };
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
export function chunkSelect(table: TableMapping, chunk: ChunkSpec): RowSelect {
  const where = chunkWhere(chunk);
  const list = selectList(table);
  const parts = [`SELECT ${list.text} FROM ${quoteTable(table.source)}`];
  if (where.text) parts.push(`WHERE ${where.text}`);
  if (chunk.kind === 'range') parts.push(`ORDER BY ${quoteIdent(chunk.column)}`);
  return { text: parts.join(' '), params: where.params, helpers: list.helpers };
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
