import type { ColumnMapping } from '../etl/contracts.js';
import { isFixedLength } from './canonical.js';
import { CutoverError } from '../../runbook/errors.js';

/**
 * canonical.ts's row form as PostgreSQL expressions over the target columns,
 * hashed with sha256(convert_to(text, 'UTF8')). Every item is built as
 * COALESCE(<len> || ':' || <text>, '\N'): || yields NULL for a NULL value, so
 * no CASE is needed. Types of fixed width carry a constant length (cheaper
 * than measuring every value). Pure: no driver here.
 */

export const pgIdent = (name: string): string => `"${name.replaceAll('"', '""')}"`;
export const pgTable = (t: { schema: string; name: string }): string => `${pgIdent(t.schema)}.${pgIdent(t.name)}`;
const literal = (s: string): string => `'${s.replaceAll("'", "''")}'`;

export interface PgCanonicalOptions {
  /** The runbook's zone when wall-clock source times were loaded as timestamptz (timezone: { zone }). */
  zone?: string | null;
}

const isTz = (targetType: string): boolean => /^timestamptz|with time zone/i.test(targetType.trim());
const STAMP = `'YYYY-MM-DD HH24:MI:SS.US'`;

/** The canonical text of one column (NULL for NULL), without its length prefix. */
export function pgCanonicalValue(column: ColumnMapping, options: PgCanonicalOptions = {}, alias = ''): string {
  const c = `${alias}${pgIdent(column.target)}`;
  switch (column.kind) {
    case 'int':
      return `${c}::text`;
    case 'exact':
      // trim_scale (PostgreSQL 13+) drops trailing fraction zeros; numeric has no negative zero.
      return `trim_scale(${c}::numeric)::text`;
    case 'bool':
      return `CASE WHEN ${c} THEN '1' WHEN NOT ${c} THEN '0' END`;
    case 'text':
      return isFixedLength(column) ? `rtrim(${c}::text, ' ')` : `${c}::text`;
    case 'bytes':
      return `encode(${c}, 'hex')`;
    case 'uuid':
      return `lower(${c}::text)`;
    case 'date':
      return `to_char(${c}, 'YYYY-MM-DD')`;
    case 'time':
      return `to_char(${c}, 'HH24:MI:SS.US')`;
    case 'timestamp':
      // With timezone: { zone } the ETL stored the wall clock as an instant in that zone; read the wall clock back.
      return isTz(column.targetType) ? `to_char(${c} AT TIME ZONE ${literal(options.zone ?? 'UTC')}, ${STAMP})` : `to_char(${c}, ${STAMP})`;
    case 'timestamptz':
      return `to_char(${c} AT TIME ZONE 'UTC', ${STAMP})`;
    case 'float':
      throw new CutoverError('checksum.float_in_row', `float column ${column.target} is not part of the canonical row`);
  }
}

const FIXED: Partial<Record<ColumnMapping['kind'], number>> = { uuid: 36, date: 10, time: 15, timestamp: 26, timestamptz: 26 };

/** One `<len>:<text>` item or '\N'. */
export function pgItem(column: ColumnMapping, options: PgCanonicalOptions = {}, alias = ''): string {
  const v = pgCanonicalValue(column, options, alias);
  const c = `${alias}${pgIdent(column.target)}`;
  const fixed = FIXED[column.kind];
  if (fixed !== undefined) return `COALESCE('${fixed}:' || ${v}, '\\N')`;
  if (column.kind === 'bool') return `COALESCE('1:' || ${v}, '\\N')`;
  if (column.kind === 'bytes') return `COALESCE((octet_length(${c}) * 2)::text || ':' || ${v}, '\\N')`;
  return `COALESCE(octet_length(${v})::text || ':' || ${v}, '\\N')`;
}

/** The row text over the given (hashed) columns. */
export const pgRowText = (columns: readonly ColumnMapping[], options: PgCanonicalOptions = {}, alias = ''): string =>
  columns.length === 0 ? `''` : columns.map((c) => pgItem(c, options, alias)).join(` || '|' || `);

/** bytea SHA-256 of the row text's UTF-8 bytes. */
export const pgRowHash = (columns: readonly ColumnMapping[], options: PgCanonicalOptions = {}, alias = ''): string =>
  `sha256(convert_to(${pgRowText(columns, options, alias)}, 'UTF8'))`;

/** The 60-bit slice (first 15 hex digits) of a bytea hash, as bigint; sum() of bigint is numeric in PostgreSQL, so sums never overflow. */
export const pgHashSlice = (hash: string): string => `('x' || substr(encode(${hash}, 'hex'), 1, 15))::bit(60)::bigint`;

/** The key's bucket value: 48 bits of the SHA-256 of its canonical key text (canonical.ts keyBucketValue). */
export const pgKeyBucket = (keyColumns: readonly ColumnMapping[], options: PgCanonicalOptions = {}, alias = ''): string =>
  `('x' || substr(encode(${pgRowHash(keyColumns, options, alias)}, 'hex'), 1, 12))::bit(48)::bigint`;
