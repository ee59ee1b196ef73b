import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import { z } from 'zod';
import type { GoNoGoDecision } from '../../../runbook/events.js';
import { tell, type BotDeps } from '../../deps.js';
import { renderGoNoGoAnswered, rollbackAdvice } from '../../render/escalation-blocks.js';

const valueSchema = z.object({ r: z.string().min(1) }).strict();

function runIdOf(raw: string | undefined): string | null {
  try {
    const parsed = valueSchema.safeParse(JSON.parse(raw ?? ''));
    return parsed.success ? parsed.data.r : null;
  } catch {
    return null;
  }
}

/**
 * Continue / Start rollback on the go/no-go prompt. The answer is an event
 * (the core refuses a second answer and anyone outside the role); rollback
 * requests the runbook's default rollback scenario (see runbook/rollback.ts).
 */
export function registerGoNoGoButtons(app: App, deps: BotDeps): void {
  app.action<BlockAction<ButtonAction>>(/^gonogo\.(continue|rollback)$/, async ({ ack, body, action, client }) => {
    await ack();
    const channel = body.channel?.id ?? body.container?.channel_id;
    const user = body.user.id;
    if (!channel) return;
    if (!(await deps.dedup.firstDelivery(`action:${user}:${action.action_ts}:${action.action_id}:${action.value ?? ''}`))) return;
    const runId = runIdOf(action.value);
    const decision: GoNoGoDecision = action.action_id === 'gonogo.rollback' ? 'rollback' : 'continue';
    if (!runId) {
      await tell(client, channel, user, 'That button is not one I recognise; it may be from an older version of the bot.');
      return;
    }
    try {
      const state = await deps.service.load(runId);
      if (!state) {
        await tell(client, channel, user, `Run ${runId} no longer exists.`);
        return;
      }
      const actor = await deps.actors.resolve(user, state.plan);
      const outcome = await deps.service.execute(runId, { type: 'go_no_go.decide', at: deps.now(), actor, decision });
      if (!outcome.ok) {
        await tell(client, channel, user, outcome.message);
        return;
      }
      const ts = body.message?.ts ?? body.container?.message_ts;
      if (ts && outcome.state.goNoGo) {
        const answered = renderGoNoGoAnswered(`🧭 Go/no-go: ${outcome.state.goNoGo.reason}`, user, decision);
        await client.chat.update({ channel, ts, text: answered.text, blocks: answered.blocks });
      }
      // The core turned "rollback" into a rollback request when the runbook has the default scenario; else the run is only paused.
      const rb = outcome.state.rollback;
      if (decision === 'rollback') await tell(client, channel, user, rb ? `Rollback (${rb.scenario}) requested: the rollback authority approves it in the run's thread.` : rollbackAdvice(state.plan));
      await deps.publisher.request(runId);
    } catch (err) {
      deps.log.error({ err, runId }, 'go/no-go button failed');
      await tell(client, channel, user, 'Something went wrong handling that click; nothing was changed. The error is in the bot log.');
    }
  });
}
