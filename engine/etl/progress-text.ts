import { formatDuration } from '../../runbook/duration.js';
import type { LoadProgress, LoadReport } from './load-report.js';

const n = (x: number): string => Math.round(x).toLocaleString('en-US');

/** The live progress line set in the step's thread message (rows, rows/s, ETA per table and overall). */
export function progressText(p: LoadProgress): string {
  const o = p.overall;
  const head = `${n(o.rows)} / ${n(o.expectedRows)} rows · ${n(o.rowsPerSecond)} rows/s · ETA ${o.etaSeconds === null ? '—' : formatDuration(o.etaSeconds)} · chunks ${o.chunksDone}/${o.chunksTotal}`;
  const busy = p.tables
    .filter((t) => t.chunksDone < t.chunksTotal)
    .slice(0, 6)
    .map((t) => `${t.table}: ${n(t.rows)}/${n(t.expectedRows)} (${n(t.rowsPerSecond)}/s${t.etaSeconds !== null ? `, ${formatDuration(t.etaSeconds)} left` : ''})`);
  return [head, ...busy].join('\n');
}

/** The result table posted when a load ends. */
export function loadReportText(report: LoadReport): string {
  const lines = report.tables.map(
    (t) =>
      `• \`${t.table}\` ${n(t.rows + t.rowsBefore)} rows${t.rowsBefore ? ` (${n(t.rowsBefore)} from an earlier attempt)` : ''}` +
      `${t.quarantined ? `, ${n(t.quarantined)} quarantined` : ''} · ${n(t.rowsPerSecond)} rows/s${t.error ? ` · ❌ ${t.error}` : ''}`,
  );
  const shown = lines.slice(0, 25);
  if (lines.length > shown.length) shown.push(`… and ${lines.length - shown.length} more tables`);
  return shown.join('\n');
}
