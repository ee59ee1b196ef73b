import type { ValueKind } from '../etl/contracts.js';
import type { ColumnModel } from './model.js';

/**
 * SQL Server → PostgreSQL column types. docs/type-mapping.md is the same
 * table for people; a test keeps the two in step.
 */

/**
 * How datetime/smalldatetime/datetime2 values are read. 'wall-clock'
 * (default): `timestamp` without time zone holding the source's wall-clock
 * time unchanged. `{ zone }`: `timestamptz`, the source values interpreted as
 * local time in that IANA zone.
 */
export type TimezoneRule = 'wall-clock' | { zone: string };

export interface TypeMapOptions {
  timezone?: TimezoneRule;
  /** PostGIS is installed in the target: spatial types keep their type. */
  postgis?: boolean;
}

export interface MappedType {
  /** As written in DDL, e.g. "numeric(19,4)". */
  targetType: string;
  kind: ValueKind;
  /** Characters PostgreSQL accepts at most; null: no limit. */
  maxChars: number | null;
  /** Said once per column in the conversion report. */
  warnings: string[];
  /** A range the PostgreSQL type does not enforce by itself (tinyint → smallint), added as a CHECK. */
  range: { min: number; max: number } | null;
}

export type TypeInput = Pick<ColumnModel, 'type' | 'maxLength' | 'precision' | 'scale'>;

/** Every source type with a documented mapping (lower case, as the catalog names them). */
export const MAPPED_SOURCE_TYPES = [
  'bit', 'tinyint', 'smallint', 'int', 'bigint', 'decimal', 'numeric', 'money', 'smallmoney', 'float', 'real',
  'date', 'time', 'datetime', 'smalldatetime', 'datetime2', 'datetimeoffset', 'uniqueidentifier',
  'char', 'nchar', 'varchar', 'nvarchar', 'sysname', 'text', 'ntext', 'binary', 'varbinary', 'image', 'xml',
  'rowversion', 'timestamp', 'sql_variant', 'hierarchyid', 'geography', 'geometry',
] as const;

/** SQL Server keeps 7 fractional digits (100 ns); PostgreSQL at most 6. */
const PG_MAX_FRACTION = 6;
const SUB_MICROSECOND =
  "SQL Server keeps 100 ns, PostgreSQL microseconds: the 7th fractional digit is rounded on load";

const plain = (targetType: string, kind: ValueKind, warnings: string[] = []): MappedType => ({
  targetType,
  kind,
  maxChars: null,
  warnings,
  range: null,
});

export function mapColumnType(col: TypeInput, options: TypeMapOptions = {}): MappedType {
  const type = col.type.toLowerCase();
  switch (type) {
    case 'bit':
      return plain('boolean', 'bool');
    case 'tinyint':
      return { ...plain('smallint', 'int'), range: { min: 0, max: 255 } };
    case 'smallint':
      return plain('smallint', 'int');
    case 'int':
      return plain('integer', 'int');
    case 'bigint':
      // Beyond 2^53 a JS number is not exact: bigint travels as decimal text.
      return plain('bigint', 'exact');
    case 'decimal':
    case 'numeric':
      return plain(`numeric(${col.precision ?? 18},${col.scale ?? 0})`, 'exact');
    case 'money':
      return plain('numeric(19,4)', 'exact');
    case 'smallmoney':
      return plain('numeric(10,4)', 'exact');
    case 'float':
      // float(1..24) is stored as real by SQL Server; the catalog may still say float with precision 24.
      return plain(col.precision !== null && col.precision <= 24 ? 'real' : 'double precision', 'float');
    case 'real':
      return plain('real', 'float');
    case 'date':
      return plain('date', 'date');
    case 'time':
      return fractional('time', col.scale, 'time');
    case 'datetime':
      return wallClock(3, options);
    case 'smalldatetime':
      return wallClock(0, options);
    case 'datetime2':
      return wallClock(col.scale ?? 7, options);
    case 'datetimeoffset':
      return fractional('timestamptz', col.scale, 'timestamptz', ['the instant is kept; the original UTC offset is not']);
    case 'uniqueidentifier':
      return plain('uuid', 'uuid');
    case 'char':
    case 'nchar':
      return sized('char', col.maxLength);
    case 'varchar':
    case 'nvarchar':
      return col.maxLength === -1 ? plain('text', 'text') : sized('varchar', col.maxLength);
    case 'sysname':
      return sized('varchar', 128);
    case 'text':
    case 'ntext':
      return plain('text', 'text');
    case 'binary':
    case 'varbinary':
    case 'image':
      return plain('bytea', 'bytes');
    case 'xml':
      return plain('xml', 'text');
    case 'rowversion':
    case 'timestamp':
      return plain('bytea', 'bytes', [
        'rowversion kept as bytea for incremental sync; PostgreSQL does not change it on update',
      ]);
    case 'sql_variant':
      return plain('text', 'text', ['sql_variant stored as text: the base type of each value is lost']);
    case 'hierarchyid':
      return plain('text', 'text', ['hierarchyid stored as its ToString() path (/1/3/); its methods need ltree or code']);
    case 'geography':
    case 'geometry':
      return options.postgis
        ? plain(type, 'text', [`${type} loaded from WKT with its SRID; check the SRID of every column`])
        : plain('text', 'text', [`${type} stored as WKT text (no PostGIS in the target): spatial indexes and functions are lost`]);
    default:
      return plain('text', 'text', [`unknown source type ${type}: mapped to text; set an override`]);
  }
}

function fractional(base: string, scale: number | null, kind: ValueKind, warnings: string[] = []): MappedType {
  const digits = scale ?? 7;
  const extra = digits > PG_MAX_FRACTION ? [SUB_MICROSECOND] : [];
  return plain(`${base}(${Math.min(digits, PG_MAX_FRACTION)})`, kind, [...extra, ...warnings]);
}

function wallClock(digits: number, options: TypeMapOptions): MappedType {
  const rule = options.timezone ?? 'wall-clock';
  if (rule === 'wall-clock') return fractional('timestamp', digits, 'timestamp');
  // The value still travels as wall-clock text; the load interprets it in the zone.
  return fractional('timestamptz', digits, 'timestamp', [
    `wall-clock values read as local time in ${rule.zone}; the repeated hour when daylight saving ends is ambiguous`,
  ]);
}

function sized(base: 'char' | 'varchar', length: number | null): MappedType {
  // SQL Server's DDL default length is 1; the catalog normally always says.
  const n = length === null || length < 1 ? 1 : length;
  return { ...plain(`${base}(${n})`, 'text'), maxChars: n };
}

/** What an override's PostgreSQL type means for the ETL. */
export interface OverrideType {
  targetType: string;
  kind: ValueKind;
  maxChars: number | null;
}

// A type name, optional (n) or (p,s), optional []; nothing else reaches DDL.
const OVERRIDE_SHAPE = /^([a-z][a-z0-9_ ]*?)\s*(?:\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\))?\s*(\[\])?$/i;

const OVERRIDE_KINDS: Array<[RegExp, ValueKind]> = [
  [/^(boolean|bool)$/, 'bool'],
  [/^(smallint|integer|int|int2|int4)$/, 'int'],
  [/^(bigint|int8|numeric|decimal)$/, 'exact'],
  [/^(real|float4|float8|float|double precision)$/, 'float'],
  [/^date$/, 'date'],
  [/^(time|time without time zone)$/, 'time'],
  [/^(timestamp|timestamp without time zone)$/, 'timestamp'],
  [/^(timestamptz|timestamp with time zone)$/, 'timestamptz'],
  [/^uuid$/, 'uuid'],
  [/^bytea$/, 'bytes'],
];

/**
 * Parses a per-column override such as "varchar(10)"; null when it is not a
 * plain type name (so no other SQL can ride along into the DDL).
 */
export function parseOverrideType(text: string): OverrideType | null {
  const m = OVERRIDE_SHAPE.exec(text.trim());
  if (!m?.[1]) return null;
  const name = m[1].trim().toLowerCase().replace(/\s+/g, ' ');
  const targetType = text.trim().replace(/\s+/g, ' ');
  if (m[4]) return { targetType, kind: 'text', maxChars: null };
  const kind = OVERRIDE_KINDS.find(([re]) => re.test(name))?.[1] ?? 'text';
  return { targetType, kind, maxChars: overrideMaxChars(name, m[2]) };
}

function overrideMaxChars(name: string, length: string | undefined): number | null {
  if (!/^(varchar|character varying|char|character|bpchar)$/.test(name)) return null;
  if (length !== undefined) return Number(length);
  // Bare char/character means char(1); bare varchar and bpchar have no limit.
  return name === 'char' || name === 'character' ? 1 : null;
}

/** True when the runtime knows the IANA zone (PostgreSQL's list is the same tz database). */
export function isValidTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return zone.length > 0;
  } catch {
    return false;
  }
}
