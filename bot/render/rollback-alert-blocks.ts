import type { KnownBlock } from '@slack/types';
import type { DueRollbackAlert } from '../../runbook/rollback-alerts.js';
import type { RunState } from '../../runbook/state.js';
import { ackButton, mentions } from './escalation-blocks.js';
import { clip } from './format.js';

const HEAD: Record<DueRollbackAlert['level'], string> = {
  reminder: '⏰ Rollback waiting for approval',
  escalation: '🚨 Rollback approval escalated',
  timeout: '⌛ Rollback approval timed out',
  stalled: '🧊 Rollback stalled',
};

/** The thread post, DM and incident-channel text of an alert about the rollback; all but a reminder carry Acknowledge. */
export function renderRollbackAlert(state: RunState, due: DueRollbackAlert): { text: string; blocks: KnownBlock[]; dmText: string; dmBlocks: KnownBlock[] } {
  const who = mentions(due.mention, due.groups);
  const ask = due.level === 'stalled' ? ' Look at the rollback steps in the thread: Retry, Skip, or take over by hand.' : ' Approve or cancel the request in the thread.';
  const text = clip(`${HEAD[due.level]}: ${due.reason}${ask}${who ? ` ${who}` : ''}`, 3000);
  const dmText = clip(`${HEAD[due.level]} (${state.plan.title} — run \`${state.runId}\` in <#${state.channel}>): ${due.reason}${ask}`, 3000);
  const context: KnownBlock = { type: 'context', elements: [{ type: 'mrkdwn', text: `rollback · ${due.level}${due.round ? ` · repeat ${due.round}, unacknowledged` : ''}` }] };
  const ack: KnownBlock[] =
    due.level === 'reminder'
      ? []
      : [{ type: 'actions', block_id: `ack:rollback:${due.requestedAt}:${due.level}`, elements: [ackButton({ runId: state.runId, level: due.level, requestedAt: due.requestedAt })] }];
  return {
    text,
    blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }, ...ack, context],
    dmText,
    dmBlocks: [{ type: 'section', text: { type: 'mrkdwn', text: dmText } }, ...ack, context],
  };
}
