import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import { rollbackAuthority } from '../../../runbook/gate.js';
import { describeRole } from '../../../runbook/policy.js';
import { decodeButtonValue } from '../../button-value.js';
import { tell, type BotDeps } from '../../deps.js';
import { GATE_OVERRIDE_ACTION } from '../../render/gate-lines.js';

/**
 * "Override (rollback authority)" on a gated step: it only explains how. An
 * override needs a written reason, which a button cannot carry, so it is done
 * with `/migrate override <step> <reason>` and decided (and audited) in the core.
 */
export function registerGateButtons(app: App, deps: BotDeps): void {
  app.action<BlockAction<ButtonAction>>(GATE_OVERRIDE_ACTION, async ({ ack, body, action, client }) => {
    await ack();
    const channel = body.channel?.id ?? body.container?.channel_id;
    const value = decodeButtonValue(action.value);
    if (!channel || !value) return;
    try {
      const state = await deps.service.load(value.runId);
      const authority = state ? rollbackAuthority(state.plan) : null;
      const who = authority ? `Only the rollback authority, ${describeRole(authority)}, may override it` : 'This runbook names no rollback authority, so nobody may override it';
      await tell(
        client,
        channel,
        body.user.id,
        `${who}, with a written reason that is recorded in the run and the reports: \`/migrate override ${value.stepId} <reason>\`. After the override the step is approved as usual.`,
      );
    } catch (err) {
      deps.log.error({ err, runId: value.runId }, 'gate button failed');
    }
  });
}
