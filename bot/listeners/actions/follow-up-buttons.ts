import type { App, BlockAction, ButtonAction, StaticSelectAction } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import type { FollowUpCommand } from '../../../runbook/follow-ups.js';
import type { Actor } from '../../../runbook/policy.js';
import type { RunState } from '../../../runbook/state.js';
import type { BotDeps } from '../../deps.js';
import { followUpRefPrefix } from '../../follow-ups/follow-up-sweep.js';
import { decodeFollowUpValue, type FollowUpValue } from '../../follow-ups/follow-up-value.js';
import { renderFollowUpReminder } from '../../render/follow-up-blocks.js';
import { onRunClick } from './run-click.js';

const ACTION_ID = /^followup\.(done|snooze|snooze_for)$/;
const STALE: ReadonlySet<string> = new Set(['follow_up.already_done', 'follow_up.already_snoozed']);

/**
 * Done, Snooze and "Snooze for…" on a follow-up reminder. The core refuses a
 * non-member, a duty already done and a second snooze from one reminder; the
 * clicker is told why, ephemerally. Whatever the answer, every copy of the
 * follow-up's reminders is redrawn from the run, so a stale one catches up.
 */
export function registerFollowUpButtons(app: App, deps: BotDeps): void {
  app.action<BlockAction<ButtonAction | StaticSelectAction>>(
    ACTION_ID,
    onRunClick<FollowUpValue, ButtonAction | StaticSelectAction>(deps, 'follow-up click', decodeFollowUpValue, async ({ channel, user, actionId, value, state, messageTs, client, reply }) => {
      const command = commandOf(actionId, value, state, await deps.actors.resolve(user, state.plan), deps.now());
      const outcome = await deps.service.execute(value.runId, command);
      if (!outcome.ok) await reply(outcome.message);
      else deps.log.info({ runId: value.runId, followUp: value.followUpId, by: user, command: command.type }, 'follow-up answered');
      // A refused outsider changes nothing to show; a stale click may be on a copy that has not caught up yet.
      if (outcome.ok || STALE.has(outcome.code)) {
        await redraw(deps, client, outcome.state ?? state, value, messageTs ? { channel, ts: messageTs } : null);
        await deps.publisher.request(value.runId);
      }
    }),
  );
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
