import type { Comparison } from '../../runbook/compare.js';
import { formatDuration } from '../../runbook/duration.js';
import type { ReportFigures } from '../../runbook/report/index.js';
import { percentDelta } from '../../runbook/timing.js';

const OUTCOME: Record<ReportFigures['status'], string> = { completed: '🏁 completed', aborted: '🛑 aborted', rolled_back: '↩️ rolled back', active: '🟢 in progress', paused: '⏸️ paused' };

/** The end-of-run summary posted in the thread above the uploaded report. */
export function reportSummary(f: ReportFigures, comparison: Comparison | null): string {
  const planned = f.run.plannedSeconds;
  const lines = [
    `*Cutover report* — run \`${f.runId}\` ${OUTCOME[f.status]}${f.abort ? ` by <@${f.abort.by}>: ${f.abort.reason}` : ''}`,
    `Took ${formatDuration(f.run.actualSeconds)}${planned ? ` against ${formatDuration(planned)} planned (${percentDelta(f.run.actualSeconds, planned)})` : ''} · ` +
      `${formatDuration(f.run.waitSeconds)} waiting for approval, ${formatDuration(f.run.executionSeconds)} executing · ` +
      `${f.approvals.length} approvals by ${new Set(f.approvals.map((a) => a.by)).size} people · ${f.escalations.length} escalations`,
  ];
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
    .map((s) => `• ${s.title}: ${dur(s.current?.executionSeconds)} vs ${dur(s.baseline?.executionSeconds)}${s.executionChangePct === null ? '' : ` (${s.executionChangePct >= 0 ? '+' : ''}${s.executionChangePct} %)`}`);
  const verdict = c.regressions.length ? c.regressions.map((r) => `⚠️ ${r}`) : ['✅ No regression against the earlier run.'];
  return [head, ...steps, ...verdict].join('\n');
}

const dur = (s: number | null | undefined): string => (s === null || s === undefined ? '—' : formatDuration(s));
