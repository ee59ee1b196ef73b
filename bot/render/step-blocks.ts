import type { ActionsBlock, Button, KnownBlock } from '@slack/types';
import { formatDuration } from '../../runbook/duration.js';
import type { PlanStep } from '../../runbook/plan.js';
import { describeRole } from '../../runbook/policy.js';
import { inRollback, isRollbackStep } from '../../runbook/rollback.js';
import type { RunState, StepState } from '../../runbook/state.js';
import { encodeButtonValue, type StepButtonAction } from '../button-value.js';
import type { Rendered } from './rendered.js';
import { gateSection } from './gate-lines.js';
import { healthSection } from './health-lines.js';
import { sqlResultText } from './result-table.js';
import { quarantineSection } from './quarantine-lines.js';
import { verdictLine } from './verdict-line.js';
import { readValidation } from '../../runbook/validation-result.js';
import { clip, slackTime, STATUS_ICON, STATUS_LABEL, stepTimings } from './format.js';

/** A step's message in the run's thread: what it does, who approves, its buttons, then its result. */
export function renderStep(state: RunState, planStep: PlanStep, step: StepState, now: number): Rendered {
  const role = state.plan.roles[planStep.approve];
  const need = role?.minApprovals ?? 1;
  const lines = [
    `${STATUS_ICON[step.status]} *${planStep.title}* — ${STATUS_LABEL[step.status]}${step.attempt > 1 ? ` (attempt ${step.attempt})` : ''}`,
  ];
  // A validation says its verdict in one line, right under its title; it replaces the result and failure lines it sums up.
  const verdict = verdictLine(planStep, step, state.dryRun);
  const decided = verdict !== null && readValidation(step.result?.details ?? step.error?.details) !== null;
  if (verdict) lines.push(verdict);
  if (planStep.description) lines.push(planStep.description);
  // What the approver confirms: ticked once the step is done (its approval is its completion).
  if (planStep.checklist?.length) lines.push(...planStep.checklist.map((item) => `${step.status === 'succeeded' ? '☑' : '☐'} ${item}`));
  lines.push(`Action: \`${planStep.action}\` · Approval: ${role ? describeRole(role) : planStep.approve}${need > 1 ? `, ${need} approvals needed` : ''}`);
  if (step.approvals.length > 0) lines.push(`Approved by ${step.approvals.map((a) => `<@${a.by}> at ${slackTime(a.at)}`).join(', ')} (${step.approvals.length}/${need})`);
  if (step.hold) lines.push(`${step.status === 'rejected' ? 'Rejected' : 'Held'} by <@${step.hold.by}>: ${step.hold.reason}`);
  const retried = step.retries?.at(-1);
  if (retried && step.status === 'running') lines.push(`🔁 Try ${retried.try + 1} of ${retried.of}, retried automatically after a transient error (\`${retried.code}\`)`);
  if (step.progress && step.status === 'running') lines.push(`_${step.progress.message}_`);
  if (step.result && !decided) lines.push(`*Result:* ${step.result.summary}`);
  if (step.error && !decided) lines.push(`*Failed:* ${step.error.message} (\`${step.error.code}\`)`);
  if (step.skipped) lines.push(`Skipped by <@${step.skipped.by}>: ${step.skipped.reason}`);
  const gate = gateSection(state, planStep, step);
  lines.push(...gate.lines);
  const paused = pausedFor(state, step);
  if (paused && step.status === 'awaiting_approval') {
    lines.push(`⏸️ *The run is paused* by <@${paused.by}> since ${slackTime(paused.at)}: ${paused.reason}. It can be approved once the run is resumed.`);
  }

  const blocks: KnownBlock[] = [{ type: 'section', text: { type: 'mrkdwn', text: clip(lines.join('\n'), 3000) } }];
  const health = healthSection(step);
  if (health) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: health } });
  // Actions with a report of their own (schema conversion, ETL tables) give it as mrkdwn.
  const report = step.result?.details?.['report'] ?? step.error?.details?.['report'];
  if (typeof report === 'string' && report.trim()) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: clip(report, 3000) } });
  const quarantine = quarantineSection(step.result?.details ?? step.error?.details);
  if (quarantine) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: clip(quarantine, 3000) } });
  const output = outputTail(step);
  if (output) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: clip('```' + output + '```', 3000) } });
  const timing = stepTimings(step, planStep.plannedSeconds, now);
  const context = [timing, planStep.timeoutSeconds ? `timeout ${formatDuration(planStep.timeoutSeconds)}` : '', `step \`${planStep.id}\``].filter(Boolean);
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: context.join(' · ') }] });
  const actions = buttonsFor(state, planStep, step);
  if (actions && gate.button) actions.elements.push(gate.button);
  if (actions) blocks.push(actions);
  return { text: `${planStep.title}: ${STATUS_LABEL[step.status]}`, blocks };
}

function outputTail(step: StepState): string | null {
  const details = step.result?.details ?? step.error?.details;
  const table = sqlResultText(details);
  if (table) return table;
  const tail = details?.['stdoutTail'] ?? details?.['stderrTail'];
  return typeof tail === 'string' && tail.trim() ? tail.slice(-1500) : null;
}

function button(text: string, action: StepButtonAction, state: RunState, step: StepState, style?: 'primary' | 'danger'): Button {
  const b: Button = {
    type: 'button',
    text: { type: 'plain_text', text, emoji: true },
    action_id: `step.${action}`,
    value: encodeButtonValue({ runId: state.runId, stepId: step.id, attempt: step.attempt }),
  };
  if (style) b.style = style;
  return b;
}

function buttonsFor(state: RunState, planStep: PlanStep, step: StepState): ActionsBlock | null {
  if (state.status === 'completed' || state.status === 'aborted' || state.status === 'rolled_back') return null;
  const elements: Button[] = [];
  // While the run is paused an Approve button would only be refused: the message says why instead.
  if (step.status === 'awaiting_approval' && !pausedFor(state, step)) {
    const approve = button('Approve', 'approve', state, step, 'primary');
    if (planStep.confirm) {
      approve.confirm = {
        title: { type: 'plain_text', text: clip(`Run "${planStep.title}"?`, 100) },
        text: { type: 'mrkdwn', text: clip(planStep.confirm, 300) },
        confirm: { type: 'plain_text', text: 'Approve' },
        deny: { type: 'plain_text', text: 'Cancel' },
        style: 'danger',
      };
    }
    elements.push(approve, button('Hold', 'hold', state, step));
  }
  if (step.status === 'awaiting_approval' && pausedFor(state, step)) elements.push(button('Hold', 'hold', state, step));
  if (step.status === 'held') elements.push(button('Release hold', 'release', state, step, 'primary'));
  if (step.status === 'failed' || step.status === 'rejected') elements.push(button('Retry', 'retry', state, step, 'primary'));
  if (planStep.skippableBy.length > 0 && ['awaiting_approval', 'held', 'rejected', 'failed'].includes(step.status)) {
    elements.push(button('Skip', 'skip', state, step, 'danger'));
  }
  return elements.length > 0 ? { type: 'actions', block_id: `step:${step.id}:${step.attempt}`, elements } : null;
}

/** The pause that keeps this step from being approved: the run's, unless the step belongs to the approved rollback (which goes on). */
function pausedFor(state: RunState, step: StepState): RunState['paused'] {
  if (state.status !== 'paused' || (inRollback(state) && isRollbackStep(state, step.id))) return null;
  return state.paused;
}
