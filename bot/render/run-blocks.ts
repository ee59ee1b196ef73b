import type { KnownBlock } from '@slack/types';
import { formatDuration } from '../../runbook/duration.js';
import type { Rendered } from './rendered.js';
import type { StepHistory } from '../../runbook/forecast.js';
import { openEpisode } from '../../runbook/health-alert.js';
import type { RunState } from '../../runbook/state.js';
import { followUpRootLine } from './follow-up-blocks.js';
import { forecastLine } from './forecast-line.js';
import { rollbackSection } from './rollback-blocks.js';
import { clip, slackTime, STATUS_ICON, STATUS_LABEL, stepTimings } from './format.js';

export type { Rendered } from './rendered.js';

const RUN_LABEL: Record<RunState['status'], string> = {
  active: '🟢 in progress',
  paused: '⏸️ paused',
  completed: '🏁 completed',
  aborted: '🛑 aborted',
  rolled_back: '↩️ rolled back',
};

/**
 * The run's root message: every phase and step with its state and timings, and
 * the go-live forecast, updated in place. `history`: earlier runs' step durations.
 */
export function renderRoot(state: RunState, now: number, history: StepHistory = {}): Rendered {
  const plan = state.plan;
  const status = RUN_LABEL[state.status];
  const headline = `${plan.title}${state.dryRun ? ' (dry run)' : ''}`;
  const meta = [
    `Run \`${state.runId}\``,
    status,
    `started by <@${state.startedBy}> at ${slackTime(state.startedAt)}`,
    state.finishedAt ? `finished after ${formatDuration((state.finishedAt - state.startedAt) / 1000)}` : `elapsed ${formatDuration((now - state.startedAt) / 1000)}`,
  ];
  if (state.paused) meta.push(`paused by <@${state.paused.by}>: ${state.paused.reason}`);
  if (state.abort) meta.push(`aborted by <@${state.abort.by}>: ${state.abort.reason}`);
  if (state.status === 'rolled_back' && state.rollback) meta.push(`rolled back (${state.rollback.scenario}): ${state.rollback.reason}`);

  const blocks: KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: clip(headline, 150), emoji: true } },
    { type: 'context', elements: [{ type: 'mrkdwn', text: clip(meta.join(' · '), 3000) }] },
  ];
  const followUps = followUpRootLine(state);
  if (followUps) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: clip(followUps, 3000) }] });
  const forecast = forecastLine(state, now, history);
  if (forecast) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: clip(forecast, 3000) } });
  for (const phase of plan.phases) {
    const lines = phase.steps.map((ps) => {
      const step = state.steps[ps.id];
      if (!step) return `• ${ps.title}`;
      const timing = stepTimings(step, ps.plannedSeconds, now);
      const blocked = step.status === 'running' ? openEpisode(step.health) : undefined;
      const waiting = blocked ? ` · ⛔ held up by a database wait since ${slackTime(blocked.since)}` : '';
      return `${STATUS_ICON[step.status]} ${ps.title} — _${STATUS_LABEL[step.status]}_${timing ? ` · ${timing}` : ''}${waiting}`;
    });
    const planned = phase.plannedSeconds !== null ? ` (planned ${formatDuration(phase.plannedSeconds)})` : '';
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: clip(`*${phase.title}*${planned}\n${lines.join('\n')}`, 3000) } });
  }
  const rollback = rollbackSection(state, now);
  if (rollback) blocks.push(rollback);
  // Slack refuses more than 50 blocks; a runbook with more phases is summarised rather than dropped.
  if (blocks.length > 49) {
    const hidden = blocks.length - 48;
    blocks.splice(48, blocks.length, { type: 'context', elements: [{ type: 'mrkdwn', text: `… ${hidden} more phases: see /migrate status` }] });
  }
  const done = state.order.filter((id) => ['succeeded', 'skipped'].includes(state.steps[id]?.status ?? '')).length;
  return { text: `${headline}: ${status}, ${done}/${state.order.length} steps done`, blocks };
}
