import { CutoverError } from '../../runbook/errors.js';
import type { ChunkSpec, ColumnMapping, TableMapping } from '../etl/contracts.js';
import type { SyncWindow, Watermark } from '../etl/sync-contracts.js';
import { baseType, chunkWhere, quoteIdent, quoteTable, selectExpression, selectList, type BoundSql, type RowSelect, type SqlParam } from './select-list.js';

/**
 * The T-SQL of incremental sync (engine/etl/sync-contracts.ts explains the
 * windows). Marks are bound as parameters, never spliced into the text:
 * rowversion as binary(8), modified-at as datetime2(7). Pure: no driver here.
 */

const ROWVERSION_TYPES = new Set(['rowversion', 'timestamp']);
const MODIFIED_AT_TYPES = new Set(['datetime', 'datetime2', 'smalldatetime']);

function watermarkColumn(table: TableMapping, w: Watermark): ColumnMapping {
  const column = table.columns.find((c) => c.source.toLowerCase() === w.column.toLowerCase());
  const name = `${table.source.schema}.${table.source.name}`;
  if (!column) throw new CutoverError('sync.bad_watermark', `${name} has no copied column ${w.column} to sync by`);
  const type = baseType(column.sourceType);
  const fits = w.kind === 'rowversion' ? ROWVERSION_TYPES.has(type) : MODIFIED_AT_TYPES.has(type);
  if (!fits) {
    const want = w.kind === 'rowversion' ? 'a rowversion column' : 'a datetime, datetime2 or smalldatetime column';
    throw new CutoverError('sync.bad_watermark', `${name}.${column.source} is ${column.sourceType}; syncing by ${w.kind} needs ${want}`);
  }
  return column;
}

/**
 * The rowversion mark: every value below MIN_ACTIVE_ROWVERSION() is committed.
 * Database-wide, so it needs no table.
 */
export const ROWVERSION_MARK_SQL = 'SELECT CONVERT(binary(8), CONVERT(bigint, MIN_ACTIVE_ROWVERSION()) - 1) AS mark';

/** The query that takes a table's new mark: rowversion as binary(8), modified-at as its style-121 text (NULL on an empty column). */
export function markQuery(table: TableMapping, w: Watermark): BoundSql {
  const col = quoteIdent(watermarkColumn(table, w).source);
  if (w.kind === 'rowversion') return { text: ROWVERSION_MARK_SQL, params: [] };
  return { text: `SELECT CONVERT(varchar(27), MAX(${col}), 121) AS mark FROM ${quoteTable(table.source)}`, params: [] };
}

/** '0x00000000000007D1' ⇄ binary(8): the form a rowversion mark is stored in. */
export function rowversionText(value: Buffer): string {
  if (value.length !== 8) throw new CutoverError('sync.bad_mark', `a rowversion is 8 bytes, got ${value.length}`);
  return `0x${value.toString('hex').toUpperCase()}`;
}

export function rowversionBytes(mark: string): Buffer {
  if (!/^0x[0-9a-fA-F]{16}$/.test(mark)) throw new CutoverError('sync.bad_mark', `"${mark}" is not a rowversion mark (0x and 16 hex digits)`);
  return Buffer.from(mark.slice(2), 'hex');
}

const STYLE_121 = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,7}))?$/;

/**
 * A style-121 text as the Date tedious binds for datetime2(7): its UTC fields
 * carry the wall-clock value (tedious' default useUTC, which
 * engine/connections.ts never turns off) and `nanosecondDelta` the digits
 * beyond the millisecond (in seconds, as tedious reads it).
 */
export function datetime2Value(text: string): Date & { nanosecondDelta: number } {
  const m = STYLE_121.exec(text.trim());
  if (!m) throw new CutoverError('sync.bad_mark', `"${text}" is not a timestamp mark (YYYY-MM-DD hh:mm:ss[.fffffff])`);
  const [, y, mo, d, h, mi, s, frac = ''] = m;
  const digits = frac.padEnd(7, '0');
  const date = new Date(0);
  // setUTCFullYear, not Date.UTC: Date.UTC maps years 0–99 to 1900–1999.
  date.setUTCFullYear(Number(y), Number(mo) - 1, Number(d));
  date.setUTCHours(Number(h), Number(mi), Number(s), Number(digits.slice(0, 3)));
  return Object.assign(date, { nanosecondDelta: Number(digits.slice(3)) / 1e7 });
}

/** The WHERE clause (without the keyword) of a sync window, with its parameters. */
export function changedWhere(table: TableMapping, window: SyncWindow): BoundSql {
  const column = watermarkColumn(table, window);
  const col = quoteIdent(column.source);
  const params: SqlParam[] = [];
  const range: string[] = [];
  if (window.kind === 'rowversion') {
    if (window.upTo === null) throw new CutoverError('sync.bad_mark', 'a rowversion window needs its upper mark');
    if (window.after !== null) {
      range.push(`${col} > @after`);
      params.push({ name: 'after', type: 'binary8', value: rowversionBytes(window.after) });
    }
    range.push(`${col} <= @upTo`);
    params.push({ name: 'upTo', type: 'binary8', value: rowversionBytes(window.upTo) });
    return { text: range.join(' AND '), params };
  }
  if (window.after !== null) {
    // In datetime2(7): the overlap then moves the bound by exactly that much whatever the column's precision.
    range.push(`${col} > DATEADD(millisecond, -@overlapMs, @after)`);
    params.push({ name: 'after', type: 'datetime2', value: window.after }, { name: 'overlapMs', type: 'int', value: window.overlapMs });
  }
  if (window.upTo !== null) {
    // Cast to the column's own type: a datetime compared with a datetime2 is widened (.003 → .0033333 under
    // compatibility level 130+) and the row holding the mark itself would fall outside the window.
    const type = baseType(column.sourceType) === 'datetime2' ? 'datetime2(7)' : baseType(column.sourceType);
    range.push(`${col} <= CAST(@upTo AS ${type})`);
    params.push({ name: 'upTo', type: 'datetime2', value: window.upTo });
  }
  const bounded = window.upTo === null ? '1 = 0' : range.join(' AND ');
  return { text: column.nullable ? `(${bounded} OR ${col} IS NULL)` : bounded, params };
}

/** The rows of a sync window, in the mapping's column order and value forms. */
export function changedSelect(table: TableMapping, window: SyncWindow): RowSelect {
  const where = changedWhere(table, window);
  const list = selectList(table);
  return { text: `SELECT ${list.text} FROM ${quoteTable(table.source)} WHERE ${where.text}`, params: where.params, helpers: list.helpers };
}

function keyColumns(table: TableMapping): ColumnMapping[] {
  const name = `${table.source.schema}.${table.source.name}`;
  if (!table.key) throw new CutoverError('sync.no_key', `${name} has no primary or unique key to sync by`);
  return table.key.columns.map((k) => {
    const c = table.columns.find((x) => x.source === k);
    if (!c) throw new CutoverError('sync.no_key', `key column ${k} of ${name} is not a copied column`);
    return c;
  });
}

function rangeOnly(range: ChunkSpec): BoundSql {
  if (range.kind === 'hash') throw new CutoverError('sync.bad_range', `sync compares keys by range or whole table, not by hash (${range.id})`);
  return chunkWhere(range);
}

/** The key values of a range, in their value forms and key order. */
export function keysSelect(table: TableMapping, range: ChunkSpec): BoundSql {
  const keys = keyColumns(table);
  const where = rangeOnly(range);
  const list = keys.map((c) => `${selectExpression(c)} AS ${quoteIdent(c.source)}`).join(', ');
  const order = keys.map((c) => quoteIdent(c.source)).join(', ');
  return { text: `SELECT ${list} FROM ${quoteTable(table.source)}${where.text ? ` WHERE ${where.text}` : ''} ORDER BY ${order}`, params: where.params };
}

/** Count, sum and sum of squares (mod 2^31-1) of an integer key as decimal text; PostgreSQL computes the same. */
export function keySummarySelect(table: TableMapping, range: ChunkSpec): BoundSql {
  const keys = keyColumns(table);
  if (keys.length !== 1 || table.key?.kind !== 'integer') {
    throw new CutoverError('sync.bad_range', `${table.source.schema}.${table.source.name}: key sums need a single integer key`);
  }
  const k = quoteIdent((keys[0] as ColumnMapping).source);
  const where = rangeOnly(range);
  // decimal(38,0): a sum over many bigint keys overflows bigint; the square of a value below 2^31 fits easily.
  const m = `CONVERT(decimal(38,0), ${k} % 2147483647)`;
  const text =
    `SELECT CONVERT(varchar(20), COUNT_BIG(*)) AS n, ISNULL(CONVERT(varchar(50), SUM(CONVERT(decimal(38,0), ${k}))), '0') AS s, ` +
    `ISNULL(CONVERT(varchar(50), SUM(${m} * ${m})), '0') AS q FROM ${quoteTable(table.source)}${where.text ? ` WHERE ${where.text}` : ''}`;
  return { text, params: where.params };
}
