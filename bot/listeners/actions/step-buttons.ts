import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import type { Command } from '../../../runbook/decide.js';
import { decodeButtonValue, STEP_BUTTON_ACTIONS, type StepButtonAction } from '../../button-value.js';
import type { BotDeps } from '../../deps.js';
import { openReasonModal } from '../../modals/modal-openers.js';
import { onRunClick } from './run-click.js';

const ACTION_ID = new RegExp(`^step\\.(${STEP_BUTTON_ACTIONS.join('|')})$`);

/**
 * Step buttons (Approve, Hold, Release, Retry, Skip). Hold and Skip need a
 * reason, which a click cannot carry: they open a modal asking for it, whose
 * submission is decided like the typed `/migrate hold|skip <step> <reason>`.
 * The same click delivered twice is dropped by the delivery dedup; two people
 * clicking at once are settled by the store's expected-version append and
 * decide's refusals.
 */
export function registerStepButtons(app: App, deps: BotDeps): void {
  app.action<BlockAction<ButtonAction>>(
    ACTION_ID,
    onRunClick(deps, 'step button', decodeButtonValue, async ({ user, actionId, value, state, reply, client, triggerId, channel }) => {
      const kind = ACTION_ID.exec(actionId)?.[1] as StepButtonAction;
      if (kind === 'hold' || kind === 'skip') {
        const problem = await openReasonModal(deps, client, triggerId, state, { kind, user, channel, stepId: value.stepId, attempt: value.attempt });
        if (problem) await reply(problem);
        return;
      }
      const actor = await deps.actors.resolve(user, state.plan);
      const command: Exclude<Command, { type: 'start' }> = { type: kind, at: deps.now(), actor, stepId: value.stepId, attempt: value.attempt };
      const outcome = await deps.service.execute(value.runId, command);
      if (!outcome.ok) await reply(outcome.message);
      await deps.publisher.request(value.runId);
    }),
  );
}
