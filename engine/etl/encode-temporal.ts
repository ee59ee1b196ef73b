/**
 * Date and time values for COPY text: validated field by field and rounded
 * to the target's fractional precision here, so PostgreSQL stores exactly the
 * text we send and never rounds on its own.
 *
 * Rounding rule (SQL Server keeps 7 fractional digits, PostgreSQL at most 6):
 * round half up on the decimal digits (…0000005 → …000001), carrying into
 * seconds, minutes, hours and the date. This is what SQL Server does when it
 * converts datetime2(7) to datetime2(6), the form validation uses as canonical
 * text, so both sides agree. PostgreSQL's own input rounding is not used: it
 * applies rint() to a binary double (checked on PostgreSQL 15: .1234565 →
 * .123456 but .1234575 → .123458), which no canonical text can reproduce.
 *
 * Saturation: a value within half a tick of the type's maximum
 * (9999-12-31 23:59:59.9999999, the end-of-time sentinel of temporal tables;
 * time 23:59:59.9999999) would carry into year 10000 or 24:00:00, which
 * SQL Server cannot hold back; it becomes the maximum at the target precision
 * (…23:59:59.999999) instead.
 *
 * Hand-written parsing (no regex, one reused scratch record): this runs for
 * every temporal value of every row and was the encoder's hottest path.
 */

export type TemporalKind = 'date' | 'time' | 'timestamp' | 'timestamptz';
/** A COPY field, or why the value was refused. */
export type FieldResult = string | { readonly reason: string };

/** Scratch fields of the value being encoded; safe to share because encoding is synchronous. */
const F = { y: 0, mo: 0, d: 0, h: 0, mi: 0, s: 0, frac: '' };

const pad = (n: number, w: number): string => String(n).padStart(w, '0');
const isLeap = (y: number): boolean => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const daysIn = (y: number, m: number): number => (m === 2 && isLeap(y) ? 29 : (DAYS[m - 1] ?? 0));

/** Fractional-second digits the target keeps: the "(n)" of time(n)/timestamp(n)/timestamptz(n), else 6. */
export function temporalPrecision(targetType: string): number {
  const m = /\(\s*(\d)\s*\)/.exec(targetType);
  return m ? Math.min(Number(m[1]), 6) : 6;
}

/** Unsigned decimal of exactly `len` digits at `at`, or -1. */
function digits(s: string, at: number, len: number): number {
  let n = 0;
  for (let i = at; i < at + len; i++) {
    const c = s.charCodeAt(i) - 48;
    if (!(c >= 0 && c <= 9)) return -1;
    n = n * 10 + c;
  }
  return n;
}

/** Reads YYYY-MM-DD at 0 into F; false when the shape is wrong. */
function readDate(s: string): boolean {
  F.y = digits(s, 0, 4);
  F.mo = digits(s, 5, 2);
  F.d = digits(s, 8, 2);
  return F.y >= 0 && F.mo >= 0 && F.d >= 0 && s.charCodeAt(4) === 45 && s.charCodeAt(7) === 45;
}

/** Reads hh:mm:ss[.f{1,7}] at `at` into F; returns the index after it, or -1. */
function readTime(s: string, at: number): number {
  F.h = digits(s, at, 2);
  F.mi = digits(s, at + 3, 2);
  F.s = digits(s, at + 6, 2);
  if (F.h < 0 || F.mi < 0 || F.s < 0 || s.charCodeAt(at + 2) !== 58 || s.charCodeAt(at + 5) !== 58) return -1;
  let end = at + 8;
  F.frac = '';
  if (s.charCodeAt(end) === 46) {
    let i = end + 1;
    while (i < s.length && i - end <= 7 && digits(s, i, 1) >= 0) i++;
    if (i === end + 1) return -1;
    F.frac = s.slice(end + 1, i);
    end = i;
  }
  return end;
}

function dateProblem(): string | null {
  if (F.y < 1 || F.y > 9999) return `year ${F.y} outside 1..9999`;
  if (F.mo < 1 || F.mo > 12) return `month ${F.mo} outside 1..12`;
  if (F.d < 1 || F.d > daysIn(F.y, F.mo)) return `day ${F.d} does not exist in ${pad(F.y, 4)}-${pad(F.mo, 2)}`;
  return null;
}

function timeProblem(): string | null {
  return F.h > 23 || F.mi > 59 || F.s > 59 ? `time ${pad(F.h, 2)}:${pad(F.mi, 2)}:${pad(F.s, 2)} out of range` : null;
}

/** Adds one second to F with carry; false when it would pass the maximum of the type. */
function addSecond(withDate: boolean): boolean {
  if (++F.s < 60) return true;
  F.s = 0;
  if (++F.mi < 60) return true;
  F.mi = 0;
  if (++F.h < 24) return true;
  if (!withDate) return false;
  F.h = 0;
  if (++F.d <= daysIn(F.y, F.mo)) return true;
  F.d = 1;
  if (++F.mo <= 12) return true;
  F.mo = 1;
  return ++F.y <= 9999;
}

/** Rounds F.frac to `places` (half up); at the type's maximum, saturates (see the module comment). */
function round(places: number, withDate: boolean): void {
  const up = F.frac.charCodeAt(places) >= 53; // '5'
  const kept = F.frac.slice(0, places);
  if (!up) {
    F.frac = kept;
    return;
  }
  const bumped = places === 0 ? 1 : Number(kept) + 1;
  if (bumped < 10 ** places) {
    F.frac = pad(bumped, places);
    return;
  }
  F.frac = '0'.repeat(places);
  if (!addSecond(withDate)) Object.assign(F, { h: 23, mi: 59, s: 59, frac: '9'.repeat(places) }, withDate ? { y: 9999, mo: 12, d: 31 } : {});
}

const dateText = (): string => `${pad(F.y, 4)}-${pad(F.mo, 2)}-${pad(F.d, 2)}`;
const timeText = (): string => `${pad(F.h, 2)}:${pad(F.mi, 2)}:${pad(F.s, 2)}${F.frac ? `.${F.frac}` : ''}`;
const shapeError = (kind: TemporalKind): FieldResult => ({ reason: `not a ${kind} in the expected form` });

/** Validates and renders one temporal value; `places` from temporalPrecision(targetType). */
export function encodeTemporal(kind: TemporalKind, s: string, places: number): FieldResult {
  if (kind === 'date') {
    if (s.length !== 10 || !readDate(s)) return shapeError(kind);
    const bad = dateProblem();
    return bad ? { reason: bad } : s;
  }
  const withDate = kind !== 'time';
  const at = withDate ? 11 : 0;
  if (withDate && (s.length < 19 || !readDate(s) || (s.charCodeAt(10) !== 32 && s.charCodeAt(10) !== 84))) return shapeError(kind);
  const end = readTime(s, at);
  if (end < 0 || (kind !== 'timestamptz' && end !== s.length)) return shapeError(kind);
  const bad = (withDate ? dateProblem() : null) ?? timeProblem();
  if (bad) return { reason: bad };
  // Already canonical (space separator, no more digits than the target keeps): send it as it is.
  const canonical = F.frac.length <= places && (!withDate || s.charCodeAt(10) === 32);
  if (!canonical && F.frac.length > places) round(places, withDate);
  const local = canonical ? s.slice(0, end) : withDate ? `${dateText()} ${timeText()}` : timeText();
  return kind === 'timestamptz' ? withOffset(s, end, local) : local;
}

/** Appends the offset (" +hh:mm", "+hh:mm" or "Z" after `end`) as "+hh:mm"; the instant stays exact. */
function withOffset(s: string, end: number, local: string): FieldResult {
  let i = s.charCodeAt(end) === 32 ? end + 1 : end;
  if (s.length === i + 1 && s.charCodeAt(i) === 90) return `${local}+00:00`;
  const sign = s.charCodeAt(i);
  const oh = digits(s, ++i, 2);
  const om = digits(s, i + 3, 2);
  if ((sign !== 43 && sign !== 45) || oh < 0 || om < 0 || s.charCodeAt(i + 2) !== 58 || s.length !== i + 5) return shapeError('timestamptz');
  const text = s.slice(i - 1, i + 5);
  if (om > 59 || oh * 60 + om > 14 * 60) return { reason: `offset ${text} outside -14:00..+14:00` };
  return `${local}${text}`;
}
