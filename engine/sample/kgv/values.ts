import type { Prng } from './prng.js';

/**
 * Values in the text forms the mssql adapter delivers them in (see
 * engine/etl/contracts.ts): datetimes as 'YYYY-MM-DD hh:mm:ss.fff' with
 * SQL Server's 1/300 s ticks, datetime2(7) with seven fractional digits, dates
 * as 'YYYY-MM-DD'. Days are counted in UTC so no machine's time zone can
 * change a byte of the sample.
 */

const DAY_MS = 86_400_000;

/** The sample's "today": the last day anything happened in the legacy database before the extract. */
export const SAMPLE_TODAY = Date.UTC(2024, 10, 29);
/** The first working day the legacy application recorded anything. */
export const SAMPLE_FIRST_DAY = Date.UTC(2004, 0, 5);
/** When the sample's extract was taken: the manifest's createdAt, fixed so the manifest is reproducible. */
export const SAMPLE_EXTRACTED_AT = new Date(Date.UTC(2024, 10, 30, 21, 0, 0));

export const addDays = (day: number, days: number): number => day + days * DAY_MS;
export const yearOf = (day: number): number => new Date(day).getUTCFullYear();
export const dayOfYear = (year: number, month: number, date: number): number => Date.UTC(year, month - 1, date);

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** 'YYYY-MM-DD' of a day. */
export function dateText(day: number): string {
  const d = new Date(day);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
}

/** A random moment in office hours (07:30–17:59) as seconds after midnight. */
export function officeSeconds(rng: Prng): number {
  return rng.int(7 * 3600 + 1800, 17 * 3600 + 59 * 60 + 59);
}

function clock(seconds: number): string {
  return `${pad(Math.floor(seconds / 3600))}:${pad(Math.floor(seconds / 60) % 60)}:${pad(seconds % 60)}`;
}

/** A SQL Server `datetime` on that day: milliseconds are 1/300 s ticks (.000, .003, .007, .010, …). */
export function datetimeText(rng: Prng, day: number, seconds = officeSeconds(rng)): string {
  const ms = Math.round((rng.int(0, 299) * 10) / 3);
  return `${dateText(day)} ${clock(seconds)}.${pad(ms, 3)}`;
}

/** A `datetime2(7)` on that day, with all seven fractional digits (100 ns). */
export function datetime2Text(rng: Prng, day: number, seconds = officeSeconds(rng)): string {
  return `${dateText(day)} ${clock(seconds)}.${rng.digits(7)}`;
}

/** A day uniformly between two days (inclusive). */
export function dayBetween(rng: Prng, from: number, to: number): number {
  return from + rng.int(0, Math.max(0, Math.round((to - from) / DAY_MS))) * DAY_MS;
}

/** ASCII for e-mail local parts and logins: ä → ae, ß → ss, other marks dropped. */
export function asciiName(name: string): string {
  const folded = name
    .toLowerCase()
    .replace(/ä/g, 'ae')
    .replace(/ö/g, 'oe')
    .replace(/ü/g, 'ue')
    .replace(/ß/g, 'ss')
    .replace(/ı/g, 'i')
    .replace(/ł/g, 'l')
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '');
  return folded.replace(/[^a-z0-9-]/g, '');
}
