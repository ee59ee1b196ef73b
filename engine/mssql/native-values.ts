import { CutoverError } from '../../runbook/errors.js';

/**
 * Values tedious reads in their wire form, turned into the text SQL Server's
 * own CONVERT prints for them (the converting forms of select-list.ts), so
 * the ETL need not ask the server to convert them. Pure.
 *
 * Why each is exact (test/unit/mssql-native-values.test.ts runs tedious's own
 * value parser over wire bytes to prove it):
 *  - time, datetime2, datetimeoffset travel as a count of 10^-scale s ticks.
 *    tedious scales it to 100 ns ticks T (an integer below 2^40, exact in a
 *    double), builds its Date from T / 10000 ms — Date.UTC truncates that to
 *    whole milliseconds, and T / 10000 is never within an ulp of the next
 *    integer below 2^27 ms — and keeps the rest as nanosecondsDelta =
 *    (T % 10000) / 1e7. T % 10000 is an integer below 10^4, so
 *    Math.round(nanosecondsDelta * 1e7) returns it; a value that is not
 *    within 0.001 of a whole tick is refused rather than rounded.
 *  - datetime travels as days and 1/300 s ticks; tedious rounds ticks × 10/3
 *    to the millisecond, which is SQL Server's own .000/.003/.007 display.
 *  - date and smalldatetime are whole days and minutes.
 *  - decimal/numeric of precision ≤ 15 and smallmoney: the scaled integer is
 *    below 2^53, its division by 10^scale is the double nearest the decimal,
 *    and a decimal of ≤ 15 significant digits is the only one that rounds to
 *    that double, so toFixed(scale) gives back its digits.
 * Dates are read through their UTC fields: tedious builds them with
 * Date.UTC while useUTC is on, which engine/connections.ts never turns off.
 */

/** The part of a tedious Date that the fractional digits live in. */
export type DriverDate = Date & { nanosecondsDelta?: number };

const MS_PER_DAY = 86_400_000;
const TWO = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));

const bad = (what: string): CutoverError => new CutoverError('mssql.bad_value', `the driver handed over ${what}`);

/** Proleptic Gregorian year, month, day of a day number counted from 1970-01-01 (H. Hinnant's civil_from_days). */
function civil(days: number): { y: number; m: number; d: number } {
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return { y: yoe + era * 400 + (m <= 2 ? 1 : 0), m, d };
}

function epochMs(v: DriverDate): number {
  const ms = v.getTime();
  if (!Number.isFinite(ms)) throw bad('an invalid date');
  return ms;
}

function dayText(days: number): string {
  const { y, m, d } = civil(days);
  return `${y < 1000 ? String(y).padStart(4, '0') : y}-${TWO[m]}-${TWO[d]}`;
}

function clockText(msOfDay: number): string {
  const s = Math.floor(msOfDay / 1000);
  return `${String(Math.floor(s / 3600)).padStart(2, '0')}:${TWO[Math.floor(s / 60) % 60]}:${TWO[s % 60]}`;
}

/** The 100 ns ticks below the millisecond that tedious keeps in nanosecondsDelta. */
function subMillisecondTicks(v: DriverDate): number {
  const delta = v.nanosecondsDelta;
  if (typeof delta !== 'number') throw bad('a time value without its sub-millisecond part (nanosecondsDelta)');
  const scaled = delta * 1e7;
  const ticks = Math.round(scaled);
  if (!(ticks >= 0 && ticks < 10_000) || Math.abs(scaled - ticks) > 1e-3) throw bad(`a sub-millisecond part of ${delta} s, not a whole number of 100 ns ticks`);
  return ticks;
}

/** ".fffffff" cut to `scale` digits, as SQL Server prints a time of that scale ("" for scale 0). */
function fraction(msOfDay: number, v: DriverDate, scale: number): string {
  if (scale === 0) return '';
  const ticks = (msOfDay % 1000) * 10_000 + subMillisecondTicks(v);
  return `.${String(ticks).padStart(7, '0').slice(0, scale)}`;
}

function split(ms: number): { days: number; msOfDay: number } {
  const days = Math.floor(ms / MS_PER_DAY);
  return { days, msOfDay: ms - days * MS_PER_DAY };
}

/** date → 'yyyy-mm-dd' (CONVERT style 23). */
export function dateText(v: DriverDate): string {
  return dayText(split(epochMs(v)).days);
}

/**
 * time(scale) → 'hh:mm:ss[.f…]' with `scale` digits (CONVERT's default
 * style). The hours are not taken modulo 24: a time SQL Server never sends
 * but a stand-in may (Babelfish stores 23:59:59.9999999 as 24:00:00) prints
 * as 24:… and the encoder quarantines it, instead of wrapping to midnight.
 */
export function timeText(v: DriverDate, scale: number): string {
  const ms = epochMs(v);
  if (ms < 0) throw bad(`a time before midnight (${ms} ms)`);
  return clockText(ms) + fraction(ms, v, scale);
}

/** datetime2(scale) → 'yyyy-mm-dd hh:mm:ss[.f…]' with `scale` digits (style 121). */
export function datetime2Text(v: DriverDate, scale: number): string {
  const { days, msOfDay } = split(epochMs(v));
  return `${dayText(days)} ${clockText(msOfDay)}${fraction(msOfDay, v, scale)}`;
}

/** datetime → 'yyyy-mm-dd hh:mm:ss.mmm' (style 121 always prints three digits). */
export function datetimeText(v: DriverDate): string {
  const { days, msOfDay } = split(epochMs(v));
  return `${dayText(days)} ${clockText(msOfDay)}.${String(msOfDay % 1000).padStart(3, '0')}`;
}

/**
 * datetimeoffset(scale) → 'yyyy-mm-dd hh:mm:ss[.f…] ±hh:mm' (style 121): the
 * wall-clock time at its offset. tedious's Date is the UTC instant and drops
 * the offset, so the offset comes from the server (DATEPART(TZOFFSET, …)).
 */
export function datetimeoffsetText(v: DriverDate, scale: number, offsetMinutes: number): string {
  if (!Number.isInteger(offsetMinutes) || Math.abs(offsetMinutes) > 14 * 60) throw bad(`a time-zone offset of ${offsetMinutes} minutes`);
  const { days, msOfDay } = split(epochMs(v) + offsetMinutes * 60_000);
  const abs = Math.abs(offsetMinutes);
  const zone = `${offsetMinutes < 0 ? '-' : '+'}${TWO[Math.floor(abs / 60)]}:${TWO[abs % 60]}`;
  return `${dayText(days)} ${clockText(msOfDay)}${fraction(msOfDay, v, scale)} ${zone}`;
}

/** The most significant digits a double gives back exactly. */
export const EXACT_DIGITS = 15;

/** decimal/numeric of precision ≤ 15, smallmoney → its digits with `scale` decimals (CONVERT to varchar). */
export function fixedText(v: number, scale: number): string {
  if (!(Math.abs(v) < 10 ** (EXACT_DIGITS - scale))) throw bad(`${v}, beyond the ${EXACT_DIGITS} digits a JavaScript number holds exactly with ${scale} decimals`);
  return v.toFixed(scale);
}
