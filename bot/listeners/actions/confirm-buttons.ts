import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import { CONFIRM_ACTION, DISMISS_ACTION } from '../../destructive/confirm-blocks.js';
import { decodeConfirmValue } from '../../destructive/confirm-value.js';
import { CONFIRM_TTL_MS, DONE, performDestructive } from '../../destructive/destructive-commands.js';
import type { BotDeps } from '../../deps.js';
import { onRunClick } from './run-click.js';

/**
 * The buttons of a typed destructive command's confirmation (abort, override,
 * skip, rollback and its cancel): Confirm performs it — the core decides again
 * on the run as it is now — and Do nothing leaves the run untouched. Either
 * way the ephemeral is replaced by what happened, so it cannot be clicked twice.
 */
export function registerConfirmButtons(app: App, deps: BotDeps): void {
  app.action<BlockAction<ButtonAction>>(
    new RegExp(`^(${CONFIRM_ACTION}|${DISMISS_ACTION})$`.replace(/\./g, '\\.')),
    onRunClick(deps, 'confirmation button', decodeConfirmValue, async ({ user, actionId, value, replaceClicked }) => {
      if (user !== value.user) return replaceClicked(`Only <@${value.user}>, who typed the command, can confirm it.`);
      if (actionId === DISMISS_ACTION) return replaceClicked('Nothing was done; the run is as it was.');
      const age = deps.now() - value.typedAt;
      if (age > CONFIRM_TTL_MS) return replaceClicked(`This confirmation expired (${Math.round(age / 60_000)} minutes old) and nothing was done: the run may have moved on. Type the command again.`);
      const outcome = await performDestructive(deps, value.request, user);
      await replaceClicked(outcome.ok ? DONE[value.request.kind] : `Nothing was done: ${outcome.message}`);
      if (outcome.ok) deps.log.info({ runId: value.runId, kind: value.request.kind, by: user }, 'destructive command confirmed');
    }),
  );
}
