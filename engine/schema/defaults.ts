import type { ValueKind } from '../etl/contracts.js';
import { quoteLiteral } from './naming.js';

/**
 * T-SQL column defaults → PostgreSQL. Only forms whose meaning is certain
 * are translated; anything else is refused with a reason, so the column gets
 * no default and the report lists it — never a silently wrong default.
 */

/** The column a default is for: its ETL kind and its PostgreSQL DDL type. */
export interface DefaultTarget {
  kind: ValueKind;
  targetType: string;
}

export type DefaultTranslation =
  | { ok: true; sql: string; note?: string }
  | { ok: false; reason: string };

type Temporal = 'timestamptz' | 'timestamp' | 'date' | 'time' | null;

const LOCAL_NOTE =
  "the default follows PostgreSQL's TimeZone setting, where getdate() followed the SQL Server host's clock; set TimeZone to that zone";

/** Removes parentheses that wrap the whole text (SQL Server stores `((0))`), respecting string literals. */
export function stripOuterParens(text: string): string {
  let s = text.trim();
  while (s.startsWith('(') && closingParen(s, 0) === s.length - 1) s = s.slice(1, -1).trim();
  return s;
}

/** Index of the parenthesis closing the one at `open`, or -1. */
export function closingParen(s: string, open: number): number {
  let depth = 0;
  let inString = false;
  for (let i = open; i < s.length; i++) {
    const ch = s[i];
    if (inString) {
      // '' inside a literal is an escaped quote, not its end.
      if (ch === "'" && s[i + 1] === "'") i++;
      else if (ch === "'") inString = false;
    } else if (ch === "'") inString = true;
    else if (ch === '(') depth++;
    else if (ch === ')' && --depth === 0) return i;
  }
  return -1;
}

export function translateDefault(expression: string, target: DefaultTarget): DefaultTranslation {
  const body = stripOuterParens(expression);
  const fn = body.toLowerCase().replace(/\s+/g, '');
  if (fn === 'null') return { ok: true, sql: 'NULL' };
  const temporal = temporalOf(target.targetType);
  if (['getdate()', 'sysdatetime()', 'current_timestamp', 'sysdatetimeoffset()'].includes(fn)) return now(temporal, body);
  if (fn === 'getutcdate()' || fn === 'sysutcdatetime()') return utcNow(temporal, body);
  if (fn === 'newid()' || fn === 'newsequentialid()') {
    return target.kind === 'uuid' ? { ok: true, sql: 'gen_random_uuid()' } : refuse(body, 'a GUID default on a non-uuid column');
  }
  if (/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(body)) return numberLiteral(body, target);
  const str = /^N?'((?:[^']|'')*)'$/s.exec(body);
  if (str) return stringLiteral((str[1] ?? '').replaceAll("''", "'"), target, temporal);
  if (/^0x[0-9a-f]*$/i.test(body) && target.kind === 'bytes') {
    return { ok: true, sql: `'\\x${body.slice(2).toLowerCase()}'::bytea` };
  }
  return refuse(body, 'not a form the converter translates');
}

function temporalOf(targetType: string): Temporal {
  const t = targetType.toLowerCase();
  if (t.startsWith('timestamptz') || /^timestamp(\(\d+\))? with time zone/.test(t)) return 'timestamptz';
  if (t.startsWith('timestamp')) return 'timestamp';
  if (t === 'date') return 'date';
  if (t.startsWith('time')) return 'time';
  return null;
}

const refuse = (body: string, why: string): DefaultTranslation => ({ ok: false, reason: `default ${body}: ${why}` });

function now(temporal: Temporal, body: string): DefaultTranslation {
  switch (temporal) {
    case 'timestamptz':
      return { ok: true, sql: 'CURRENT_TIMESTAMP' };
    case 'timestamp':
      return { ok: true, sql: 'LOCALTIMESTAMP', note: LOCAL_NOTE };
    case 'date':
      return { ok: true, sql: 'CURRENT_DATE', note: LOCAL_NOTE };
    case 'time':
      return { ok: true, sql: 'LOCALTIME', note: LOCAL_NOTE };
    default:
      return refuse(body, 'a current-time default on a column that is not date/time');
  }
}

function utcNow(temporal: Temporal, body: string): DefaultTranslation {
  switch (temporal) {
    case 'timestamp':
      return { ok: true, sql: "(now() AT TIME ZONE 'utc')" };
    case 'date':
      return { ok: true, sql: "((now() AT TIME ZONE 'utc')::date)" };
    case 'time':
      return { ok: true, sql: "((now() AT TIME ZONE 'utc')::time)" };
    case 'timestamptz':
      // The column's existing values are then probably UTC wall-clock, not local time in the configured zone.
      return refuse(body, 'UTC wall-clock default on a column converted to timestamptz; check its values and set an override');
    default:
      return refuse(body, 'a current-time default on a column that is not date/time');
  }
}

function numberLiteral(body: string, target: DefaultTarget): DefaultTranslation {
  const integral = /^[+-]?\d+$/.test(body);
  switch (target.kind) {
    case 'bool':
      if (body === '0' || body === '1') return { ok: true, sql: body === '1' ? 'true' : 'false' };
      return refuse(body, 'a bit default other than 0 or 1');
    case 'int':
      // SQL Server truncates 1.5 into an int column, PostgreSQL rounds: only whole numbers are certain.
      return integral ? { ok: true, sql: body } : refuse(body, 'a fractional default on an integer column');
    case 'exact':
    case 'float':
      return { ok: true, sql: body };
    case 'text':
      // SQL Server converts the number to its text; only plain decimals have the same text in both.
      return /[eE]/.test(body) ? refuse(body, 'an exponent literal on a text column') : { ok: true, sql: quoteLiteral(body) };
    default:
      return refuse(body, `a number default on a ${target.targetType} column`);
  }
}

const ISO_DATE = /^\d{4}-?\d{2}-?\d{2}$/;
const ISO_TIME = /^\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?$/;
const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function stringLiteral(value: string, target: DefaultTarget, temporal: Temporal): DefaultTranslation {
  const shown = quoteLiteral(value);
  const ok = (sql: string): DefaultTranslation => ({ ok: true, sql });
  switch (target.kind) {
    case 'text':
      return ok(shown);
    case 'bool': {
      const v = value.trim().toLowerCase();
      if (v === '1' || v === 'true') return ok('true');
      if (v === '0' || v === 'false') return ok('false');
      return refuse(shown, 'a bit default other than 0/1/true/false');
    }
    case 'int':
      return /^[+-]?\d+$/.test(value.trim()) ? ok(value.trim()) : refuse(shown, 'not a whole number');
    case 'exact':
    case 'float':
      return /^[+-]?(\d+(\.\d*)?|\.\d+)$/.test(value.trim()) ? ok(value.trim()) : refuse(shown, 'not a plain number');
    case 'uuid':
      return UUID.test(value.trim()) ? ok(quoteLiteral(value.trim().toLowerCase())) : refuse(shown, 'not a GUID');
    default:
      break;
  }
  // Only ISO forms: other date texts depend on SQL Server's DATEFORMAT and PostgreSQL's DateStyle.
  const iso =
    (temporal === 'date' && ISO_DATE.test(value)) ||
    (temporal === 'time' && ISO_TIME.test(value)) ||
    (temporal === 'timestamp' && (ISO_TIMESTAMP.test(value) || ISO_DATE.test(value)));
  return iso ? ok(shown) : refuse(shown, `not an ISO literal for a ${target.targetType} column`);
}
