import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import { rollbackAuthority } from '../../../runbook/gate.js';
import { describeRole } from '../../../runbook/policy.js';
import { decodeButtonValue } from '../../button-value.js';
import { tell, type BotDeps } from '../../deps.js';
import { openReasonModal } from '../../modals/modal-openers.js';
import { GATE_OVERRIDE_ACTION } from '../../render/gate-lines.js';

/**
 * "Override (rollback authority)" on a gated step: opens a modal asking for
 * the written reason an override needs; its submission is decided (and
 * audited) in the core like `/migrate override <step> <reason>`. Someone the
 * core would refuse anyway is told at once who may, and how.
 */
export function registerGateButtons(app: App, deps: BotDeps): void {
  app.action<BlockAction<ButtonAction>>(GATE_OVERRIDE_ACTION, async ({ ack, body, action, client }) => {
    await ack();
    const channel = body.channel?.id ?? body.container?.channel_id;
    const value = decodeButtonValue(action.value);
    if (!channel || !value) return;
    try {
      const state = await deps.service.load(value.runId);
      if (state && !(await deps.dedup.firstDelivery(`action:${body.user.id}:${action.action_ts}:${action.action_id}`))) return;
      const problem = state ? await openReasonModal(deps, client, body.trigger_id, state, { kind: 'override', user: body.user.id, channel, stepId: value.stepId }) : null;
      if (state && problem === null) return;
      const authority = state ? rollbackAuthority(state.plan) : null;
      const who = authority ? `Only the rollback authority, ${describeRole(authority)}, may override it` : 'This runbook names no rollback authority, so nobody may override it';
      await tell(
        client,
        channel,
        body.user.id,
        `${problem ? `${problem}\n` : ''}${who}, with a written reason that is recorded in the run and the reports: \`/migrate override ${value.stepId} <reason>\`. After the override the step is approved as usual.`,
      );
    } catch (err) {
      deps.log.error({ err, runId: value.runId }, 'gate button failed');
    }
  });
}
