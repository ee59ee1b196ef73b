import type { ColumnMapping, TableMapping } from '../etl/contracts.js';
import { quoteIdent as msIdent, quoteTable as msTable } from '../mssql/select-list.js';
import { quoteIdent as pgIdent, quoteLiteral, quoteQualified } from '../schema/naming.js';

/**
 * Column aggregates computed inside each database (non-null count, min, max,
 * and the sum of numeric columns), one SELECT per table and side, every value
 * returned as text so no figure passes through a JavaScript number. Pure.
 */

/** How a column's aggregates are computed and compared. */
export type AggregateCategory = 'integer' | 'exact' | 'float' | 'real' | 'bool' | 'date' | 'time' | 'timestamp' | 'instant' | 'text' | 'unordered';

export interface ColumnAggregatePlan {
  column: ColumnMapping;
  category: AggregateCategory;
  /** Decimal places the sum is kept with (exact types): the target numeric's scale. */
  scale: number;
  /** min/max are computed and compared; otherwise the reason they are not. */
  ordered: true | { reason: string };
  /** Column index in the SELECT: its figures come back as c<i>_n, c<i>_min, c<i>_max, c<i>_sum. */
  index: number;
}

export interface AggregateOptions {
  /** The runbook's time-zone rule: wall-clock source times were loaded as instants in this zone (timestamptz). */
  zone: string | null;
  /** Column collation in SQL Server (or the database default) → whether its order equals PostgreSQL's "C" order. */
  collationAgrees?: (collation: string | null) => boolean;
}

const BY_SOURCE_TYPE: Record<string, AggregateCategory> = {
  tinyint: 'integer',
  smallint: 'integer',
  int: 'integer',
  bigint: 'exact',
  decimal: 'exact',
  numeric: 'exact',
  money: 'exact',
  smallmoney: 'exact',
  float: 'float',
  real: 'real',
  bit: 'bool',
  date: 'date',
  time: 'time',
  datetime: 'timestamp',
  smalldatetime: 'timestamp',
  datetime2: 'timestamp',
  datetimeoffset: 'instant',
  char: 'text',
  varchar: 'text',
  nchar: 'text',
  nvarchar: 'text',
  sysname: 'text',
};

/** LOB and CLR types: SQL Server refuses MIN/MAX on them (text, ntext, image, xml) or has no order PostgreSQL shares. */
const UNORDERED_REASON: Record<string, string> = {
  uniqueidentifier: 'not comparable: uniqueidentifier sorts differently in SQL Server',
  binary: 'not comparable: binary values are not ordered alike',
  varbinary: 'not comparable: binary values are not ordered alike',
  image: 'not comparable: binary values are not ordered alike',
  rowversion: 'not comparable: binary values are not ordered alike',
  timestamp: 'not comparable: binary values are not ordered alike',
};

/**
 * Binary code-point collations order like PostgreSQL's "C" collation over
 * UTF-8 (both by code point; supplementary characters aside); every
 * linguistic collation (…_CI_AS, …) orders differently.
 */
export const binaryCollationAgrees = (collation: string | null): boolean => collation !== null && /_BIN2$/i.test(collation);

const scaleOf = (targetType: string): number => Number(/^\s*numeric\s*\(\s*\d+\s*,\s*(\d+)\s*\)/i.exec(targetType)?.[1] ?? 0);

export function planAggregates(table: TableMapping, collations: Record<string, string | null>, options: AggregateOptions): ColumnAggregatePlan[] {
  const agrees = options.collationAgrees ?? binaryCollationAgrees;
  return table.columns.map((column, index) => {
    const type = column.sourceType.trim().toLowerCase().replace(/\s*\(.*$/, '');
    const category: AggregateCategory = BY_SOURCE_TYPE[type] ?? 'unordered';
    let ordered: ColumnAggregatePlan['ordered'] = true;
    if (category === 'unordered') ordered = { reason: UNORDERED_REASON[type] ?? `not comparable: ${type} has no shared order` };
    else if (category === 'text' && !agrees(collations[column.source] ?? null)) ordered = { reason: 'not comparable: collations order differently' };
    return { column, category, scale: scaleOf(column.targetType), ordered, index };
  });
}

const hasSum = (c: AggregateCategory): boolean => c === 'integer' || c === 'exact' || c === 'float' || c === 'real' || c === 'bool';

/** The SQL Server side. Every CONVERT names its length: varchar without one is varchar(30) and truncates. */
export function mssqlAggregateSql(table: TableMapping, plan: ColumnAggregatePlan[]): string {
  const parts = plan.flatMap((p) => {
    const c = msIdent(p.column.source);
    const i = p.index;
    // COUNT of a CASE: COUNT(col) refuses text, ntext and image.
    const out = [`CONVERT(varchar(20), COUNT_BIG(CASE WHEN ${c} IS NOT NULL THEN 1 END)) AS c${i}_n`];
    const mm = p.ordered === true ? msMinMax(p, c) : null;
    if (mm) out.push(`${mm('MIN')} AS c${i}_min`, `${mm('MAX')} AS c${i}_max`);
    if (hasSum(p.category)) out.push(`${msSum(p, c)} AS c${i}_sum`);
    return out;
  });
  return `SELECT ${parts.join(', ')} FROM ${msTable(table.source)}`;
}

function msMinMax(p: ColumnAggregatePlan, c: string): ((f: 'MIN' | 'MAX') => string) | null {
  switch (p.category) {
    case 'integer':
      return (f) => `CONVERT(varchar(20), ${f}(${c}))`;
    case 'exact':
      return (f) => `CONVERT(varchar(60), CONVERT(decimal(38,${p.scale}), ${f}(${c})))`;
    case 'float':
    case 'real':
      // Style 3: 17 significant digits, enough to round-trip a double.
      return (f) => `CONVERT(varchar(40), CONVERT(float, ${f}(${c})), 3)`;
    case 'bool':
      return (f) => `CONVERT(varchar(1), ${f}(CAST(${c} AS int)))`;
    case 'date':
      return (f) => `CONVERT(varchar(10), ${f}(${c}), 23)`;
    case 'time':
      return (f) => `CONVERT(varchar(16), ${f}(${c}))`;
    case 'timestamp':
      return (f) => `CONVERT(varchar(27), ${f}(${c}), 121)`;
    case 'instant':
      // Compared as UTC instants: the offsets a value was written with need not survive the trip.
      return (f) => `CONVERT(varchar(27), CONVERT(datetime2(7), SWITCHOFFSET(${f}(${c}), '+00:00')), 121)`;
    case 'text':
      return (f) => `${f}(${c})`;
    case 'unordered':
      return null;
  }
}

function msSum(p: ColumnAggregatePlan, c: string): string {
  if (p.category === 'integer' || p.category === 'exact') return `CONVERT(varchar(60), SUM(CONVERT(decimal(38,${p.scale}), ${c})))`;
  // bigint, not int: an int SUM overflows past 2^31 true values.
  if (p.category === 'bool') return `CONVERT(varchar(20), SUM(CAST(${c} AS bigint)))`;
  return `CONVERT(varchar(40), SUM(CONVERT(float, ${c})), 3)`;
}

/** The PostgreSQL side, mirroring the SQL Server text forms (timestamps with 6 fractional digits). */
export function postgresAggregateSql(table: TableMapping, plan: ColumnAggregatePlan[], options: Pick<AggregateOptions, 'zone'>): string {
  const parts = plan.flatMap((p) => {
    const c = pgIdent(p.column.target);
    const i = p.index;
    const out = [`count(${c})::text AS c${i}_n`];
    const mm = p.ordered === true ? pgMinMax(p, c, options.zone) : null;
    if (mm) out.push(`${mm('min')} AS c${i}_min`, `${mm('max')} AS c${i}_max`);
    if (hasSum(p.category)) out.push(`${pgSum(p, c)} AS c${i}_sum`);
    return out;
  });
  return `SELECT ${parts.join(', ')} FROM ${quoteQualified(table.target.schema, table.target.name)}`;
}

function pgMinMax(p: ColumnAggregatePlan, c: string, zone: string | null): ((f: 'min' | 'max') => string) | null {
  switch (p.category) {
    case 'integer':
    case 'exact':
      return (f) => `${f}(${c})::numeric::text`;
    case 'float':
    case 'real':
      return (f) => `${f}(${c})::float8::text`;
    case 'bool':
      return (f) => `${f}(${c}::int)::text`;
    case 'date':
      return (f) => `to_char(${f}(${c}), 'YYYY-MM-DD')`;
    case 'time':
      return (f) => `to_char(date '2000-01-01' + ${f}(${c}), 'HH24:MI:SS.US')`;
    case 'timestamp':
      // A wall-clock source loaded as instants (timestamptz) is compared back in the runbook's zone.
      return (f) => `to_char(${f}(${c})${zone && /timestamptz|with time zone/i.test(p.column.targetType) ? ` AT TIME ZONE ${quoteLiteral(zone)}` : ''}, 'YYYY-MM-DD HH24:MI:SS.US')`;
    case 'instant':
      return (f) => `to_char(${f}(${c}) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')`;
    case 'text':
      return (f) => `${f}(${c} COLLATE "C")`;
    case 'unordered':
      return null;
  }
}

function pgSum(p: ColumnAggregatePlan, c: string): string {
  if (p.category === 'integer' || p.category === 'exact') return `sum(${c}::numeric)::text`;
  if (p.category === 'bool') return `sum(${c}::int)::text`;
  return `sum(${c}::float8)::text`;
}
