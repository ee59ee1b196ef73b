import type { ActionsBlock, Button, KnownBlock } from '@slack/types';
import type { ScheduledRun } from '../../config/schedule-store.js';
import { formatDuration } from '../../runbook/duration.js';
import type { Plan } from '../../runbook/plan.js';
import type { RollCall } from '../../runbook/schedule.js';
import { mentions } from './escalation-blocks.js';
import { clip, slackTime } from './format.js';

/** Everyone in every role: who a scheduled run's reminders reach. */
export function everyone(plan: Plan): { users: string[]; groups: string[] } {
  const roles = Object.values(plan.roles);
  return { users: [...new Set(roles.flatMap((r) => r.members))], groups: [...new Set(roles.flatMap((r) => r.usergroups))] };
}

/** "starts in 1h, at …": the time really left, in whole minutes (a reminder sent late after downtime says so). */
export function renderReminder(s: ScheduledRun, plan: Plan | null, now: number): string {
  const who = plan ? everyone(plan) : { users: [], groups: [] };
  const title = plan?.title ?? s.runbook;
  const left = formatDuration(Math.max(60, Math.round((s.at - now) / 60_000) * 60));
  return clip(`⏰ *${title}* (\`${s.runbook}\`) starts in ${left}, at ${slackTime(s.at)} — scheduled by <@${s.by}> (\`${s.id}\`). ${mentions(who.users, who.groups)}`, 3000);
}

export interface RollCallValue {
  scheduleId: string;
  call: RollCall;
  role: string;
  /** Carried so the roll call can be redrawn with the same deadline. */
  deadline: number;
}

export const encodeRollCallValue = (v: RollCallValue): string => JSON.stringify({ s: v.scheduleId, c: v.call, r: v.role, d: v.deadline });

/** The roll call: one line and one "I'm here" button per role, redrawn as people confirm. */
export function renderRollCall(s: ScheduledRun, plan: Plan, call: RollCall, deadline: number, confirmed: Record<string, string[]>): { text: string; blocks: KnownBlock[] } {
  const when = call === 1 ? 'for tomorrow' : 'the window is opening';
  const head = `🙋 Roll call (${when}): *${plan.title}* starts at ${slackTime(s.at)}. One person per role, please confirm you are here by ${slackTime(deadline)}; a role nobody confirms for is escalated.`;
  const lines = Object.values(plan.roles).map((r) => {
    const who = confirmed[r.id] ?? [];
    return who.length > 0 ? `✅ *${r.title}*: ${mentions(who)}` : `⏳ *${r.title}*: waiting for ${mentions(r.members, r.usergroups) || 'anyone'}`;
  });
  const buttons: Button[] = Object.values(plan.roles).map((r) => ({
    type: 'button',
    text: { type: 'plain_text', text: clip(`I'm here — ${r.title}`, 75) },
    action_id: `rollcall.confirm.${r.id}`,
    value: encodeRollCallValue({ scheduleId: s.id, call, role: r.id, deadline }),
  }));
  const actions: ActionsBlock[] = [];
  // Slack allows 25 elements per actions block.
  for (let i = 0; i < buttons.length && actions.length < 5; i += 25) {
    actions.push({ type: 'actions', block_id: `rollcall:${s.id}:${call}:${i}`, elements: buttons.slice(i, i + 25) });
  }
  const text = clip(`${head}\n${lines.join('\n')}`, 3000);
  return { text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }, ...actions] };
}

/** Lines for `/migrate status`. */
export function renderScheduled(list: readonly ScheduledRun[], now: number): string {
  if (list.length === 0) return '';
  const lines = list.map((s) => {
    const when = s.at > now ? `in ${formatDuration((s.at - now) / 1000)}` : 'starting now';
    return `🗓 \`${s.runbook}\` starts at ${slackTime(s.at)} (${when}) — scheduled by <@${s.by}> in <#${s.channel}>, id \`${s.id}\``;
  });
  return `*Scheduled runs*\n${lines.join('\n')}`;
}
