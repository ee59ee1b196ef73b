import { formatDuration } from '../../runbook/duration.js';
import { currentStep, type RunState } from '../../runbook/state.js';
import { STATUS_LABEL } from './format.js';

/** A compact text status for `/migrate status`. */
export function renderStatus(state: RunState, now: number): string {
  const done = state.order.filter((id) => ['succeeded', 'skipped'].includes(state.steps[id]?.status ?? '')).length;
  const current = currentStep(state);
  const title = current ? state.plan.phases.flatMap((p) => p.steps).find((s) => s.id === current.id)?.title : null;
  const lines = [
    `*${state.plan.title}* — run \`${state.runId}\` in <#${state.channel}>: ${state.status}${state.dryRun ? ' (dry run)' : ''}`,
    `${done}/${state.order.length} steps done · elapsed ${formatDuration(((state.finishedAt ?? now) - state.startedAt) / 1000)}`,
  ];
  if (current && title) lines.push(`Now: ${title} — ${STATUS_LABEL[current.status]}`);
  if (state.paused) lines.push(`Paused by <@${state.paused.by}>: ${state.paused.reason}`);
  return lines.join('\n');
}
