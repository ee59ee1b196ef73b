import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import { z } from 'zod';
import { tell, type BotDeps } from '../../deps.js';

const valueSchema = z.object({ r: z.string().min(1), t: z.number().int() }).strict();

function decode(raw: string | undefined): { runId: string; requestedAt: number } | null {
  try {
    const parsed = valueSchema.safeParse(JSON.parse(raw ?? ''));
    return parsed.success ? { runId: parsed.data.r, requestedAt: parsed.data.t } : null;
  } catch {
    return null;
  }
}

/**
 * Approve / Cancel on a rollback request. The core checks the rollback
 * authority, separation of duties and that the button belongs to the current
 * request; refusals go to the clicker only. The publisher re-renders the
 * request (its buttons disappear once approved); a cancelled request is gone
 * from the state, so its message is closed here.
 */
export function registerRollbackButtons(app: App, deps: BotDeps): void {
  app.action<BlockAction<ButtonAction>>(/^rollback\.(approve|cancel)$/, async ({ ack, body, action, client }) => {
    await ack();
    const channel = body.channel?.id ?? body.container?.channel_id;
    const user = body.user.id;
    if (!channel) return;
    if (!(await deps.dedup.firstDelivery(`action:${user}:${action.action_ts}:${action.action_id}:${action.value ?? ''}`))) return;
    const value = decode(action.value);
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
      const type = action.action_id === 'rollback.approve' ? 'rollback.approve' : 'rollback.cancel';
      const outcome = await deps.service.execute(value.runId, { type, at: deps.now(), actor, requestedAt: value.requestedAt });
      if (!outcome.ok) {
        await tell(client, channel, user, outcome.message);
        return;
      }
      const ts = body.message?.ts ?? body.container?.message_ts;
      if (type === 'rollback.cancel' && ts) {
        const text = `↩️ Rollback request (${state.rollback?.scenario ?? '?'}) cancelled by <@${user}>. The forward run stays paused until someone resumes it.`;
        await client.chat.update({ channel, ts, text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] });
      }
      await deps.publisher.request(value.runId);
    } catch (err) {
      deps.log.error({ err, runId: value.runId }, 'rollback button failed');
      await tell(client, channel, user, 'Something went wrong handling that click; nothing was changed. The error is in the bot log.');
    }
  });
}
