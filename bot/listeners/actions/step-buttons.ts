import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import type { Command } from '../../../runbook/decide.js';
import { decodeButtonValue, STEP_BUTTON_ACTIONS, type StepButtonAction } from '../../button-value.js';
import { tell, type BotDeps } from '../../deps.js';

const ACTION_ID = new RegExp(`^step\\.(${STEP_BUTTON_ACTIONS.join('|')})$`);

/**
 * Step buttons (Approve, Hold, Release, Retry, Skip). The same click delivered
 * twice is dropped by the delivery dedup; two people clicking at once are
 * settled by the store's expected-version append and decide's refusals.
 */
export function registerStepButtons(app: App, deps: BotDeps): void {
  app.action<BlockAction<ButtonAction>>(ACTION_ID, async ({ ack, body, action, client }) => {
    await ack();
    const channel = body.channel?.id ?? body.container?.channel_id;
    const user = body.user.id;
    if (!(await deps.dedup.firstDelivery(`action:${user}:${action.action_ts}:${action.action_id}:${action.value ?? ''}`))) {
      deps.log.info({ user, action: action.action_id }, 'duplicate button delivery ignored');
      return;
    }
    const value = decodeButtonValue(action.value);
    const kind = ACTION_ID.exec(action.action_id)?.[1] as StepButtonAction | undefined;
    if (!channel) return;
    if (!value || !kind) {
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
      const at = deps.now();
      const base = { at, actor, stepId: value.stepId };
      const command: Exclude<Command, { type: 'start' }> =
        kind === 'approve' || kind === 'retry'
          ? { type: kind, ...base, attempt: value.attempt }
          : kind === 'release'
            ? { type: 'release', ...base, attempt: value.attempt }
            : { type: kind, ...base, attempt: value.attempt, reason: `${kind === 'skip' ? 'skipped' : 'held'} from Slack by <@${user}> (no reason given)` };
      const outcome = await deps.service.execute(value.runId, command);
      if (!outcome.ok) await tell(client, channel, user, outcome.message);
      await deps.publisher.request(value.runId);
    } catch (err) {
      deps.log.error({ err, runId: value.runId }, 'button handling failed');
      await tell(client, channel, user, 'Something went wrong handling that click; nothing was run. The error is in the bot log.');
    }
  });
}
