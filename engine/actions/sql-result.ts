import type { SqlParams } from '../../runbook/actions/sql.js';
import { truncate } from '../action.js';

/** What the last statement of a SQL text produced, shaped for Slack: values as text, at most MAX_ROWS rows. */
export interface SqlOutcome {
  /** Command tag of the last statement (PostgreSQL: SELECT, UPDATE, CREATE…); absent for SQL Server. */
  command?: string;
  rowCount: number;
  columns: string[];
  rows: Array<Array<string | null>>;
  /** Number of result sets the text produced (one per statement on PostgreSQL). */
  statements: number;
}

export const MAX_ROWS = 10;
const MAX_CELL = 200;

/** Renders one value as text so details stay JSON and bigint/numeric keep their digits. */
export function cellText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return truncate(value, MAX_CELL);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
  if (Buffer.isBuffer(value)) return truncate(`\\x${value.toString('hex')}`, MAX_CELL);
  return truncate(JSON.stringify(value) ?? String(value), MAX_CELL);
}

export function shapeRows(rows: readonly unknown[][]): Array<Array<string | null>> {
  return rows.slice(0, MAX_ROWS).map((row) => row.map(cellText));
}

/**
 * The sentence saying why the last statement's row count misses the runbook's
 * expectation, or null when it meets it.
 */
export function expectationFailure(expect: SqlParams['expect'], rowCount: number): string | null {
  if (!expect) return null;
  const rows = (n: number): string => `${n} row${n === 1 ? '' : 's'}`;
  if (expect.rows !== undefined && rowCount !== expect.rows) {
    return `expected exactly ${rows(expect.rows)} from the last statement, got ${rowCount}`;
  }
  if (expect.min_rows !== undefined && rowCount < expect.min_rows) {
    return `expected at least ${rows(expect.min_rows)} from the last statement, got ${rowCount}`;
  }
  return null;
}

/** 1-based line of a 1-based character position (PostgreSQL reports error positions that way). */
export function lineOfPosition(text: string, position: number): number {
  return text.slice(0, Math.max(0, position - 1)).split('\n').length;
}

/**
 * Splits a T-SQL script on `GO` lines, as sqlcmd and SSMS do: GO is not
 * T-SQL, and scripts exported from SQL Server tooling are full of it.
 * `GO n` repeats the batch n times.
 */
export function splitGoBatches(text: string): string[] {
  const batches: string[] = [];
  let current: string[] = [];
  const flush = (times: number): void => {
    const batch = current.join('\n').trim();
    if (batch) for (let i = 0; i < times; i++) batches.push(batch);
    current = [];
  };
  for (const line of text.split(/\r?\n/)) {
    const go = /^\s*GO(?:\s+(\d+))?\s*(?:--.*)?$/i.exec(line);
    if (go) flush(go[1] ? Number(go[1]) : 1);
    else current.push(line);
  }
  flush(1);
  return batches;
}

export function describeOutcome(outcome: SqlOutcome): string {
  if (outcome.command && outcome.command !== 'SELECT') return `${outcome.command} ${outcome.rowCount}`;
  return `${outcome.rowCount} row${outcome.rowCount === 1 ? '' : 's'}`;
}
