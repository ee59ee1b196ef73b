import { backupCatalogue, formatBytes } from '../../runbook/backups.js';
import type { RunState } from '../../runbook/state.js';
import { slackTime } from './format.js';

const clock = slackTime;

/** `/migrate backups`: the run's backup catalogue, one line per backup. */
export function renderBackups(state: RunState): string {
  const entries = backupCatalogue(state);
  const head = `*Backups of ${state.plan.runbook}* (\`${state.runId}\`)`;
  if (entries.length === 0) return `${head}\nNo backup has been made in this run yet.`;
  const lines = entries.map((b) => {
    const check = b.verified ? '✅ verified' : '⚠️ not verified';
    const sum = b.sha256 ? ` · sha256 \`${b.sha256.slice(0, 12)}…\`` : '';
    return `• \`${b.id}\` · ${b.kind} · \`${b.file}\` · ${formatBytes(b.bytes)}${sum} · ${check} · ${clock(b.at)}`;
  });
  return [head, ...lines].join('\n');
}
