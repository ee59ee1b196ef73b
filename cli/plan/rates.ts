import type { MeasuredLoads } from './target-facts.js';

/**
 * How fast this installation does each kind of work, for planned durations.
 * The load rate is measured when the target holds earlier loads (the ETL's
 * bookkeeping); everything else, and the load without history, uses these
 * defaults — deliberately modest figures for a 2-core worker next to its
 * databases (docs/cli.md lists them). A rehearsal then measures the real
 * ones: plan again after it.
 */
export const DEFAULT_RATES = {
  /** Rows per second of a load step (etl.copy or load, parallel 2). */
  loadRowsPerSecond: 20_000,
  /** Source bytes per second of a load step (snapshot: compressed bytes; SQL Server: used pages). */
  loadBytesPerSecond: 20 * 1024 * 1024,
  /** Rows per second a post-load key/index/foreign key pass builds and validates. */
  keyRowsPerSecond: 200_000,
  /** Rows per second of count(*) on both sides. */
  countRowsPerSecond: 2_000_000,
  /** Rows per second hashed on both sides by validate.checksums. */
  checksumRowsPerSecond: 100_000,
  /** Rows per second of the integrity scans (orphans, duplicates, NOT NULL, CHECKs). */
  integrityRowsPerSecond: 500_000,
  /** Rows per second summed per money/decimal column by validate.totals. */
  totalsRowsPerSecond: 2_000_000,
  /** Bytes per second of pg_dump -Fc / BACKUP DATABASE, verification included. */
  backupBytesPerSecond: 30 * 1024 * 1024,
} as const;

export type Rates = { -readonly [K in keyof typeof DEFAULT_RATES]: number } & {
  /** Where the load rate comes from, in words for the runbook's header. */
  loadBasis: string;
};

export function ratesFor(measured: MeasuredLoads | null): Rates {
  if (!measured) return { ...DEFAULT_RATES, loadBasis: `default ${Math.round(DEFAULT_RATES.loadRowsPerSecond).toLocaleString('en-US')} rows/s (no earlier load into this target)` };
  const rate = Math.max(1, measured.rowsPerSecond);
  return {
    ...DEFAULT_RATES,
    loadRowsPerSecond: rate,
    // Bytes keep pace with rows as measured: a wide table is still bounded by the default byte rate, scaled alike.
    loadBytesPerSecond: DEFAULT_RATES.loadBytesPerSecond * (rate / DEFAULT_RATES.loadRowsPerSecond),
    loadBasis: `measured ${Math.round(rate).toLocaleString('en-US')} rows/s over the last ${measured.loads} load${measured.loads === 1 ? '' : 's'} into this target (${measured.rows.toLocaleString('en-US')} rows in ${Math.round(measured.seconds)} s, from cutover_etl.chunks)`,
  };
}
