import { createHash } from 'node:crypto';
import type { ColumnMapping, SourceValue, TableMapping } from '../etl/contracts.js';
import { encodeTemporal, temporalPrecision } from '../etl/encode-temporal.js';
import { CutoverError } from '../../runbook/errors.js';

/**
 * The canonical text of a row, defined once. Both databases produce it
 * (canonical-mssql.ts, canonical-pg.ts) and this module is the reference they
 * are tested against. Per ValueKind (engine/etl/contracts.ts):
 *
 * | kind        | canonical text                                                     | example                       |
 * |-------------|--------------------------------------------------------------------|-------------------------------|
 * | int         | decimal integer                                                    | `-42`                         |
 * | exact       | decimal without trailing fraction zeros, no '.' when integral, no '-0', no '+' | `1.5` for 1.5000, money too |
 * | bool        | `1` / `0`                                                          | `1`                           |
 * | text        | as stored; char/nchar (fixed length) right-trimmed of spaces only  | `Grüße 😀`                    |
 * | bytes       | lower-case hex, no prefix                                          | `0001ff`                      |
 * | uuid        | lower-case, 36 characters                                          | `6f9619ff-8b86-…`             |
 * | date        | `YYYY-MM-DD`                                                       | `0001-01-01`                  |
 * | time        | `HH:MM:SS.ffffff`, after the ETL's rounding to the target precision | `23:59:59.999999`            |
 * | timestamp   | `YYYY-MM-DD HH:MM:SS.ffffff`, wall clock, after the ETL's rounding | `2004-01-15 10:20:30.123457`  |
 * | timestamptz | the UTC instant as `YYYY-MM-DD HH:MM:SS.ffffff`                    | `2024-03-09 09:30:00.123457`  |
 * | float       | excluded: never hashed (binary floats print differently in each engine); validate.aggregates compares them within their precision |
 *
 * Row form: each hashed column in mapping order as `<n>:<text>` where n is
 * the UTF-8 byte length of text (so 'ab'+'c' ≠ 'a'+'bc' and no separator
 * inside a value can fake a boundary), or `\N` for NULL (distinct from the
 * empty string `0:`), joined by `|`. Row hash: SHA-256 of the UTF-8 bytes of
 * the row text. Byte lengths, not character counts: SQL Server and
 * PostgreSQL disagree on how many characters an emoji is, never on its
 * UTF-8 bytes.
 */
export const NULL_ITEM = '\\N';
export const ITEM_SEPARATOR = '|';

/** Columns that take part in the row hash (floats do not, see above). */
export const hashedColumns = (table: TableMapping): ColumnMapping[] => table.columns.filter((c) => c.kind !== 'float');

/** char/nchar pad to their length; only these are right-trimmed. */
export const isFixedLength = (column: ColumnMapping): boolean => /^n?char\b/i.test(column.sourceType.trim()) || /^n?character\s*\(/i.test(column.sourceType.trim());

/** Normalises an exact decimal literal: '+001.500' → '1.5', '-0.00' → '0'. */
export function canonicalDecimal(text: string): string {
  let s = text.trim();
  let neg = false;
  if (s.startsWith('-') || s.startsWith('+')) {
    neg = s.startsWith('-');
    s = s.slice(1);
  }
  let [int = '', frac = ''] = s.split('.');
  int = int.replace(/^0+/, '') || '0';
  frac = frac.replace(/0+$/, '');
  const body = frac ? `${int}.${frac}` : int;
  return neg && body !== '0' ? `-${body}` : body;
}

const pad2 = (n: number): string => String(n).padStart(2, '0');

/** 'YYYY-MM-DD hh:mm:ss[.f]' + offset ('+hh:mm') → the UTC instant; years 1..9999 (Date.UTC would map 0..99 to 19xx). */
function toUtc(local: string, offset: string): string {
  const sign = offset.startsWith('-') ? -1 : 1;
  const minutes = sign * (Number(offset.slice(1, 3)) * 60 + Number(offset.slice(4, 6)));
  const d = new Date(0);
  d.setUTCFullYear(Number(local.slice(0, 4)), Number(local.slice(5, 7)) - 1, Number(local.slice(8, 10)));
  d.setUTCHours(Number(local.slice(11, 13)), Number(local.slice(14, 16)) - minutes, Number(local.slice(17, 19)), 0);
  const date = `${String(d.getUTCFullYear()).padStart(4, '0')}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}`;
  return `${date} ${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}${local.slice(19)}`;
}

/** Pads (or adds) the fraction of a time text at `dot` to 6 digits. */
function sixDigits(text: string, dot: number): string {
  const frac = text.length > dot && text[dot] === '.' ? text.slice(dot + 1) : '';
  return `${text.slice(0, dot)}.${frac.padEnd(6, '0')}`;
}

function temporalText(v: string, column: ColumnMapping): string {
  const kind = column.kind as 'date' | 'time' | 'timestamp' | 'timestamptz';
  // The ETL's own rounding (encode-temporal.ts), so the reference is what the target actually holds.
  const encoded = encodeTemporal(kind, v, temporalPrecision(column.targetType));
  const s = typeof encoded === 'string' ? encoded : v;
  if (kind === 'date') return s;
  if (kind === 'time') return sixDigits(s, 8);
  if (kind === 'timestamp') return sixDigits(s, 19);
  const m = /^(.*?)([+-]\d\d:\d\d)$/.exec(s);
  return m ? toUtc(sixDigits(m[1] ?? '', 19), m[2] ?? '+00:00') : s;
}

/**
 * One value's canonical text, or null for NULL. Takes the value as the mssql
 * adapter delivers it (SourceValue) or as a field of the ETL's COPY text
 * (booleans 't'/'f', bytea '\x…'), so snapshots canonicalise the same way.
 */
export function canonicalValue(value: SourceValue, column: ColumnMapping): string | null {
  if (value === null) return null;
  switch (column.kind) {
    case 'float':
      throw new CutoverError('checksum.float_in_row', `float column ${column.source} is not part of the canonical row`);
    case 'int':
      return String(value);
    case 'exact':
      return canonicalDecimal(String(value));
    case 'bool':
      return value === true || value === 't' || value === '1' || value === 1 ? '1' : '0';
    case 'text': {
      const s = String(value);
      return isFixedLength(column) ? s.replace(/ +$/, '') : s;
    }
    case 'bytes':
      if (Buffer.isBuffer(value)) return value.toString('hex');
      return String(value).replace(/^\\x/, '').toLowerCase();
    case 'uuid':
      return String(value).toLowerCase();
    default:
      return temporalText(String(value), column);
  }
}

/** `<utf8 bytes>:<text>` or the NULL marker. */
export const canonicalItem = (text: string | null): string => (text === null ? NULL_ITEM : `${Buffer.byteLength(text, 'utf8')}:${text}`);

/** The row form over already-canonical texts, one per hashed column. */
export const joinItems = (texts: Array<string | null>): string => texts.map(canonicalItem).join(ITEM_SEPARATOR);

/** The reference: canonical row text of `values` (one per column of `columns`, floats skipped). */
export function canonicalRow(values: readonly SourceValue[], columns: readonly ColumnMapping[]): string {
  const texts: Array<string | null> = [];
  columns.forEach((c, i) => {
    if (c.kind !== 'float') texts.push(canonicalValue(values[i] ?? null, c));
  });
  return joinItems(texts);
}

/** Hex SHA-256 of the UTF-8 bytes of a row text. */
export const rowHash = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

/** The 60-bit slice of a row hash that segment sums add up: its first 15 hex digits. */
export const hashSlice = (hex: string): bigint => BigInt(`0x${hex.slice(0, 15)}`);

/** Bucket number of a key (48 bits of the SHA-256 of its canonical key text); both engines compute the same. */
export const keyBucketValue = (keyText: string): bigint => BigInt(`0x${rowHash(keyText).slice(0, 12)}`);
