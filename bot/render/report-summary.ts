import type { Comparison } from '../../runbook/compare.js';
import { formatDuration } from '../../runbook/duration.js';
import type { ReportFigures } from '../../runbook/report/index.js';
import { counted } from '../../runbook/report/markdown.js';
import { meaningfulDelta } from '../../runbook/timing.js';

const ICON: Record<ReportFigures['status'], string> = { completed: '🏁', aborted: '🛑', rolled_back: '↩️', active: '🟢', paused: '⏸️' };

/** The end-of-run summary posted in the thread above the uploaded report. */
export function reportSummary(f: ReportFigures, comparison: Comparison | null): string {
  const planned = f.run.plannedSeconds;
  const delta = meaningfulDelta(f.run.actualSeconds, planned);
  const lines = [
    `*Cutover report* — run \`${f.runId}\` ${ICON[f.status]} ${f.outcome}${f.abort ? ` — aborted by <@${f.abort.by}>: ${f.abort.reason}` : ''}`,
    `Took ${formatDuration(f.run.actualSeconds)}${planned ? ` against ${formatDuration(planned)} planned${delta ? ` (${delta})` : ''}` : ''} · ` +
      `${formatDuration(f.run.waitSeconds)} waiting for approval, ${formatDuration(f.run.executionSeconds)} executing · ` +
      `${counted(f.approvals.length, 'approval')} by ${counted(new Set(f.approvals.map((a) => a.by)).size, 'person', 'people')} · ${counted(f.escalations.length, 'escalation')}`,
  ];
  if (f.goLive) lines.push(`Went live at ${f.goLive.at.slice(0, 19).replace('T', ' ')} UTC${f.goLive.walLsn ? `, WAL position ${f.goLive.walLsn}` : ''}`);
  const worst = f.topOverruns[0];
  if (worst) lines.push(`Largest overrun: ${worst.title} (${formatDuration(worst.actualSeconds ?? 0)} vs ${formatDuration(worst.plannedSeconds ?? 0)} planned)`);
  const wait = f.topWaits[0];
  if (wait) lines.push(`Longest wait: ${wait.title} (${formatDuration(wait.waitSeconds ?? 0)} for approval)`);
  if (comparison) lines.push('', comparisonText(comparison));
  return lines.join('\n');
}

/** Two runs side by side for Slack: totals, then every regression (or that there is none). */
export function comparisonText(c: Comparison): string {
  const head = `*Compared with ${c.baseline.label}* (\`${c.baseline.runId}\`): ${c.current.label} took ${formatDuration(c.current.actualSeconds)} (${c.current.status}), ${c.baseline.label} took ${formatDuration(c.baseline.actualSeconds)} (${c.baseline.status})`;
  const steps = c.steps
    .filter((s) => s.current?.executionSeconds != null || s.baseline?.executionSeconds != null)
    .slice(0, 20)
    .map((s) => {
      const [now, then] = [dur(s.current?.executionSeconds), dur(s.baseline?.executionSeconds)];
      // A change only where the durations read differently: "0s vs 0s (−76 %)" was sub-second noise.
      const change = s.executionChangePct === null || now === then ? '' : ` (${s.executionChangePct >= 0 ? '+' : '−'}${Math.abs(s.executionChangePct)} %)`;
      return `• ${s.title}: ${now} vs ${then}${change}`;
    });
  const verdict = c.regressions.length ? c.regressions.map((r) => `⚠️ ${r}`) : ['✅ No regression against the earlier run.'];
  return [head, ...steps, ...verdict].join('\n');
}

const dur = (s: number | null | undefined): string => (s === null || s === undefined ? '—' : formatDuration(s));
