import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import { z } from 'zod';
import { parseValueJson } from '../../button-value.js';
import type { GoNoGoDecision } from '../../../runbook/events.js';
import type { BotDeps } from '../../deps.js';
import { renderGoNoGoAnswered, rollbackAdvice } from '../../render/escalation-blocks.js';
import { onRunClick } from './run-click.js';

const valueSchema = z.object({ r: z.string().min(1) }).strict();

function decode(raw: string | undefined): { runId: string } | null {
  const parsed = parseValueJson(raw, valueSchema);
  return parsed ? { runId: parsed.r } : null;
}

/**
 * Continue / Start rollback on the go/no-go prompt. The answer is an event
 * (the core refuses a second answer and anyone outside the role); rollback
 * requests the runbook's default rollback scenario (see runbook/rollback.ts).
 */
export function registerGoNoGoButtons(app: App, deps: BotDeps): void {
  app.action<BlockAction<ButtonAction>>(
    /^gonogo\.(continue|rollback)$/,
    onRunClick(deps, 'go/no-go button', decode, async ({ channel, user, actionId, value, state, messageTs, client, reply }) => {
      const decision: GoNoGoDecision = actionId === 'gonogo.rollback' ? 'rollback' : 'continue';
      const actor = await deps.actors.resolve(user, state.plan);
      const outcome = await deps.service.execute(value.runId, { type: 'go_no_go.decide', at: deps.now(), actor, decision });
      if (!outcome.ok) {
        await reply(outcome.message);
        return;
      }
      if (messageTs && outcome.state.goNoGo) {
        const answered = renderGoNoGoAnswered(`🧭 Go/no-go: ${outcome.state.goNoGo.reason}`, user, decision);
        await client.chat.update({ channel, ts: messageTs, text: answered.text, blocks: answered.blocks });
      }
      // The core turned "rollback" into a rollback request when the runbook has the default scenario; else the run is only paused.
      const rb = outcome.state.rollback;
      if (decision === 'rollback') await reply(rb ? `Rollback (${rb.scenario}) requested: the rollback authority approves it in the run's thread.` : rollbackAdvice(state.plan));
      await deps.publisher.request(value.runId);
    }),
  );
}
