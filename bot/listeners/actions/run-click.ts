import type { AllMiddlewareArgs, BlockAction, ButtonAction, SlackActionMiddlewareArgs, StaticSelectAction } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import type { RunState } from '../../../runbook/state.js';
import { tell, type BotDeps } from '../../deps.js';

/** A click on one of a run's messages, once it is known to be new, understood and its run loaded. */
export interface RunClick<V> {
  channel: string;
  user: string;
  actionId: string;
  value: V;
  state: RunState;
  /** The clicked message, when Slack says which. */
  messageTs: string | undefined;
  client: WebClient;
}

type ClickArgs<A extends ButtonAction | StaticSelectAction> = SlackActionMiddlewareArgs<BlockAction<A>> & AllMiddlewareArgs;

export const UNKNOWN_BUTTON = 'That button is not one I recognise; it may be from an older version of the bot.';
export const CLICK_FAILED = 'Something went wrong handling that click; nothing was changed. The error is in the bot log.';

/**
 * What every button on a run's messages does before its own part: ack at
 * once (Slack's 3 s), drop a delivery already seen (Slack retries and Bolt
 * does not deduplicate), answer an unknown value or a vanished run to the
 * clicker only, and tell the clicker when handling fails rather than fail
 * silently. `handle` decides nothing itself: it sends a command to the run.
 */
export function onRunClick<V extends { runId: string }, A extends ButtonAction | StaticSelectAction = ButtonAction>(
  deps: BotDeps,
  what: string,
  decode: (raw: string | undefined) => V | null,
  handle: (click: RunClick<V>) => Promise<void>,
): (args: ClickArgs<A>) => Promise<void> {
  return async ({ ack, body, action, client }) => {
    await ack();
    const channel = body.channel?.id ?? body.container?.channel_id;
    const user = body.user.id;
    if (!channel) return;
    const raw = action.type === 'static_select' ? action.selected_option.value : action.value;
    if (!(await deps.dedup.firstDelivery(`action:${user}:${action.action_ts}:${action.action_id}:${raw ?? ''}`))) {
      deps.log.info({ user, action: action.action_id }, `duplicate ${what} delivery ignored`);
      return;
    }
    const value = decode(raw);
    if (!value) {
      await tell(client, channel, user, UNKNOWN_BUTTON);
      return;
    }
    try {
      const state = await deps.service.load(value.runId);
      if (!state) {
        await tell(client, channel, user, `Run ${value.runId} no longer exists.`);
        return;
      }
      const messageTs = body.message?.ts ?? body.container?.message_ts;
      await handle({ channel, user, actionId: action.action_id, value, state, messageTs, client });
    } catch (err) {
      deps.log.error({ err, runId: value.runId }, `${what} failed`);
      await tell(client, channel, user, CLICK_FAILED);
    }
  };
}
