import type { Button, KnownBlock } from '@slack/types';
import { formatDuration } from '../../runbook/duration.js';
import { rollbackSteps } from '../../runbook/plan.js';
import { describeApprover } from '../../runbook/rollback-authority.js';
import type { RollbackState, RunState } from '../../runbook/state.js';
import type { Rendered } from './rendered.js';
import { clip, slackTime, STATUS_ICON, STATUS_LABEL, stepTimings } from './format.js';


/** A rollback button names its run and request (requestedAt), so a button of a cancelled request cannot act on a later one. */
export const encodeRollbackValue = (runId: string, requestedAt: number): string => JSON.stringify({ r: runId, t: requestedAt });

const STATUS: Record<RollbackState['status'], string> = {
  requested: '🟡 waiting for the rollback authority',
  running: '🔄 running',
  done: '↩️ done: the run is rolled back',
  failed: '❌ a rollback step failed — Retry or Skip it',
};

/** Who can approve this request: the authority, or the deputy when the authority's only member asked (separation of duties). */
function who(state: RunState, rb: RollbackState): string {
  const scenario = state.plan.rollbackScenarios.find((s) => s.id === rb.scenario);
  return scenario ? describeApprover(state.plan, scenario, rb.requestedBy) : rb.scenario;
}

const scenarioTitle = (state: RunState, id: string): string => state.plan.rollbackScenarios.find((s) => s.id === id)?.title ?? id;

/** The rollback request in the run's thread: who asked, why, who must approve; Approve / Cancel while it waits. */
export function renderRollbackRequest(state: RunState): Rendered | null {
  const rb = state.rollback;
  if (!rb) return null;
  const title = scenarioTitle(state, rb.scenario);
  const lines = [
    `↩️ *Rollback requested: ${title}* (\`${rb.scenario}\`) — ${STATUS[rb.status]}`,
    `Requested by <@${rb.requestedBy}> at ${slackTime(rb.requestedAt)}: ${rb.reason}`,
    `Approval: ${who(state, rb)} (rollback authority). The forward run is paused.`,
  ];
  if (rb.approvedBy && rb.approvedAt) lines.push(`Approved by <@${rb.approvedBy}> at ${slackTime(rb.approvedAt)}; the scenario's steps follow in this thread.`);
  const blocks: KnownBlock[] = [{ type: 'section', text: { type: 'mrkdwn', text: clip(lines.join('\n'), 3000) } }];
  if (rb.status === 'requested') {
    const value = encodeRollbackValue(state.runId, rb.requestedAt);
    const approve: Button = {
      type: 'button',
      text: { type: 'plain_text', text: 'Approve rollback', emoji: true },
      action_id: 'rollback.approve',
      value,
      style: 'danger',
      confirm: {
        title: { type: 'plain_text', text: 'Roll back this run?' },
        text: { type: 'mrkdwn', text: clip(`Approve ${title} in your name: the forward run will not go on, and the scenario's ${rollbackSteps(state.plan, rb.scenario).length} steps then wait for approval one by one, each by its role.`, 300) },
        confirm: { type: 'plain_text', text: 'Approve rollback' },
        deny: { type: 'plain_text', text: 'Not yet' },
      },
    };
    const cancel: Button = {
      type: 'button',
      text: { type: 'plain_text', text: 'Cancel request', emoji: true },
      action_id: 'rollback.cancel',
      value,
      confirm: {
        title: { type: 'plain_text', text: 'Cancel the rollback request?' },
        text: { type: 'mrkdwn', text: 'Withdraw this request: nothing of the rollback runs, and the forward run stays paused until someone resumes it.' },
        confirm: { type: 'plain_text', text: 'Cancel the request' },
        deny: { type: 'plain_text', text: 'Keep it' },
      },
    };
    blocks.push({ type: 'actions', block_id: `rollback:${rb.requestedAt}`, elements: [approve, cancel] });
  }
  return { text: `Rollback requested: ${title} — ${STATUS[rb.status]}`, blocks };
}

/** The root message's "Rollback <scenario>" phase: its steps with state and timings. */
export function rollbackSection(state: RunState, now: number): KnownBlock | null {
  const rb = state.rollback;
  if (!rb) return null;
  const scenario = state.plan.rollbackScenarios.find((s) => s.id === rb.scenario);
  const planned = scenario?.plannedSeconds != null ? ` (planned ${formatDuration(scenario.plannedSeconds)})` : '';
  const lines = [`*Rollback ${rb.scenario}: ${scenarioTitle(state, rb.scenario)}*${planned} — ${STATUS[rb.status]}`, `_requested by <@${rb.requestedBy}>: ${rb.reason}_`];
  for (const ps of rollbackSteps(state.plan, rb.scenario)) {
    const step = state.steps[ps.id];
    if (!step) continue;
    const timing = stepTimings(step, ps.plannedSeconds, now);
    lines.push(`${STATUS_ICON[step.status]} ${ps.title} — _${STATUS_LABEL[step.status]}_${timing ? ` · ${timing}` : ''}`);
  }
  return { type: 'section', text: { type: 'mrkdwn', text: clip(lines.join('\n'), 3000) } };
}
