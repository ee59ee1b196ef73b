import type { KnownBlock } from '@slack/types';
import type { PlanStep } from '../../runbook/plan.js';
import type { RunState, StepState } from '../../runbook/state.js';
import { clip, slackTime, STATUS_ICON, STATUS_LABEL } from './format.js';
import type { Rendered } from './rendered.js';
import { ROOT_BLOCKS_BUDGET } from './root-phases.js';

const SECTION_CHARS = 3000;
const LINE_CHARS = 500;

/** Steps whose outcome a digest may carry: finished, nothing left to click. */
export const settled = (step: StepState | undefined): boolean => step?.status === 'succeeded' || step?.status === 'skipped';

/** One step's outcome in one line: what, who approved or skipped it and when, its result. */
function outcomeLine(state: RunState, ps: PlanStep): string {
  const step = state.steps[ps.id];
  if (!step) return `• ${ps.title}`;
  const approved = step.approvals.length ? ` · approved by ${step.approvals.map((a) => `<@${a.by}>`).join(', ')}` : '';
  const skipped = step.skipped ? ` · skipped by <@${step.skipped.by}>: ${step.skipped.reason}` : '';
  const when = step.finishedAt !== null ? ` at ${slackTime(step.finishedAt)}` : '';
  const result = step.result ? ` · ${step.result.summary}` : '';
  return clip(`${STATUS_ICON[step.status]} *${ps.title}* — ${STATUS_LABEL[step.status]}${approved}${skipped}${when}${result} · \`${ps.id}\``, LINE_CHARS);
}

/**
 * Settled steps that have no message yet, cut into digests that each fit one
 * Slack message. Slack takes about one chat.postMessage per second per
 * channel: 3,000 steps done in a burst would keep their thread 50 minutes
 * behind the run; as digests of ~80 they take well under one. Each digest's
 * lines stay 2,000 characters under the budget, for its heading and the
 * blocks' wrapping (at most 5 sections: a line is at most 500 characters).
 */
export function digestBatches(state: RunState, steps: readonly PlanStep[]): PlanStep[][] {
  const batches: PlanStep[][] = [];
  let batch: PlanStep[] = [];
  let size = 0;
  for (const ps of steps) {
    const cost = JSON.stringify(outcomeLine(state, ps)).length + 1;
    if (batch.length && size + cost > ROOT_BLOCKS_BUDGET - 2000) {
      batches.push(batch);
      batch = [];
      size = 0;
    }
    batch.push(ps);
    size += cost;
  }
  if (batch.length) batches.push(batch);
  return batches;
}

/** One thread message carrying the outcomes of several steps, in plan order. */
export function renderDigest(state: RunState, steps: readonly PlanStep[]): Rendered {
  const first = steps[0]?.title ?? '';
  const last = steps.at(-1)?.title ?? '';
  const heading = `*${steps.length} steps finished* — from "${clip(first, 100)}" to "${clip(last, 100)}". They finished faster than Slack takes messages, so they are reported together.`;
  const blocks: KnownBlock[] = [{ type: 'section', text: { type: 'mrkdwn', text: heading } }];
  let section = '';
  for (const ps of steps) {
    const line = outcomeLine(state, ps);
    if (section && section.length + line.length + 1 > SECTION_CHARS) {
      blocks.push({ type: 'section', text: { type: 'mrkdwn', text: section } });
      section = '';
    }
    section = section ? `${section}\n${line}` : line;
  }
  if (section) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: section } });
  return { text: `${steps.length} steps finished: ${clip(first, 100)} … ${clip(last, 100)}`, blocks };
}
