import type { AllMiddlewareArgs, BlockAction, ButtonAction, SlackActionMiddlewareArgs, StaticSelectAction } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { BUTTON_VALUE_MAX_CHARS, formatCount } from '../../../runbook/input-bounds.js';
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
  /** The thread the clicked message is in, if any: answers to the click go there. */
  threadTs: string | undefined;
  client: WebClient;
  /** The click's trigger: opens a modal for the clicker within 3 s, once. */
  triggerId: string;
  /** Tells the clicker, and only them, in the thread the click came from. */
  reply: (text: string) => Promise<void>;
  /** Replaces the clicked message for the clicker (an ephemeral's only way to change), falling back to a reply. */
  replaceClicked: (text: string) => Promise<void>;
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
  return async ({ ack, body, action, client, respond }) => {
    await ack();
    const channel = body.channel?.id ?? body.container?.channel_id;
    const user = body.user.id;
    if (!channel) return;
    const threadTs = threadOf(body);
    const reply = (text: string): Promise<void> => tell(client, channel, user, text, threadTs);
    const raw = action.type === 'static_select' ? action.selected_option.value : action.value;
    // Slack itself caps a value at 2,000 characters: a longer one is forged or broken, and is answered without hashing or parsing it.
    if (raw !== undefined && raw.length > BUTTON_VALUE_MAX_CHARS) {
      await reply(`That button's value is ${formatCount(raw.length)} characters; Slack allows at most ${formatCount(BUTTON_VALUE_MAX_CHARS)}, so it is not one this bot made. Nothing was changed.`);
      return;
    }
    if (!(await deps.dedup.firstDelivery(`action:${user}:${action.action_ts}:${action.action_id}:${raw ?? ''}`))) {
      deps.log.info({ user, action: action.action_id }, `duplicate ${what} delivery ignored`);
      return;
    }
    const value = decode(raw);
    if (!value) {
      await reply(UNKNOWN_BUTTON);
      return;
    }
    try {
      const state = await deps.service.load(value.runId);
      if (!state) {
        await reply(`Run ${value.runId} no longer exists.`);
        return;
      }
      const messageTs = body.message?.ts ?? body.container?.message_ts;
      const replaceClicked = async (text: string): Promise<void> => {
        try {
          await respond({ replace_original: true, text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] });
        } catch (err) {
          deps.log.warn({ err, runId: value.runId }, 'response_url refused; answering with a new ephemeral');
          await reply(text);
        }
      };
      await handle({ channel, user, actionId: action.action_id, value, state, messageTs, threadTs, client, triggerId: body.trigger_id, reply, replaceClicked });
    } catch (err) {
      deps.log.error({ err, runId: value.runId }, `${what} failed`);
      await reply(CLICK_FAILED);
    }
  };
}

/**
 * The thread of the clicked message: Slack puts `thread_ts` on a threaded
 * message (and on the container); a top-level message has none, or its own ts
 * when it is a thread's parent, which is as good a place to answer.
 */
function threadOf(body: BlockAction): string | undefined {
  const fromMessage: unknown = body.message?.['thread_ts'];
  if (typeof fromMessage === 'string' && fromMessage) return fromMessage;
  const fromContainer: unknown = (body.container as Record<string, unknown> | undefined)?.['thread_ts'];
  return typeof fromContainer === 'string' && fromContainer ? fromContainer : undefined;
}
