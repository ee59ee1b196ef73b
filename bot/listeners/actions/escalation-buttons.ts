import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import { decodeButtonValue } from '../../button-value.js';
import type { BotDeps } from '../../deps.js';
import { rollbackAdvice } from '../../render/escalation-blocks.js';
import { onRunClick } from './run-click.js';

/**
 * The Rollback button of a failed-step page (its Retry and Skip are the step
 * buttons): the same rollback request as `/migrate rollback` (default
 * scenario). When the runbook has no such scenario the click pauses the run
 * and tells the clicker the scenarios there are.
 */
export function registerEscalationButtons(app: App, deps: BotDeps): void {
  app.action<BlockAction<ButtonAction>>(
    'escalation.rollback',
    onRunClick(deps, 'rollback page button', decodeButtonValue, async ({ user, value, state, reply }) => {
      const actor = await deps.actors.resolve(user, state.plan);
      const reason = `step \`${value.stepId}\` failed`;
      const requested = await deps.service.execute(value.runId, { type: 'rollback.request', at: deps.now(), actor, reason });
      if (requested.ok || requested.code !== 'rollback.unknown_scenario') {
        // The request (and its Approve button for the rollback authority) is in the run's thread; only a refusal is told here.
        if (!requested.ok) await reply(requested.message);
        await deps.publisher.request(value.runId);
        return;
      }
      // No scenario to run: at least stop the run, so nothing else is approved meanwhile, and say what the runbook offers.
      const outcome = await deps.service.execute(value.runId, { type: 'pause', at: deps.now(), actor, reason: `rollback requested by <@${user}> after ${reason}` });
      const paused = outcome.ok ? 'The run is paused. ' : outcome.code === 'run.already_paused' ? 'The run was already paused. ' : `${outcome.message} `;
      await reply(`${paused}${rollbackAdvice(state.plan)}`);
      await deps.publisher.request(value.runId);
    }),
  );
}
