import type { KnownBlock } from '@slack/types';
import { formatDuration } from '../../runbook/duration.js';
import type { Rendered } from './rendered.js';
import type { StepHistory } from '../../runbook/forecast.js';
import type { RunState } from '../../runbook/state.js';
import { followUpRootLine } from './follow-up-blocks.js';
import { forecastLine } from './forecast-line.js';
import { rollbackSection } from './rollback-blocks.js';
import { clip, slackTime } from './format.js';
import { phaseBlocks, ROOT_BLOCKS_BUDGET } from './root-phases.js';

/** Slack's limit of blocks in one message. */
const MAX_BLOCKS = 50;

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
  const rollback = rollbackSection(state, now);
  // The phases get what Slack's limits leave once everything else is in.
  const budget = ROOT_BLOCKS_BUDGET - JSON.stringify(blocks).length - (rollback ? JSON.stringify(rollback).length : 0);
  blocks.push(...phaseBlocks(state, now, budget, MAX_BLOCKS - blocks.length - (rollback ? 1 : 0)));
  if (rollback) blocks.push(rollback);
  const done = state.order.filter((id) => ['succeeded', 'skipped'].includes(state.steps[id]?.status ?? '')).length;
  return { text: `${headline}: ${status}, ${done}/${state.order.length} steps done`, blocks };
}
