import mssql from 'mssql';
import { CutoverError } from '../../runbook/errors.js';
import type { SourceRow, SourceValue } from '../etl/contracts.js';
import { dateText, datetime2Text, datetimeoffsetText, datetimeText, EXACT_DIGITS, fixedText, timeText, type DriverDate } from './native-values.js';

/**
 * Turns the driver's rows into SourceRows: each column decoded by the type
 * the server announced for it (mssql's 'recordset' metadata), so a native
 * date/time or small decimal becomes the text native-values.ts proves exact,
 * and anything the ETL cannot take exactly (a Date of an unknown type, a
 * decimal beyond 15 digits as a number) fails the read instead of loading
 * rounded. Columns past `width` are helpers the select list added (the
 * offsets of datetimeoffset columns, the text of money and wide decimal
 * values beyond 15 digits) and are not part of the row.
 */

/** A column as mssql describes it in arrayRowMode's 'recordset' event. */
export interface DriverColumnMeta {
  type?: unknown;
  scale?: number;
  precision?: number;
}

type Decode = (v: unknown, row: readonly unknown[]) => SourceValue;

const isDate = (v: unknown): v is DriverDate => v instanceof Date;

function describe(v: unknown): string {
  return v instanceof Date ? 'a Date' : Array.isArray(v) ? 'an array' : typeof v;
}

function asIs(what: string, i: number): Decode {
  return (v) => {
    if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' || Buffer.isBuffer(v)) return v;
    throw new CutoverError('mssql.bad_row', `reading ${what}: value ${i + 1} arrived as ${describe(v)}, not in a form the ETL reads exactly`);
  };
}

function temporal(what: string, i: number, text: (v: DriverDate, row: readonly unknown[]) => string): Decode {
  return (v, row) => {
    if (v === null) return null;
    if (!isDate(v)) throw new CutoverError('mssql.bad_row', `reading ${what}: value ${i + 1} arrived as ${describe(v)} where the server announced a date/time`);
    return text(v, row);
  };
}

// Decoders run once per value: whatever they need is built when the decoder is, not per call.
function fixed(what: string, i: number, scale: number): Decode {
  const other = asIs(what, i);
  return (v, row) => (typeof v === 'number' ? fixedText(v, scale) : other(v, row));
}

/** A type the driver reads through a double that cannot hold all its digits: the select list must convert it. */
function rounded(what: string, i: number, type: string): Decode {
  const other = asIs(what, i);
  return (v, row) => {
    if (typeof v !== 'number') return other(v, row);
    throw new CutoverError('mssql.bad_row', `reading ${what}: value ${i + 1} (${type}) arrived as a JavaScript number, which may have rounded it`);
  };
}

/**
 * Money or a wide decimal read natively with its helper: the server's text
 * where it sent one (a value beyond 15 digits), else the driver's number,
 * which fixedText refuses should it be beyond 15 digits after all.
 */
function wide(what: string, i: number, scale: number, textAt: number): Decode {
  const number = fixed(what, i, scale);
  return (v, row) => {
    const text = row[textAt];
    return typeof text === 'string' ? text : number(v, row);
  };
}

function scaleOf(meta: DriverColumnMeta, what: string, i: number): number {
  const s = meta.scale;
  if (typeof s !== 'number' || !Number.isInteger(s) || s < 0 || s > 7) throw new CutoverError('mssql.bad_row', `reading ${what}: the driver gave column ${i + 1} no usable scale (${String(s)})`);
  return s;
}

function columnDecoder(meta: DriverColumnMeta | undefined, i: number, helperAt: number, what: string): Decode {
  const type = meta?.type;
  if (!meta || type === undefined) return asIs(what, i);
  if (type === mssql.Date) return temporal(what, i, dateText);
  if (type === mssql.DateTime || type === mssql.SmallDateTime) return temporal(what, i, datetimeText);
  if (type === mssql.Time) {
    const scale = scaleOf(meta, what, i);
    return temporal(what, i, (v) => timeText(v, scale));
  }
  if (type === mssql.DateTime2) {
    const scale = scaleOf(meta, what, i);
    return temporal(what, i, (v) => datetime2Text(v, scale));
  }
  if (type === mssql.DateTimeOffset) {
    const scale = scaleOf(meta, what, i);
    if (helperAt < 0) throw new CutoverError('mssql.bad_row', `reading ${what}: datetimeoffset column ${i + 1} was selected without its offset`);
    return temporal(what, i, (v, row) => datetimeoffsetText(v, scale, Number(row[helperAt])));
  }
  if (type === mssql.SmallMoney) return fixed(what, i, 4);
  if (type === mssql.Money) return helperAt < 0 ? rounded(what, i, 'money') : wide(what, i, 4, helperAt);
  if (type === mssql.Decimal || type === mssql.Numeric) {
    const precision = meta.precision ?? Infinity;
    if (precision <= EXACT_DIGITS) return fixed(what, i, meta.scale ?? 0);
    if (helperAt < 0) return rounded(what, i, `decimal(${precision},${meta.scale ?? 0})`);
    return wide(what, i, meta.scale ?? 0, helperAt);
  }
  return asIs(what, i);
}

/**
 * A decoder for rows of `width` values (plus the helper columns the select
 * list appended), compiled once per result set. `helpers[i]` is the driver
 * column holding column i's helper (select-list.ts readExpression), or -1.
 */
export function rowDecoder(columns: readonly DriverColumnMeta[] | null, width: number, helpers: readonly number[], what: string): (row: unknown) => SourceRow {
  const decoders = Array.from({ length: width }, (_, i) => columnDecoder(columns?.[i], i, helpers[i] ?? -1, what));
  const driverWidth = columns ? columns.length : width;
  return (row) => {
    if (!Array.isArray(row) || row.length !== driverWidth || driverWidth < width) {
      throw new CutoverError('mssql.bad_row', `reading ${what}: expected a row of ${driverWidth} values from the driver`);
    }
    const out: SourceValue[] = new Array<SourceValue>(width);
    for (let i = 0; i < width; i++) out[i] = (decoders[i] as Decode)(row[i], row);
    return out;
  };
}
