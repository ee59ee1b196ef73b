import type { ChunkSpec, TableMapping } from '../etl/contracts.js';
import type { SchemaModel } from '../schema/model.js';

/**
 * What every validate.* action returns in its step result details, so the
 * reconciliation report and the go/no-go gate can read any of them the same way:
 * `details.validation` is a ValidationResult.
 */
export type Verdict = 'green' | 'amber' | 'red';

export interface ValidationItem {
  /** What was checked: a table (schema.name of the target), a rule name, a total's name, a constraint. */
  subject: string;
  verdict: Verdict;
  /** One line for people, e.g. "source 12000 = loaded 11950 + quarantined 50". */
  message: string;
  /** Figures behind the verdict (counts, sums, thresholds, differing keys …), small JSON. */
  figures?: Record<string, unknown>;
}

export interface ValidationResult {
  check: 'counts' | 'aggregates' | 'checksums' | 'integrity' | 'rules' | 'totals' | 'queries';
  verdict: Verdict;
  items: ValidationItem[];
  /** When the check ran (ms epoch) and how long it took. */
  at: number;
  seconds: number;
}

/** red beats amber beats green. */
export function worst(verdicts: Iterable<Verdict>): Verdict {
  let out: Verdict = 'green';
  for (const v of verdicts) {
    if (v === 'red') return 'red';
    if (v === 'amber') out = 'amber';
  }
  return out;
}

/**
 * The source side of validation: work pushed into SQL Server (or read from a
 * snapshot's manifest), never rows pulled to the worker except for the few
 * keys a checksum bisection isolates.
 */
export interface ValidationSource {
  introspect(): Promise<SchemaModel>;
  /** Exact COUNT of the table (or of one chunk). */
  count(table: TableMapping, chunk?: ChunkSpec): Promise<number>;
  /**
   * Runs a runbook-given read-only query on the source and returns its rows (values as text).
   * With exact, a value the driver may have rounded (SQL Server decimal or money beyond 15
   * significant digits) fails the query instead of coming back approximate: totals compare exactly.
   */
  query(sql: string, options?: { exact?: boolean }): Promise<Array<Record<string, string | null>>>;
  close(): Promise<void>;
}
