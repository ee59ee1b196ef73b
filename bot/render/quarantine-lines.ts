import type { RunState } from '../../runbook/state.js';
import { clip } from './format.js';

/**
 * What an approver must see of a load's quarantined rows: in the load's
 * thread message the first few with key, column and reason and where all of
 * them are; at the gate the count per table and the first rows. Reads the load step's result
 * details (engine/actions/etl-load-common.ts: quarantined, tables[], quarantine).
 */

interface SampleRow {
  table: string;
  key: Record<string, string | null>;
  column: string | null;
  reason: string;
}

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

const sampleOf = (details: Record<string, unknown>): { rows: SampleRow[]; all: string | null } => {
  const q = details['quarantine'];
  if (!isRecord(q)) return { rows: [], all: null };
  const rows = Array.isArray(q['rows']) ? q['rows'].filter((r): r is SampleRow => isRecord(r) && typeof r['table'] === 'string' && typeof r['reason'] === 'string' && isRecord(r['key'])) : [];
  return { rows, all: typeof q['all'] === 'string' ? q['all'] : null };
};

const keyText = (key: Record<string, string | null>): string =>
  Object.entries(key).map(([k, v]) => `${k}=${v ?? 'NULL'}`).join(', ');

/** "• `table` ID=17, column `Datum`: year 0 outside 1..9999" */
const rowLine = (r: SampleRow): string => `• \`${r.table}\` ${clip(keyText(r.key), 120)}${r.column ? `, column \`${r.column}\`` : ''}: ${clip(r.reason, 200)}`;

/** Count per table, largest first: "migration_staging.antrag 1, migration_staging.verlauf 1". */
function perTable(details: Record<string, unknown>): Array<[string, number]> {
  const tables = Array.isArray(details['tables']) ? details['tables'] : [];
  return tables
    .filter((t): t is { table: string; quarantined: number } => isRecord(t) && typeof t['table'] === 'string' && typeof t['quarantined'] === 'number' && t['quarantined'] > 0)
    .map((t): [string, number] => [t.table, t.quarantined])
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

/** The load step's section on its quarantined rows, or null when it quarantined none. */
export function quarantineSection(details: Record<string, unknown> | undefined): string | null {
  const total = typeof details?.['quarantined'] === 'number' ? details['quarantined'] : 0;
  if (!details || total <= 0) return null;
  const { rows, all } = sampleOf(details);
  const lines = [`*Quarantined rows* (${total.toLocaleString('en-US')}, kept aside with their reasons; review them before the gate):`];
  for (const r of rows) lines.push(rowLine(r));
  const more = total - rows.length;
  if (more > 0) lines.push(`… ${more.toLocaleString('en-US')} more`);
  if (all) lines.push(`All of them: \`${clip(all, 300)}\``);
  return lines.join('\n');
}

const isLoad = (details: Record<string, unknown>): boolean => isRecord(details['quarantine']) || Array.isArray(details['tables']);

/** Rows the gate lists with key, column and reason (the rest are counted; all are in the load's message). */
const GATE_ROWS = 5;

/**
 * The gate's lines on the run's quarantined rows, or none when no load
 * quarantined any: the count per load step and table, then the first rows
 * with key, column and reason — what the approver confirms was reviewed.
 */
export function quarantineGateLines(state: RunState): string[] {
  const parts: string[] = [];
  const rows: SampleRow[] = [];
  let total = 0;
  for (const step of Object.values(state.steps)) {
    const details = step.result?.details;
    const count = typeof details?.['quarantined'] === 'number' ? details['quarantined'] : 0;
    // Only loads, which keep their rows in the quarantine table: an extract or a snapshot check counts the same rows earlier.
    if (!details || count <= 0 || !isLoad(details)) continue;
    total += count;
    rows.push(...sampleOf(details).rows);
    const tables = perTable(details).map(([t, n]) => `${t} ${n.toLocaleString('en-US')}`);
    parts.push(`${count.toLocaleString('en-US')} row${count === 1 ? '' : 's'} by \`${step.id}\`${tables.length ? ` (${tables.join(', ')})` : ''}`);
  }
  if (parts.length === 0) return [];
  const shown = rows.slice(0, GATE_ROWS);
  const more = total - shown.length;
  return [
    `Quarantined: ${parts.join('; ')} — review them before approving:`,
    ...shown.map(rowLine),
    ...(more > 0 ? [`… ${more.toLocaleString('en-US')} more, listed with the query for all of them in the load's message`] : []),
  ];
}
