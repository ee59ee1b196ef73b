/**
 * Figures an action may leave in a step's result details: rows loaded,
 * quarantined rows, a validation verdict, per-table load figures. Actions
 * differ in the names they use, so each figure is looked up under the few
 * names in use; an absent figure is null, never guessed.
 */
export interface TableFigure {
  table: string;
  rows: number | null;
  seconds: number | null;
}

export interface StepOutcome {
  rows: number | null;
  quarantined: number | null;
  verdict: string | null;
  tables: TableFigure[];
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

function first(details: Record<string, unknown>, names: string[]): number | null {
  for (const name of names) {
    const direct = num(details[name]);
    if (direct !== null) return direct;
  }
  const totals = details['totals'];
  if (isRecord(totals)) for (const name of names) if (num(totals[name]) !== null) return num(totals[name]);
  return null;
}

function verdictOf(details: Record<string, unknown>): string | null {
  const verdict = details['verdict'];
  if (typeof verdict === 'string' && verdict) return verdict;
  for (const [key, yes, no] of [['ok', 'ok', 'failed'], ['matched', 'matched', 'mismatch'], ['valid', 'valid', 'invalid']] as const) {
    if (typeof details[key] === 'boolean') return details[key] ? yes : no;
  }
  return null;
}

/** The load action reports rows and rows per second per table rather than seconds. */
function tableSeconds(t: Record<string, unknown>): number | null {
  const seconds = num(t['seconds']);
  if (seconds !== null) return seconds;
  const rows = num(t['rows']);
  const rate = num(t['rowsPerSecond']);
  return rows !== null && rate !== null && rate > 0 ? rows / rate : null;
}

/** `rows` counts only when it is a number: the sql action uses it for its result set. */
export function stepOutcome(details: Record<string, unknown> | undefined): StepOutcome {
  if (!details) return { rows: null, quarantined: null, verdict: null, tables: [] };
  const tables = Array.isArray(details['tables'])
    ? details['tables'].flatMap((t): TableFigure[] =>
        isRecord(t) && typeof t['table'] === 'string' ? [{ table: t['table'], rows: num(t['rows']), seconds: tableSeconds(t) }] : [],
      )
    : [];
  return {
    rows: first(details, ['rowsLoaded', 'rowsCopied', 'rows']),
    quarantined: first(details, ['quarantined']),
    verdict: verdictOf(details),
    tables,
  };
}

/** A verdict that means the check did not pass. */
export const isBadVerdict = (verdict: string | null): boolean => verdict !== null && /^(failed|fail|mismatch|invalid|error|differ)/i.test(verdict);
