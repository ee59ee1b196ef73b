import { CutoverError } from '../../runbook/errors.js';

/**
 * Pure pieces of the post-go-live rollback script: PostgreSQL rows (as their
 * text form, read with DateStyle ISO and TimeZone UTC) turned into T-SQL that
 * replays them into SQL Server. No I/O here; engine/actions/rollback-export.ts
 * streams the pieces into a file.
 */

/** How a column's PostgreSQL text form becomes a T-SQL literal. */
export type ValueKind = 'text' | 'number' | 'boolean' | 'binary' | 'datetime' | 'date' | 'time' | 'uuid';

export interface ExportColumn {
  name: string;
  kind: ValueKind;
}

export interface TsqlTable {
  /** schema.table on SQL Server, e.g. dbo.Antrag. */
  name: string;
  columns: readonly ExportColumn[];
  key: readonly string[];
  /** SET IDENTITY_INSERT ON/OFF around the table's rows. */
  identity: boolean;
}

/** The value kind of a PostgreSQL type, by type name and pg_type.typcategory. */
export function kindOfPgType(typname: string, typcategory: string): ValueKind {
  if (typname === 'bool') return 'boolean';
  if (typname === 'bytea') return 'binary';
  if (typname === 'uuid') return 'uuid';
  if (typname === 'timestamp' || typname === 'timestamptz') return 'datetime';
  if (typname === 'date') return 'date';
  if (typname === 'time' || typname === 'timetz') return 'time';
  if (typcategory === 'N') return 'number';
  return 'text';
}

/** [name] with ] doubled: T-SQL's quoting of one identifier. */
export const bracket = (name: string): string => `[${name.replaceAll(']', ']]')}]`;

/** "dbo.Antrag" → [dbo].[Antrag]; the first dot separates schema and table. */
export function tsqlName(qualified: string): string {
  const dot = qualified.indexOf('.');
  return dot < 0 ? bracket(qualified) : `${bracket(qualified.slice(0, dot))}.${bracket(qualified.slice(dot + 1))}`;
}

const NUMBER = /^[+-]?\d+(\.\d+)?([eE][+-]?\d+)?$/;
const DATETIME = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,7})?$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const TIME = /^\d{2}:\d{2}:\d{2}(\.\d{1,7})?$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const BYTEA_HEX = /^\\x([0-9a-f]*)$/i;
// timestamptz / timetz text carries an offset; the export reads them in UTC, so it is +00 and dropped.
const OFFSET = /[+-]\d{2}(:\d{2}){0,2}$/;

const unrepresentable = (kind: ValueKind, text: string): CutoverError =>
  new CutoverError('rollback.unrepresentable', `the ${kind} value ${JSON.stringify(text.slice(0, 40))} has no SQL Server literal`);

/** A T-SQL literal for one value given as PostgreSQL text (null = SQL NULL). Throws on values SQL Server cannot hold (NaN, infinity, BC dates). */
export function tsqlLiteral(kind: ValueKind, text: string | null): string {
  if (text === null) return 'NULL';
  switch (kind) {
    case 'text':
      // N'…' keeps every code point, astral ones (emoji) included, when the file is read as UTF-8.
      return `N'${text.replaceAll("'", "''")}'`;
    case 'number':
      if (!NUMBER.test(text)) throw unrepresentable(kind, text);
      return text; // exact: numeric's text form, never through a JS number
    case 'boolean':
      if (text === 'true' || text === 't') return '1';
      if (text === 'false' || text === 'f') return '0';
      throw unrepresentable(kind, text);
    case 'binary': {
      const m = BYTEA_HEX.exec(text);
      if (!m) throw unrepresentable(kind, text);
      return `0x${(m[1] ?? '').toUpperCase()}`;
    }
    case 'uuid':
      if (!UUID.test(text)) throw unrepresentable(kind, text);
      return `'${text}'`;
    case 'datetime':
      return temporal(kind, text.replace(OFFSET, ''), DATETIME, 'datetime2(7)');
    case 'date':
      return temporal(kind, text, DATE, 'date');
    case 'time':
      return temporal(kind, text.replace(OFFSET, ''), TIME, 'time(7)');
  }
}

function temporal(kind: ValueKind, text: string, shape: RegExp, type: string): string {
  if (!shape.test(text)) throw unrepresentable(kind, text);
  return `CONVERT(${type}, '${text}', 121)`;
}

/**
 * One row as an upsert: UPDATE by key, INSERT when nothing matched. MERGE is
 * avoided on purpose (its concurrency and trigger pitfalls); key and identity
 * columns are never SET.
 */
export function tsqlUpsert(table: TsqlTable, row: readonly (string | null)[]): string {
  const name = tsqlName(table.name);
  const lit = table.columns.map((c, i) => tsqlLiteral(c.kind, row[i] ?? null));
  const where = table.key
    .map((k) => {
      const i = table.columns.findIndex((c) => c.name === k);
      if (i < 0) throw new CutoverError('rollback.key_missing', `key column "${k}" is not a column of ${table.name}`);
      return lit[i] === 'NULL' ? `${bracket(k)} IS NULL` : `${bracket(k)} = ${lit[i]}`;
    })
    .join(' AND ');
  const cols = table.columns.map((c) => bracket(c.name)).join(', ');
  const insert = `INSERT INTO ${name} (${cols}) VALUES (${lit.join(', ')});`;
  const sets = table.columns
    .map((c, i) => ({ c, i }))
    .filter(({ c }) => !table.key.includes(c.name))
    .map(({ c, i }) => `${bracket(c.name)} = ${lit[i]}`);
  if (sets.length === 0) return `IF NOT EXISTS (SELECT 1 FROM ${name} WHERE ${where}) ${insert}\n`;
  return `UPDATE ${name} SET ${sets.join(', ')} WHERE ${where};\nIF @@ROWCOUNT = 0 ${insert}\n`;
}

/** Opening of the script: one transaction that aborts as a whole on the first error. */
export function tsqlHeader(info: { runId: string; since: string; tables: readonly string[] }): string {
  return [
    `-- Rows written in PostgreSQL since go-live (${info.since}), generated by cutover run ${info.runId}.`,
    `-- Tables: ${info.tables.join(', ')}`,
    '-- Review before running; the file is UTF-8 (sqlcmd -f 65001). One batch, one transaction: all or nothing.',
    'SET XACT_ABORT ON;',
    'SET NOCOUNT ON;',
    'BEGIN TRANSACTION;',
    '',
  ].join('\n');
}

export function tsqlTableStart(table: TsqlTable, from: string): string {
  const identity = table.identity ? `SET IDENTITY_INSERT ${tsqlName(table.name)} ON;\n` : '';
  return `-- ${tsqlName(table.name)} from PostgreSQL ${from}\n${identity}`;
}

export function tsqlTableEnd(table: TsqlTable, rows: number): string {
  const identity = table.identity ? `SET IDENTITY_INSERT ${tsqlName(table.name)} OFF;\n` : '';
  return `${identity}-- ${rows} row(s) for ${tsqlName(table.name)}\n\n`;
}

export const tsqlFooter = (): string => 'COMMIT TRANSACTION;\n';
