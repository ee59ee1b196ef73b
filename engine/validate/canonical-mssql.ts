import type { ColumnMapping } from '../etl/contracts.js';
import { baseType, quoteIdent, selectExpression } from '../mssql/select-list.js';
import { isFixedLength } from './canonical.js';
import { temporalPrecision } from '../etl/encode-temporal.js';
import { CutoverError } from '../../runbook/errors.js';

/**
 * canonical.ts's row form as T-SQL. HASHBYTES hashes the bytes of its
 * argument: nvarchar as UTF-16LE, varchar in its collation's code page. Only
 * a _UTF8 collation (SQL Server 2019+) turns the text into the UTF-8 bytes
 * PostgreSQL hashes, hence UTF8_COLLATION below; without it the worker hashes
 * the canonical text SQL Server streams (MssqlChecksumSource 'client').
 * HASHBYTES takes at most 8,000 bytes of input before SQL Server 2016: wide
 * rows need 2016+ (or client hashing). Every CONVERT to a string names its
 * length (varchar without one is varchar(30) and truncates). Pure.
 */
export const UTF8_COLLATION = 'Latin1_General_100_CI_AS_SC_UTF8';

/** CONVERT(varchar(50), d) with trailing fraction zeros, a bare '.', and '-0' removed (canonicalDecimal). */
function trimmedDecimal(s: string): string {
  // Zeros → spaces, RTRIM, spaces → zeros: strips trailing zeros only (the text has no spaces of its own).
  const t = `(CASE WHEN ${s} LIKE '%.%' THEN REPLACE(RTRIM(REPLACE(${s}, '0', ' ')), ' ', '0') ELSE ${s} END)`;
  const u = `(CASE WHEN ${t} LIKE '%.' THEN LEFT(${t}, LEN(${t}) - 1) ELSE ${t} END)`;
  return `(CASE WHEN ${u} = '-0' THEN '0' ELSE ${u} END)`;
}

/**
 * `<style text of whole seconds>.ffffff` built from DATEPART(microsecond): the fraction always has six
 * digits, whatever the server's style 121 does with zeros (Babelfish prints fewer).
 */
function sixDigitText(value: string, style: number, length: number): string {
  return `(CONVERT(varchar(${length}), ${value}, ${style}) + '.' + RIGHT('000000' + CONVERT(varchar(6), DATEPART(microsecond, ${value})), 6))`;
}

/** datetime2(7) → the ETL's rounding to `places` → 6 digits; the type's maximum saturates as encode-temporal.ts does. */
function stamp(dt2: string, places: number): string {
  const rounded = places < 7 ? `CONVERT(datetime2(${places}), ${dt2})` : dt2;
  const text = sixDigitText(`CONVERT(datetime2(6), ${rounded})`, 120, 19);
  return `(CASE WHEN ${dt2} >= CONVERT(datetime2(7), '9999-12-31 23:59:59.9999995') THEN '9999-12-31 23:59:59.${'9'.repeat(places).padEnd(6, '0')}' ELSE ${text} END)`;
}

/** The canonical text of one column as a T-SQL expression (NULL for NULL). */
export function msCanonicalValue(column: ColumnMapping): string {
  const c = quoteIdent(column.source);
  const type = baseType(column.sourceType);
  const places = temporalPrecision(column.targetType);
  switch (column.kind) {
    case 'int':
      return `CONVERT(varchar(20), ${c})`;
    case 'exact':
      return trimmedDecimal(selectExpression(column));
    case 'bool':
      return `(CASE WHEN ${c} = 1 THEN '1' WHEN ${c} = 0 THEN '0' END)`;
    case 'text': {
      const text = `CONVERT(nvarchar(max), ${selectExpression(column)})`;
      // RTRIM removes spaces only, as PostgreSQL's char semantics do.
      return isFixedLength(column) ? `RTRIM(${text})` : text;
    }
    case 'bytes':
      return `LOWER(CONVERT(varchar(max), CONVERT(varbinary(max), ${c}), 2))`;
    case 'uuid':
      return `LOWER(CONVERT(char(36), ${c}))`;
    case 'date':
      return `CONVERT(varchar(10), ${c}, 23)`;
    case 'time': {
      const rounded = places < 7 ? `CONVERT(time(${places}), ${c})` : c;
      return `(CASE WHEN ${c} >= CONVERT(time(7), '23:59:59.9999995') THEN '23:59:59.${'9'.repeat(places).padEnd(6, '0')}' ELSE ${sixDigitText(`CONVERT(time(6), ${rounded})`, 108, 8)} END)`;
    }
    case 'timestamp':
      // Through the ETL's own text form: datetime's style 121 has 3 digits (.997), not datetime2's .9966667.
      return stamp(type === 'datetime2' ? c : `CONVERT(datetime2(7), CONVERT(varchar(27), ${c}, 121))`, places);
    case 'timestamptz': {
      const rounded = places < 7 ? `CONVERT(datetimeoffset(${places}), ${c})` : c;
      return sixDigitText(`CONVERT(datetime2(6), SWITCHOFFSET(${rounded}, '+00:00'))`, 120, 19);
    }
    case 'float':
      throw new CutoverError('checksum.float_in_row', `float column ${column.source} is not part of the canonical row`);
  }
}

/** `<utf8 bytes>:<text>` or '\N', as nvarchar; text lengths measured in UTF-8 through the _UTF8 collation. */
export function msItem(column: ColumnMapping, utf8 = true): string {
  const v = msCanonicalValue(column);
  const text = utf8 ? `${v} COLLATE ${UTF8_COLLATION}` : v;
  const bytes = column.kind === 'text' ? `DATALENGTH(CONVERT(varchar(max), ${text}))` : column.kind === 'bytes' ? `DATALENGTH(${quoteIdent(column.source)}) * 2` : `LEN(${v})`;
  return `ISNULL(CONVERT(nvarchar(max), CONVERT(varchar(20), ${bytes}) + ':') + ${v}, N'\\N')`;
}

export const msRowText = (columns: readonly ColumnMapping[], utf8 = true): string =>
  columns.length === 0 ? `N''` : columns.map((c) => msItem(c, utf8)).join(` + N'|' + `);

/** varbinary(32) SHA-256 of the row text's UTF-8 bytes (server mode only). */
export const msRowHash = (columns: readonly ColumnMapping[]): string =>
  `HASHBYTES('SHA2_256', CONVERT(varchar(max), (${msRowText(columns)}) COLLATE ${UTF8_COLLATION}))`;

/** The first 60 bits of a hash as bigint: 7 bytes shifted by 4 plus the high nibble of the 8th (never negative). */
export const msHashSlice = (hash: string): string =>
  `(CONVERT(bigint, 0x00 + SUBSTRING(${hash}, 1, 7)) * 16 + CONVERT(int, SUBSTRING(${hash}, 8, 1)) / 16)`;

/**
 * The key's bucket value: 48 bits of the SHA-256 of its canonical key text.
 * With utf8 false the key text is hashed in the code page, which equals UTF-8
 * for ASCII keys only (integers, GUIDs, ASCII codes).
 */
export function msKeyBucket(keyColumns: readonly ColumnMapping[], utf8: boolean): string {
  const text = `(${msRowText(keyColumns, utf8)})`;
  const bytes = utf8 ? `CONVERT(varchar(max), ${text} COLLATE ${UTF8_COLLATION})` : `CONVERT(varchar(max), ${text})`;
  return `CONVERT(bigint, 0x0000 + SUBSTRING(HASHBYTES('SHA2_256', ${bytes}), 1, 6))`;
}
