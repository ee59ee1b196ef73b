import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import { z } from 'zod';
import { parseValueJson } from '../../button-value.js';
import type { BotDeps } from '../../deps.js';
import { onRunClick } from './run-click.js';

const valueSchema = z.object({ r: z.string().min(1), t: z.number().int() }).strict();

function decode(raw: string | undefined): { runId: string; requestedAt: number } | null {
  const parsed = parseValueJson(raw, valueSchema);
  return parsed ? { runId: parsed.r, requestedAt: parsed.t } : null;
}

/**
 * Approve / Cancel on a rollback request. The core checks the rollback
 * authority, separation of duties and that the button belongs to the current
 * request; refusals go to the clicker only, in the thread. The publisher
 * re-renders the request (its buttons disappear once approved or cancelled)
 * and posts the approval or cancel in the thread for everyone.
 */
export function registerRollbackButtons(app: App, deps: BotDeps): void {
  app.action<BlockAction<ButtonAction>>(
    /^rollback\.(approve|cancel)$/,
    onRunClick(deps, 'rollback button', decode, async ({ user, actionId, value, state, reply }) => {
      const actor = await deps.actors.resolve(user, state.plan);
      const type = actionId === 'rollback.approve' ? 'rollback.approve' : 'rollback.cancel';
      const outcome = await deps.service.execute(value.runId, { type, at: deps.now(), actor, requestedAt: value.requestedAt });
      if (!outcome.ok) {
        await reply(outcome.message);
        return;
      }
      await deps.publisher.request(value.runId);
      await reply(type === 'rollback.approve' ? 'Done: you approved the rollback; its steps now wait for their approvers in this thread.' : 'Done: the rollback request is cancelled; the forward run stays paused until someone resumes it.');
    }),
  );
}
