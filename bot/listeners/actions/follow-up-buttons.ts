import type { App, BlockAction, ButtonAction, StaticSelectAction } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import type { FollowUpCommand } from '../../../runbook/follow-ups.js';
import type { Actor } from '../../../runbook/policy.js';
import type { RunState } from '../../../runbook/state.js';
import { tell, type BotDeps } from '../../deps.js';
import { followUpRefPrefix } from '../../follow-ups/follow-up-sweep.js';
import { decodeFollowUpValue, type FollowUpValue } from '../../follow-ups/follow-up-value.js';
import { renderFollowUpReminder } from '../../render/follow-up-blocks.js';

const ACTION_ID = /^followup\.(done|snooze|snooze_for)$/;
const STALE: ReadonlySet<string> = new Set(['follow_up.already_done', 'follow_up.already_snoozed']);

/**
 * Done, Snooze and "Snooze for…" on a follow-up reminder. The core refuses a
 * non-member, a duty already done and a second snooze from one reminder; the
 * clicker is told why, ephemerally. Whatever the answer, every copy of the
 * follow-up's reminders is redrawn from the run, so a stale one catches up.
 */
export function registerFollowUpButtons(app: App, deps: BotDeps): void {
  app.action<BlockAction<ButtonAction | StaticSelectAction>>(ACTION_ID, async ({ ack, body, action, client }) => {
    await ack();
    const channel = body.channel?.id ?? body.container?.channel_id;
    const user = body.user.id;
    const raw = action.type === 'static_select' ? action.selected_option.value : action.value;
    if (!channel) return;
    if (!(await deps.dedup.firstDelivery(`action:${user}:${action.action_ts}:${action.action_id}:${raw ?? ''}`))) {
      deps.log.info({ user, action: action.action_id }, 'duplicate follow-up click ignored');
      return;
    }
    const value = decodeFollowUpValue(raw);
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
      const command = commandOf(action.action_id, value, state, await deps.actors.resolve(user, state.plan), deps.now());
      const outcome = await deps.service.execute(value.runId, command);
      if (!outcome.ok) await tell(client, channel, user, outcome.message);
      else deps.log.info({ runId: value.runId, followUp: value.followUpId, by: user, command: command.type }, 'follow-up answered');
      // A refused outsider changes nothing to show; a stale click may be on a copy that has not caught up yet.
      if (outcome.ok || STALE.has(outcome.code)) {
        const clicked = body.message?.ts ?? body.container?.message_ts;
        await redraw(deps, client, outcome.state ?? state, value, clicked ? { channel, ts: clicked } : null);
        await deps.publisher.request(value.runId);
      }
    } catch (err) {
      deps.log.error({ err, runId: value.runId }, 'follow-up click failed');
      await tell(client, channel, user, 'Something went wrong handling that click; nothing was recorded. The error is in the bot log.');
    }
  });
}

function commandOf(actionId: string, value: FollowUpValue, state: RunState, actor: Actor, at: number): FollowUpCommand {
  if (actionId === 'followup.done') return { type: 'follow_up.done', at, actor, followUpId: value.followUpId };
  const fallback = state.plan.followUps?.find((f) => f.id === value.followUpId)?.snoozeSeconds ?? 86_400;
  return { type: 'follow_up.snooze', at, actor, followUpId: value.followUpId, seconds: value.seconds ?? fallback, reminder: value.seq };
}

/** Every reminder of the follow-up in the run's channel, and the clicked copy when it is elsewhere (a DM). */
async function redraw(deps: BotDeps, client: WebClient, state: RunState, value: FollowUpValue, clicked: { channel: string; ts: string } | null): Promise<void> {
  const refs = await deps.refs.all(state.runId);
  const now = deps.now();
  const prefix = followUpRefPrefix(value.followUpId);
  const targets: Array<{ channel: string; ts: string; seq: number; dm: boolean }> = [];
  for (const [field, ts] of Object.entries(refs)) {
    const seq = field.startsWith(prefix) ? Number(field.slice(prefix.length)) : Number.NaN;
    if (Number.isInteger(seq) && seq > 0) targets.push({ channel: state.channel, ts, seq, dm: false });
  }
  if (clicked && !targets.some((t) => t.channel === clicked.channel && t.ts === clicked.ts)) targets.push({ ...clicked, seq: value.seq, dm: clicked.channel !== state.channel });
  for (const t of targets) {
    const rendered = renderFollowUpReminder(state, value.followUpId, t.seq, now);
    if (!rendered) continue;
    await client.chat
      .update({ channel: t.channel, ts: t.ts, text: t.dm ? rendered.dmText : rendered.text, blocks: t.dm ? rendered.dmBlocks : rendered.blocks })
      .catch((err: unknown) => deps.log.warn({ err, runId: state.runId, ts: t.ts }, 'follow-up reminder could not be redrawn'));
  }
}
