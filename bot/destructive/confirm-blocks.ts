import type { KnownBlock } from '@slack/types';
import { CONFIRM_LABEL, whatItDoes, type DestructiveRequest } from '../../runbook/destructive.js';
import type { RunState } from '../../runbook/state.js';
import { clip } from '../render/format.js';
import { encodeConfirmValue } from './confirm-value.js';

export const CONFIRM_ACTION = 'destructive.confirm';
export const DISMISS_ACTION = 'destructive.dismiss';

/**
 * The ephemeral that stands between a typed destructive command and its
 * effect: what the click does, in full, and two buttons. Nothing has happened
 * yet when it is shown.
 */
export function renderConfirmation(state: RunState, request: DestructiveRequest, user: string, typedAt: number): { text: string; blocks: KnownBlock[] } {
  const what = whatItDoes(state, request, user);
  const text = clip(`⚠️ Nothing has happened yet. ${what}`, 3000);
  const value = encodeConfirmValue({ request, user, typedAt });
  return {
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text } },
      {
        type: 'actions',
        block_id: `confirm:${request.kind}:${typedAt}`,
        elements: [
          { type: 'button', text: { type: 'plain_text', text: CONFIRM_LABEL[request.kind], emoji: true }, action_id: CONFIRM_ACTION, value, style: 'danger' },
          { type: 'button', text: { type: 'plain_text', text: 'Do nothing', emoji: true }, action_id: DISMISS_ACTION, value },
        ],
      },
      { type: 'context', elements: [{ type: 'mrkdwn', text: 'Only you see this. The confirmation expires after 10 minutes.' }] },
    ],
  };
}
