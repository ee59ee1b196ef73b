import type { ChunkSpec, TableMapping } from '../etl/contracts.js';
import type { SchemaModel } from '../schema/model.js';

/**
 * What every validate.* action returns in its step result details, so the
 * reconciliation report and the go/no-go gate can read any of them the same way:
 * `details.validation` is a ValidationResult. One contract, declared (and
 * checked when read back from events) by the core.
 */
export type { ValidationItem, ValidationResult, Verdict } from '../../runbook/validation-result.js';

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
