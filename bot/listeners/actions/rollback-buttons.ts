import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import { z } from 'zod';
import { tell, type BotDeps } from '../../deps.js';
import { onRunClick } from './run-click.js';

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
  app.action<BlockAction<ButtonAction>>(
    /^rollback\.(approve|cancel)$/,
    onRunClick(deps, 'rollback button', decode, async ({ channel, user, actionId, value, state, messageTs, client }) => {
      const actor = await deps.actors.resolve(user, state.plan);
      const type = actionId === 'rollback.approve' ? 'rollback.approve' : 'rollback.cancel';
      const outcome = await deps.service.execute(value.runId, { type, at: deps.now(), actor, requestedAt: value.requestedAt });
      if (!outcome.ok) {
        await tell(client, channel, user, outcome.message);
        return;
      }
      if (type === 'rollback.cancel' && messageTs) {
        const text = `↩️ Rollback request (${state.rollback?.scenario ?? '?'}) cancelled by <@${user}>. The forward run stays paused until someone resumes it.`;
        await client.chat.update({ channel, ts: messageTs, text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] });
      }
      await deps.publisher.request(value.runId);
    }),
  );
}
