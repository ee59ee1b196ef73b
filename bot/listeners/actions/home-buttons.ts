import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import { tell, type BotDeps } from '../../deps.js';
import { decodeHomeValue, HOME_ABORT, HOME_ROLLBACK, HOME_START } from '../../home/home-actions.js';
import { openReasonModal, openStartModal } from '../../modals/modal-openers.js';

/**
 * The buttons of App Home (and of the `/migrate` answer that points there):
 * each opens a modal with the click's trigger — at once, since a trigger
 * opens a view only within 3 s. Nothing is decided here; the modal's
 * submission is. A click Slack delivers twice opens one modal.
 */
export function registerHomeButtons(app: App, deps: BotDeps): void {
  app.action<BlockAction<ButtonAction>>(new RegExp(`^(${[HOME_START, HOME_ABORT, HOME_ROLLBACK].join('|')})$`.replace(/\./g, '\\.')), async ({ ack, body, action, client }) => {
    await ack();
    const user = body.user.id;
    const channel = body.channel?.id ?? body.container?.channel_id;
    if (!(await deps.dedup.firstDelivery(`action:${user}:${action.action_ts}:${action.action_id}`))) return;
    // From App Home there is no channel to answer in: the person is told in their DM with the bot.
    const answer = (text: string): Promise<unknown> => (channel ? tell(client, channel, user, text) : client.chat.postMessage({ channel: user, text }));
    try {
      const value = decodeHomeValue(action.value);
      if (!value) return void (await answer('That button is not one I recognise; open the Home tab again.'));
      if (action.action_id === HOME_START) {
        const problem = await openStartModal(deps, client, body.trigger_id, user, channel);
        if (problem) await answer(problem);
        return;
      }
      const state = await deps.service.load(value.runId);
      if (!state) return void (await answer(`Run ${value.runId} no longer exists.`));
      const kind = action.action_id === HOME_ABORT ? 'abort' : 'rollback';
      const problem = await openReasonModal(deps, client, body.trigger_id, state, { kind, user, channel: state.channel });
      if (problem) await answer(problem);
    } catch (err) {
      deps.log.error({ err, action: action.action_id }, 'home button failed');
      await answer('Something went wrong handling that click; nothing was changed. The error is in the bot log.').catch(() => undefined);
    }
  });
}
