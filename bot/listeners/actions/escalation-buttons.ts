import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import { decodeButtonValue } from '../../button-value.js';
import { tell, type BotDeps } from '../../deps.js';
import { rollbackAdvice } from '../../render/escalation-blocks.js';

/**
 * The Rollback button of a failed-step page (its Retry and Skip are the step
 * buttons). There is no rollback engine yet: the click pauses the run, so
 * nothing else is approved meanwhile, and tells the clicker the runbook's
 * rollback scenarios.
 */
export function registerEscalationButtons(app: App, deps: BotDeps): void {
  app.action<BlockAction<ButtonAction>>('escalation.rollback', async ({ ack, body, action, client }) => {
    await ack();
    const channel = body.channel?.id ?? body.container?.channel_id;
    const user = body.user.id;
    if (!channel) return;
    if (!(await deps.dedup.firstDelivery(`action:${user}:${action.action_ts}:${action.action_id}:${action.value ?? ''}`))) return;
    const value = decodeButtonValue(action.value);
    if (!value) {
      await tell(client, channel, user, 'That button is not one I recognise; it may be from an older version of the bot.');
      return;
    }
    try {
      const state = await deps.service.load(value.runId);
      if (!state) {
        await tell(client, channel, user, `Run ${value.runId} no longer exists.`);
        return;
      }
      const actor = await deps.actors.resolve(user, state.plan);
      const reason = `rollback requested by <@${user}> after step \`${value.stepId}\` failed`;
      const outcome = await deps.service.execute(value.runId, { type: 'pause', at: deps.now(), actor, reason });
      const paused = outcome.ok ? 'The run is paused. ' : outcome.code === 'run.already_paused' ? 'The run was already paused. ' : `${outcome.message} `;
      await tell(client, channel, user, `${paused}${rollbackAdvice(state.plan)}`);
      await deps.publisher.request(value.runId);
    } catch (err) {
      deps.log.error({ err, runId: value.runId }, 'rollback button failed');
      await tell(client, channel, user, 'Something went wrong handling that click; nothing was changed. The error is in the bot log.');
    }
  });
}
