import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import type { BotDeps } from '../../deps.js';
import { ACK_ACTION, decodeAckValue } from '../../escalation/ack-value.js';
import type { AlertPager } from '../../paging/alert-pager.js';
import { onRunClick } from './run-click.js';

/**
 * Acknowledge on an alert that repeats (an escalated approval, a failed step's
 * page, a timeout, a stalled rollback), in the thread or a DM. The core records
 * who and when (and refuses a second acknowledgement, saying whose); the
 * repeats stop, the thread tells everyone, the pager is told, and the clicker
 * is answered where they clicked.
 */
export function registerAckButtons(app: App, deps: BotDeps, pager: AlertPager | null): void {
  app.action<BlockAction<ButtonAction>>(
    ACK_ACTION,
    onRunClick(deps, 'acknowledge button', decodeAckValue, async ({ user, value, state, reply }) => {
      const actor = await deps.actors.resolve(user, state.plan);
      const subject = 'stepId' in value ? { stepId: value.stepId, attempt: value.attempt } : { requestedAt: value.requestedAt };
      const outcome = await deps.service.execute(value.runId, { type: 'alert.acknowledge', at: deps.now(), actor, level: value.level, ...subject });
      if (!outcome.ok) return reply(outcome.message);
      deps.log.info({ runId: value.runId, level: value.level, by: user, ...subject }, 'alert acknowledged');
      await reply(`👀 Acknowledged in your name: this ${value.level} stops repeating and the thread says you are on it.`);
      await deps.publisher.request(value.runId);
      await pager?.acknowledged(outcome.state, { stepId: 'stepId' in value ? value.stepId : null, level: value.level, by: user });
    }),
  );
}
