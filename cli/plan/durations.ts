import { formatDuration } from '../../runbook/duration.js';
import type { Rates } from './rates.js';
import { loadSeconds, type Sized } from './table-groups.js';

/** Fixed durations of steps whose length does not grow with the data (seed 000's phase timings, per step). */
export const FIXED_SECONDS = {
  checklist: 5 * 60,
  check: 2 * 60,
  freeze: 3 * 60,
  convertReport: 3 * 60,
  rules: 5 * 60,
  signoff: 10 * 60,
  switch: 15 * 60,
  functional: 20 * 60,
  manualRollback: 10 * 60,
  /** Start-up of any database step: connections, catalog reads, bookkeeping. */
  overhead: 30,
} as const;

/** Planned durations are whole minutes, at least one: nobody plans a night in seconds. */
export function planned(seconds: number): { seconds: number; text: string } {
  const minutes = Math.max(1, Math.ceil(seconds / 60));
  return { seconds: minutes * 60, text: formatDuration(minutes * 60).replace(' ', '') };
}

/** A step's timeout: well past its plan (so a slow night is escalated as overrun first, not killed), at least `floor`. */
export const timeoutFor = (plannedSeconds: number, floor = 30 * 60): string => planned(Math.max(floor, plannedSeconds * 3)).text;

const sum = (tables: readonly Sized[], f: (t: Sized) => number): number => tables.reduce((n, t) => n + f(t), 0);
const rows = (tables: readonly Sized[]): number => sum(tables, (t) => t.rows);
const bytes = (tables: readonly Sized[]): number => sum(tables, (t) => t.bytes);

/** Seconds of each data-sized step, from rows, bytes and the installation's rates. */
export const workSeconds = {
  load: (tables: readonly Sized[], r: Rates) => FIXED_SECONDS.overhead + sum(tables, (t) => loadSeconds(t, { rowsPerSecond: r.loadRowsPerSecond, bytesPerSecond: r.loadBytesPerSecond })),
  keys: (tables: readonly Sized[], r: Rates) => 60 + rows(tables) / r.keyRowsPerSecond,
  counts: (tables: readonly Sized[], r: Rates) => FIXED_SECONDS.overhead + rows(tables) / r.countRowsPerSecond,
  checksums: (tables: readonly Sized[], r: Rates) => FIXED_SECONDS.overhead + rows(tables) / r.checksumRowsPerSecond,
  integrity: (tables: readonly Sized[], r: Rates) => FIXED_SECONDS.overhead + rows(tables) / r.integrityRowsPerSecond,
  totals: (summed: number, r: Rates) => FIXED_SECONDS.overhead + summed / r.totalsRowsPerSecond,
  backup: (tables: readonly Sized[], r: Rates) => 60 + bytes(tables) / r.backupBytesPerSecond,
  /** Reading every file back (sha256, and the content's row hashes). */
  verify: (tables: readonly Sized[], r: Rates) => FIXED_SECONDS.overhead + bytes(tables) / r.loadBytesPerSecond,
  schema: (tables: readonly Sized[]) => 60 + tables.length,
};
