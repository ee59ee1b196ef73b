import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import { z } from 'zod';
import { parseValueJson } from '../../button-value.js';
import { isMember, describeRole } from '../../../runbook/policy.js';
import { tell, type BotDeps } from '../../deps.js';
import { renderRollCall } from '../../render/schedule-blocks.js';

const valueSchema = z.object({ s: z.string().min(1), c: z.union([z.literal(1), z.literal(2)]), r: z.string().min(1), d: z.number().int() }).strict();

function decode(raw: string | undefined): z.infer<typeof valueSchema> | null {
  const parsed = parseValueJson(raw, valueSchema);
  return parsed ? parsed : null;
}

/** "I'm here — <role>" on a roll call: records the confirmation if the clicker is in that role, then redraws the roll call. */
export function registerRollCallButtons(app: App, deps: BotDeps): void {
  app.action<BlockAction<ButtonAction>>(/^rollcall\.confirm\./, async ({ ack, body, action, client }) => {
    await ack();
    const channel = body.channel?.id ?? body.container?.channel_id;
    const user = body.user.id;
    if (!channel) return;
    const value = decode(action.value);
    if (!value) {
      await tell(client, channel, user, 'That button is not one I recognise; it may be from an older version of the bot.');
      return;
    }
    try {
      const schedule = await deps.schedules.get(value.s);
      const entry = schedule ? await deps.runbooks.get(schedule.runbook) : null;
      if (!schedule || !entry?.result.ok) {
        await tell(client, channel, user, 'This roll call is over: its scheduled run has started or was cancelled.');
        return;
      }
      const plan = entry.result.runbook.plan;
      const role = plan.roles[value.r];
      if (!role) {
        await tell(client, channel, user, `The runbook has no role "${value.r}" any more.`);
        return;
      }
      if (!isMember(role, await deps.actors.resolve(user, plan))) {
        await tell(client, channel, user, `You are not in ${describeRole(role)}; only its members can confirm for it.`);
        return;
      }
      // Confirming twice is harmless: the field is keyed by call, role and person.
      await deps.schedules.confirm(schedule.id, value.c, value.r, user, deps.now());
      const ts = body.message?.ts ?? body.container?.message_ts;
      if (ts) {
        const confirmed = await deps.schedules.confirmations(schedule.id, value.c);
        const rendered = renderRollCall(schedule, plan, value.c, value.d, confirmed);
        await client.chat.update({ channel, ts, text: rendered.text, blocks: rendered.blocks });
      }
      await tell(client, channel, user, `Thanks — you are down as present for ${role.title}.`);
    } catch (err) {
      deps.log.error({ err, schedule: value.s }, 'roll call button failed');
      await tell(client, channel, user, 'Something went wrong recording that; please try again. The error is in the bot log.');
    }
  });
}
