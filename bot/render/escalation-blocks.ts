import type { ActionsBlock, Button, KnownBlock } from '@slack/types';
import type { EscalationLevel } from '../../runbook/events.js';
import type { DueEscalation } from '../../runbook/escalation.js';
import type { PlanStep } from '../../runbook/plan.js';
import { defaultScenario } from '../../runbook/rollback.js';
import type { RunState } from '../../runbook/state.js';
import { repeatsUntilAcknowledged } from '../../runbook/alert-rounds.js';
import { encodeButtonValue } from '../button-value.js';
import { ACK_ACTION, encodeAckValue, type AckValue } from '../escalation/ack-value.js';
import { clip } from './format.js';

const HEAD: Record<EscalationLevel, string> = {
  reminder: '⏰ Reminder',
  escalation: '🚨 Escalation',
  overrun: '🐢 Running long',
  page: '🔥 Step failed',
  blocked: '⛔ Blocked',
  unblocked: '✅ Block cleared',
  timeout: '⌛ Approval timed out',
  stalled: '🧊 Rollback stalled',
};

/** The Acknowledge button of an alert that repeats until someone presses it: says what the click does. */
export function ackButton(value: AckValue): Button {
  return {
    type: 'button',
    text: { type: 'plain_text', text: 'Acknowledge', emoji: true },
    action_id: ACK_ACTION,
    value: encodeAckValue(value),
    confirm: {
      title: { type: 'plain_text', text: 'Acknowledge the alert?' },
      text: { type: 'mrkdwn', text: 'Says you are on it: this alert stops repeating, the pager (if any) is told it is acknowledged, and the thread records who and when. It does not fix or approve anything.' },
      confirm: { type: 'plain_text', text: 'Acknowledge' },
      deny: { type: 'plain_text', text: 'Not yet' },
    },
  };
}

/** "repeat 2" and who was reached, for the context line. */
const roundNote = (round: number | undefined): string => (round ? ` · repeat ${round}, unacknowledged` : '');

export const mentions = (users: readonly string[], groups: readonly string[] = []): string =>
  [...users.map((u) => `<@${u}>`), ...groups.map((g) => `<!subteam^${g}>`)].join(' ');

/** The thread post, DM and incident-channel text of one escalation; a page carries Retry / Skip / Rollback. */
export function renderEscalation(state: RunState, planStep: PlanStep, due: DueEscalation): { text: string; blocks: KnownBlock[]; dmText: string; dmBlocks: KnownBlock[] } {
  const who = mentions(due.mention, due.groups);
  const ask = due.level === 'reminder' ? ' Please approve or hold it.' : '';
  const text = clip(`${HEAD[due.level]}: ${due.reason}${ask}${who ? ` ${who}` : ''}`, 3000);
  const where = `${state.plan.title} — run \`${state.runId}\` in <#${state.channel}>`;
  const dmText = clip(`${HEAD[due.level]} (${where}): ${due.reason}`, 3000);
  const episode = due.episode !== undefined ? ` · episode ${due.episode}` : '';
  const context: KnownBlock = { type: 'context', elements: [{ type: 'mrkdwn', text: `step \`${planStep.id}\` · attempt ${due.attempt} · ${due.level}${episode}${roundNote(due.round)}` }] };
  const ack = repeatsUntilAcknowledged(due.level) ? [ackButton({ runId: state.runId, level: due.level, stepId: due.stepId, attempt: due.attempt })] : [];
  const buttons: ActionsBlock[] = due.level === 'page' ? [pageButtons(state, planStep, due, ack)] : ack.length ? [{ type: 'actions', block_id: `ack:${due.stepId}:${due.attempt}:${due.level}`, elements: ack }] : [];
  return {
    text,
    blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }, ...buttons, context],
    dmText,
    // On-call people act from the DM too: the page's buttons work there the same way.
    dmBlocks: [{ type: 'section', text: { type: 'mrkdwn', text: dmText } }, ...buttons, context],
  };
}

function pageButtons(state: RunState, planStep: PlanStep, due: DueEscalation, ack: Button[]): ActionsBlock {
  const value = encodeButtonValue({ runId: state.runId, stepId: due.stepId, attempt: due.attempt });
  const button = (text: string, actionId: string, style?: 'primary' | 'danger'): Button => ({
    type: 'button',
    text: { type: 'plain_text', text, emoji: true },
    action_id: actionId,
    value,
    ...(style ? { style } : {}),
  });
  // Retry and Skip are the step's own buttons (same action ids, same checks); Rollback is the page's.
  const elements: Button[] = [button('Retry', 'step.retry', 'primary')];
  if (planStep.skippableBy.length > 0) elements.push(button('Skip', 'step.skip'));
  const rollback = button('Rollback', 'escalation.rollback', 'danger');
  rollback.confirm = {
    title: { type: 'plain_text', text: 'Request the rollback?' },
    text: { type: 'mrkdwn', text: clip(rollbackClickText(state), 300) },
    confirm: { type: 'plain_text', text: 'Request the rollback' },
    deny: { type: 'plain_text', text: 'Cancel' },
    style: 'danger',
  };
  elements.push(rollback, ...ack);
  return { type: 'actions', block_id: `page:${due.stepId}:${due.attempt}`, elements };
}

/** What the page's Rollback button does: the default scenario's request, or only a pause when the runbook has no such scenario. */
function rollbackClickText(state: RunState): string {
  const id = defaultScenario(state);
  const scenario = state.plan.rollbackScenarios.find((s) => s.id === id);
  if (!scenario) return `This runbook has no "${id}" scenario: the click pauses the run and lists the scenarios it has.`;
  return `Requests the rollback "${scenario.title}" (${id}): the run pauses at once, a forward step still running is stopped, and the rollback authority is asked to approve it in the thread.`;
}

/** The go/no-go prompt to the migration lead, with Continue / Start rollback. */
export function renderGoNoGo(state: RunState, reason: string, roleTitle: string, who: readonly string[]): { text: string; blocks: KnownBlock[] } {
  const text = clip(`🧭 Go/no-go for ${roleTitle}: ${reason}${who.length ? ` ${mentions(who)}` : ''}`, 3000);
  const value = JSON.stringify({ r: state.runId });
  const blocks: KnownBlock[] = [
    { type: 'section', text: { type: 'mrkdwn', text } },
    {
      type: 'actions',
      block_id: `gonogo:${state.runId}`.slice(0, 255),
      elements: [
        { type: 'button', text: { type: 'plain_text', text: 'Continue' }, action_id: 'gonogo.continue', value, style: 'primary' },
        {
          type: 'button',
          text: { type: 'plain_text', text: 'Start rollback' },
          action_id: 'gonogo.rollback',
          value,
          style: 'danger',
          confirm: {
            title: { type: 'plain_text', text: 'Start rollback?' },
            text: { type: 'mrkdwn', text: clip(rollbackClickText(state), 300) },
            confirm: { type: 'plain_text', text: 'Start rollback' },
            deny: { type: 'plain_text', text: 'Cancel' },
            style: 'danger',
          },
        },
      ],
    },
  ];
  return { text, blocks };
}

/** The prompt after someone answered: the buttons go, the answer stays. */
export function renderGoNoGoAnswered(original: string, by: string, choice: 'continue' | 'rollback'): { text: string; blocks: KnownBlock[] } {
  const answer = choice === 'continue' ? `✅ <@${by}> decided to continue.` : `⏪ <@${by}> decided to roll back: the run is paused and the rollback is requested in this thread.`;
  return { text: `${original}\n${answer}`, blocks: [{ type: 'section', text: { type: 'mrkdwn', text: clip(`${original}\n${answer}`, 3000) } }] };
}

/** What to do for a rollback while the bot has no rollback engine: the runbook's scenarios, by name. */
export function rollbackAdvice(plan: RunState['plan']): string {
  const scenarios = plan.rollbackScenarios.map((s) => `\`${s.id}\` (${s.title}, approved by ${plan.roles[s.approve]?.title ?? s.approve})`);
  return (
    `Rollback scenarios of ${plan.runbook}: ${scenarios.join(', ') || 'none declared'}. ` +
    'None is the default here (`pre-go-live` before the go-live switch, `post-go-live` after): name one with `/migrate rollback <scenario> <reason>`, or follow the runbook by hand; the run stays paused until someone resumes or aborts it.'
  );
}
