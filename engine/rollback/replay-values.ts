import { CutoverError } from '../../runbook/errors.js';
import type { ColumnModel } from '../schema/model.js';

/**
 * Values of the post-go-live replay, pure: a source column's type decides how
 * the text PostgreSQL gives for it (read with DateStyle ISO, TimeZone UTC,
 * bytea_output hex) becomes a literal of that type — in T-SQL for SQL Server,
 * and in PostgreSQL for the round trip the tests execute.
 */

/** How a value is written back, by the source column's type. */
export type ReplayKind = 'text' | 'number' | 'boolean' | 'binary' | 'datetime' | 'date' | 'time' | 'datetimeoffset' | 'uuid' | 'hierarchyid';

/** A source column the replay writes: its name, its declared type (for typed NULLs) and how its values are written. */
export interface ReplayColumn {
  name: string;
  /** The SQL Server type as declared, e.g. nvarchar(50), decimal(19,4), datetime2(7). */
  decl: string;
  kind: ReplayKind;
}

const NUMBER_TYPES = new Set(['tinyint', 'smallint', 'int', 'bigint', 'decimal', 'numeric', 'money', 'smallmoney', 'float', 'real']);
const DATETIME_TYPES = new Set(['datetime', 'smalldatetime', 'datetime2']);
const SIZED = new Set(['char', 'varchar', 'nchar', 'nvarchar', 'binary', 'varbinary']);
const SCALED = new Set(['datetime2', 'time', 'datetimeoffset']);
/** Columns SQL Server fills itself: a replay may not write them. */
export const UNWRITABLE_TYPES = new Set(['rowversion', 'timestamp']);
const UNSUPPORTED = new Set(['geography', 'geometry']);

/** The replay kind of a source type; spatial types are refused (their SRID is not in the WKT text). */
export function kindOfSourceType(type: string, where: string): ReplayKind {
  const t = type.toLowerCase();
  if (UNSUPPORTED.has(t)) {
    throw new CutoverError('rollback.unsupported_type', `${where} is ${t}: the replay cannot write spatial values back (the SRID is not kept); leave the column out of the mapping and replay it by hand`);
  }
  if (t === 'bit') return 'boolean';
  if (NUMBER_TYPES.has(t)) return 'number';
  if (DATETIME_TYPES.has(t)) return 'datetime';
  if (t === 'date') return 'date';
  if (t === 'time') return 'time';
  if (t === 'datetimeoffset') return 'datetimeoffset';
  if (t === 'uniqueidentifier') return 'uuid';
  if (t === 'binary' || t === 'varbinary' || t === 'image') return 'binary';
  if (t === 'hierarchyid') return 'hierarchyid';
  return 'text';
}

/** The column's type as SQL Server declares it: nvarchar(50), varbinary(max), decimal(19,4), datetime2(3)… */
export function declOf(c: Pick<ColumnModel, 'type' | 'maxLength' | 'precision' | 'scale'>): string {
  const t = c.type.toLowerCase();
  if (SIZED.has(t) && c.maxLength !== null) return `${t}(${c.maxLength === -1 ? 'max' : c.maxLength})`;
  if (t === 'decimal' || t === 'numeric') return `${t}(${c.precision ?? 18},${c.scale ?? 0})`;
  if (SCALED.has(t) && c.scale !== null) return `${t}(${c.scale})`;
  return t;
}

export const replayColumn = (c: ColumnModel, where: string): ReplayColumn => ({ name: c.name, decl: declOf(c), kind: kindOfSourceType(c.type, where) });

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const DATETIME = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,7})?$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const TIME = /^\d{2}:\d{2}:\d{2}(\.\d{1,7})?$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const BYTEA_HEX = /^\\x([0-9a-f]*)$/i;
// timestamptz / timetz text carries an offset; the export reads them in UTC.
const OFFSET = /([+-])(\d{2})(?::?(\d{2}))?(?::\d{2})?$/;
const HIERARCHY = /^\/(\d+([.]\d+)*\/)*$/;

const unrepresentable = (kind: ReplayKind, text: string): CutoverError =>
  new CutoverError('rollback.unrepresentable', `the ${kind} value ${JSON.stringify(text.slice(0, 40))} has no SQL Server literal`);

/** A checked value: the text as the literal carries it, or an error naming the value. */
export function checkedValue(kind: ReplayKind, text: string): string {
  const ok = (re: RegExp, t: string): string => {
    if (!re.test(t)) throw unrepresentable(kind, text);
    return t;
  };
  switch (kind) {
    case 'text':
      return text;
    case 'number':
      return ok(NUMBER, text);
    case 'boolean':
      if (text === 'true' || text === 't' || text === '1') return '1';
      if (text === 'false' || text === 'f' || text === '0') return '0';
      throw unrepresentable(kind, text);
    case 'binary': {
      const m = BYTEA_HEX.exec(text);
      if (!m) throw unrepresentable(kind, text);
      return (m[1] ?? '').toUpperCase();
    }
    case 'uuid':
      return ok(UUID, text).toLowerCase();
    case 'datetime':
      return ok(DATETIME, text.replace(OFFSET, ''));
    case 'date':
      return ok(DATE, text);
    case 'time':
      return ok(TIME, text.replace(OFFSET, ''));
    case 'datetimeoffset': {
      const m = OFFSET.exec(text);
      const local = ok(DATETIME, m ? text.slice(0, m.index) : text);
      return `${local} ${m ? `${m[1]}${m[2]}:${m[3] ?? '00'}` : '+00:00'}`;
    }
    case 'hierarchyid':
      return ok(HIERARCHY, text);
  }
}

/** [name] with ] doubled: T-SQL's quoting of one identifier. */
export const bracket = (name: string): string => `[${name.replaceAll(']', ']]')}]`;

/** "dbo.Antrag" → [dbo].[Antrag]; the first dot separates schema and table. */
export function tsqlName(qualified: string): string {
  const dot = qualified.indexOf('.');
  return dot < 0 ? bracket(qualified) : `${bracket(qualified.slice(0, dot))}.${bracket(qualified.slice(dot + 1))}`;
}

const nString = (text: string): string => `N'${text.replaceAll("'", "''")}'`;

/** A T-SQL literal of the column's source type for a value given as PostgreSQL text (null = a NULL of that type). */
export function tsqlValue(col: ReplayColumn, text: string | null): string {
  // A typed NULL: a VALUES column that is NULL in every row would otherwise be int, which SQL Server will not put into a date.
  if (text === null) return `CAST(NULL AS ${col.decl})`;
  const v = checkedValue(col.kind, text);
  switch (col.kind) {
    case 'text':
      // N'…' keeps every code point (the file is UTF-8; sqlcmd -f 65001); SQL Server converts to a varchar column's code page.
      return nString(v);
    case 'number':
      return v; // exact: the decimal text itself, never through a JS number
    case 'boolean':
      return `CAST(${v} AS bit)`;
    case 'binary':
      return `0x${v}`;
    case 'uuid':
      return `CONVERT(uniqueidentifier, '${v}')`;
    case 'datetime':
      return `CONVERT(datetime2(7), '${v}', 121)`;
    case 'date':
      return `CONVERT(date, '${v}', 121)`;
    case 'time':
      return `CONVERT(time(7), '${v}', 121)`;
    case 'datetimeoffset':
      // 'YYYY-MM-DD hh:mm:ss[.n] +hh:mm' is read the same whatever SET LANGUAGE / DATEFORMAT say.
      return `CAST('${v}' AS datetimeoffset(7))`;
    case 'hierarchyid':
      return `CAST(N'${v}' AS hierarchyid)`;
  }
}

/** PostgreSQL type a value of this kind takes in the round-trip copy of the source. */
export const PG_TYPE: Record<ReplayKind, string> = {
  text: 'text',
  number: 'numeric',
  boolean: 'boolean',
  binary: 'bytea',
  datetime: 'timestamp',
  date: 'date',
  time: 'time',
  datetimeoffset: 'timestamptz',
  uuid: 'uuid',
  hierarchyid: 'text',
};

/** The same value as a PostgreSQL literal, for the executable round trip. */
export function pgValue(col: ReplayColumn, text: string | null): string {
  if (text === null) return `NULL::${PG_TYPE[col.kind]}`;
  const v = checkedValue(col.kind, text);
  const quoted = `'${v.replaceAll("'", "''")}'`;
  switch (col.kind) {
    case 'number':
      return v;
    case 'boolean':
      return v === '1' ? 'true' : 'false';
    case 'binary':
      return `'\\x${v}'::bytea`;
    case 'text':
    case 'hierarchyid':
      return `${quoted}::text`;
    default:
      return `${quoted}::${PG_TYPE[col.kind]}`;
  }
}
