/**
 * A SQL step's result rows as an approver reads them in Slack: a small
 * monospace table with its column names (for a code block), clipped to a few
 * rows and columns with what was left out counted; an EXPLAIN's plan as the
 * text PostgreSQL prints. Pure: it only reads the step's result details
 * (engine/actions/sql.ts: columns, rows as text, rowCount).
 */

export const TABLE_MAX_ROWS = 5;
export const TABLE_MAX_COLUMNS = 6;
/** Widest cell shown; longer values end in "…" (the step's details keep 200 characters of each). */
export const TABLE_MAX_CELL = 24;
const PLAN_MAX_LINES = 30;
/** A plan's text stays well inside the 3,000 characters of a section, closing code fence included. */
const PLAN_MAX_CHARS = 2000;
/** What PostgreSQL names the one column of EXPLAIN's output. */
const PLAN_COLUMN = 'QUERY PLAN';

const NULL_TEXT = 'NULL';

const cellOf = (value: string | null): string => {
  // One line per row: a newline inside a value would break the table's columns.
  const text = value === null ? NULL_TEXT : value.replace(/\s*[\r\n]+\s*/g, ' ');
  return text.length <= TABLE_MAX_CELL ? text : `${text.slice(0, TABLE_MAX_CELL - 1)}…`;
};

const isTextRows = (v: unknown): v is Array<Array<string | null>> =>
  Array.isArray(v) && v.every((row) => Array.isArray(row) && row.every((c) => c === null || typeof c === 'string'));

/**
 * The text for a code block from a step's result details, or null when they
 * hold no rows (a DML statement, or a step that is not a SQL step).
 */
export function sqlResultText(details: Record<string, unknown> | undefined): string | null {
  const rows = details?.['rows'];
  if (!isTextRows(rows) || rows.length === 0) return null;
  const columns = Array.isArray(details?.['columns']) ? (details['columns'] as unknown[]).map(String) : [];
  const rowCount = typeof details?.['rowCount'] === 'number' ? details['rowCount'] : rows.length;
  if (columns.length === 1 && columns[0] === PLAN_COLUMN) return planText(rows, rowCount);
  return resultTable(columns, rows, rowCount);
}

/** EXPLAIN's text output line by line, as psql shows it (the sql action renders FORMAT JSON as that text). */
function planText(rows: Array<Array<string | null>>, rowCount: number): string {
  const lines: string[] = [];
  let used = 0;
  for (const row of rows.slice(0, PLAN_MAX_LINES)) {
    const line = row[0] ?? '';
    if (used + line.length + 1 > PLAN_MAX_CHARS) break;
    lines.push(line);
    used += line.length + 1;
  }
  const more = Math.max(rowCount, rows.length) - lines.length;
  if (more > 0) lines.push(`… ${more} more plan line${more === 1 ? '' : 's'}`);
  return lines.join('\n');
}

/** Column names, a rule, the first rows; "… N more rows/columns" for the rest. */
export function resultTable(columns: string[], rows: Array<Array<string | null>>, rowCount = rows.length): string {
  const width = Math.max(columns.length, ...rows.map((r) => r.length));
  const names = Array.from({ length: width }, (_, i) => columns[i] ?? `column ${i + 1}`);
  const shownColumns = Math.min(width, TABLE_MAX_COLUMNS);
  const shown = rows.slice(0, TABLE_MAX_ROWS);
  const grid = [names.slice(0, shownColumns).map(cellOf), ...shown.map((row) => names.slice(0, shownColumns).map((_, i) => cellOf(row[i] ?? null)))];
  const widths = grid[0]?.map((_, i) => Math.max(...grid.map((line) => [...(line[i] ?? '')].length))) ?? [];
  const pad = (text: string, i: number): string => text + ' '.repeat((widths[i] ?? 0) - [...text].length);
  const render = (line: string[]): string => line.map(pad).join(' | ').trimEnd();
  const [head = [], ...body] = grid;
  const lines = [render(head), widths.map((w) => '-'.repeat(w)).join('-+-'), ...body.map(render)];
  const moreRows = Math.max(rowCount, rows.length) - shown.length;
  const moreColumns = width - shownColumns;
  const more = [
    moreRows > 0 ? `${moreRows} more row${moreRows === 1 ? '' : 's'}` : '',
    moreColumns > 0 ? `${moreColumns} more column${moreColumns === 1 ? '' : 's'} (${names.slice(shownColumns).join(', ')})` : '',
  ].filter(Boolean);
  if (more.length) lines.push(`… ${more.join(', ')}`);
  return lines.join('\n');
}
