import type { SqlParams } from '../../runbook/actions/sql.js';
import { truncate } from '../action.js';
import { pgPlanText } from '../queries/plan-text.js';

/** What the last statement of a SQL text produced, shaped for Slack: values as text, at most MAX_ROWS rows (an EXPLAIN: MAX_PLAN_LINES lines). */
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

/** What PostgreSQL names the one column of EXPLAIN's output. */
const PLAN_COLUMN = 'QUERY PLAN';
/** Lines of a plan kept: an EXPLAIN is read whole more often than a result table is. */
const MAX_PLAN_LINES = 40;

const parsed = (v: unknown): unknown => {
  if (typeof v !== 'string' || !v.trimStart().startsWith('[')) return v;
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
};

/**
 * The last statement's rows as text for the step's details. An EXPLAIN keeps
 * its plan line by line (up to MAX_PLAN_LINES); one in FORMAT JSON, which
 * PostgreSQL returns as one JSON value, is rendered as EXPLAIN's text first,
 * so the step's message shows the plan a DBA reads rather than clipped JSON.
 */
export function shapeResult(columns: readonly string[], rows: readonly unknown[][], rowCount: number): { rowCount: number; rows: Array<Array<string | null>> } {
  if (columns.length !== 1 || columns[0] !== PLAN_COLUMN) return { rowCount, rows: shapeRows(rows) };
  const lines = rows.length === 1 ? pgPlanText(parsed(rows[0]?.[0])) : null;
  if (lines) return { rowCount: lines.length, rows: lines.slice(0, MAX_PLAN_LINES).map((line) => [cellText(line)]) };
  return { rowCount, rows: rows.slice(0, MAX_PLAN_LINES).map((row) => row.slice(0, 1).map(cellText)) };
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
