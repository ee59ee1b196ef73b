import type { SlashCommand } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { shownProblems } from '../../../config/runbook-files.js';
import { contactsOf } from '../../../runbook/escalation.js';
import { permissionRefusal } from '../../../runbook/policy.js';
import { parseScheduleTime } from '../../../runbook/schedule.js';
import { tell, type BotDeps } from '../../deps.js';
import { renderContacts } from '../../render/contacts-blocks.js';
import { slackTime } from '../../render/format.js';
import { renderScheduled } from '../../render/schedule-blocks.js';

const MIN_LEAD_MS = 5_000;
const MAX_AHEAD_MS = 90 * 86_400_000;

const stamp = (at: number): string => new Date(at).toISOString().replace(/[-:]/g, '').slice(0, 13).replace('T', '-');

/** `/migrate contacts [runbook]`: the named runbook, else the one running in this channel, else the only one there is. */
export async function contactsCommand(deps: BotDeps, client: WebClient, c: SlashCommand, name: string | null): Promise<void> {
  let chosen = name;
  if (!chosen) {
    const active = await deps.service.activeRunIds();
    const here = (await Promise.all(active.map((a) => deps.service.load(a.runId)))).filter((s) => s?.channel === c.channel_id);
    const names = here.length > 0 ? here.map((s) => s?.plan.runbook ?? '') : (await deps.runbooks.list()).map((e) => e.name);
    if (names.length !== 1) return tell(client, c.channel_id, c.user_id, `Which runbook? e.g. \`/migrate contacts ${names[0] ?? 'kgv'}\` (${names.map((n) => `\`${n}\``).join(', ') || 'none found'}).`);
    chosen = names[0] as string;
  }
  const entry = await deps.runbooks.get(chosen);
  if (!entry) return tell(client, c.channel_id, c.user_id, `There is no runbook \`${chosen}\`. \`/migrate runbooks\` lists them.`);
  if (!entry.result.ok) return tell(client, c.channel_id, c.user_id, `Runbook \`${chosen}\` has errors:\n${shownProblems(entry.result.problems).map((p) => `• ${p}`).join('\n')}`);
  const rendered = renderContacts(entry.result.runbook.plan, contactsOf(entry.result.runbook.doc));
  await client.chat.postEphemeral({ channel: c.channel_id, user: c.user_id, text: rendered.text, blocks: rendered.blocks });
}

/** `/migrate schedule <runbook> <ISO time>`: checked now as a start would be, stored in Redis, announced in the channel. */
export async function scheduleCommand(deps: BotDeps, client: WebClient, c: SlashCommand, name: string, text: string): Promise<void> {
  const at = parseScheduleTime(text);
  if (at === null) return tell(client, c.channel_id, c.user_id, `\`${text}\` is not an ISO time with an offset; write e.g. \`2024-03-09T22:00:00+01:00\` or \`2024-03-09T21:00:00Z\`.`);
  const refused = await scheduleRun(deps, client, { runbook: name, at, channel: c.channel_id, user: c.user_id });
  if (refused) await tell(client, c.channel_id, c.user_id, refused);
}

/**
 * Schedules a run (the slash command and the Start modal): checked now as a
 * start would be, stored, announced in the channel. Returns the refusal, fit
 * for Slack, or null once it is scheduled.
 */
export async function scheduleRun(deps: BotDeps, client: WebClient, req: { runbook: string; at: number; channel: string; user: string }): Promise<string | null> {
  const { runbook: name, at } = req;
  const now = deps.now();
  if (at < now + MIN_LEAD_MS) return `${slackTime(at)} is in the past; to start now use \`/migrate start ${name}\`.`;
  if (at > now + MAX_AHEAD_MS) return 'A run can be scheduled at most 90 days ahead.';
  const entry = await deps.runbooks.get(name);
  if (!entry) return `There is no runbook \`${name}\`. \`/migrate runbooks\` lists them.`;
  if (!entry.result.ok) return `Runbook \`${name}\` cannot be scheduled; fix these first:\n${shownProblems(entry.result.problems).map((p) => `• ${p}`).join('\n')}`;
  const plan = entry.result.runbook.plan;
  const denied = permissionRefusal(plan, 'start', await deps.actors.resolve(req.user, plan));
  if (denied) return denied;
  const existing = (await deps.schedules.list()).find((s) => s.runbook === name && s.at > now);
  if (existing) return `\`${name}\` is already scheduled for ${slackTime(existing.at)} (\`${existing.id}\`); \`/migrate unschedule ${existing.id}\` first.`;
  const id = `${name}-${stamp(at)}`;
  await deps.schedules.add({ id, runbook: name, at, channel: req.channel, by: req.user, createdAt: now, runId: deps.newRunId(name, at) });
  await client.chat.postMessage({
    channel: req.channel,
    text:
      `🗓 <@${req.user}> scheduled *${plan.title}* (\`${name}\`) to start at ${slackTime(at)}. ` +
      `Reminders at T-24h, T-1h and T-10m; roll calls the day before and when the window opens. Cancel with \`/migrate unschedule ${id}\`.`,
  });
  return null;
}

/** `/migrate unschedule <runbook|id>`: by whoever scheduled it or anyone allowed to start the runbook. */
export async function unscheduleCommand(deps: BotDeps, client: WebClient, c: SlashCommand, target: string): Promise<void> {
  const reply = (t: string) => tell(client, c.channel_id, c.user_id, t);
  const found = (await deps.schedules.list()).find((s) => s.id === target || s.runbook === target);
  if (!found) return reply(`Nothing scheduled matches \`${target}\`; \`/migrate status\` lists scheduled runs.`);
  if (found.by !== c.user_id) {
    const entry = await deps.runbooks.get(found.runbook);
    const plan = entry?.result.ok ? entry.result.runbook.plan : null;
    const denied = plan ? permissionRefusal(plan, 'start', await deps.actors.resolve(c.user_id, plan)) : null;
    if (denied) return reply(`Only <@${found.by}>, who scheduled it, or someone allowed to start it may cancel it. ${denied}`);
  }
  if (!(await deps.schedules.remove(found.id))) return reply(`\`${found.id}\` was already gone.`);
  await client.chat.postMessage({ channel: found.channel, text: `🗓 <@${c.user_id}> cancelled the run of \`${found.runbook}\` scheduled for ${slackTime(found.at)} (\`${found.id}\`).` });
}

/** Scheduled runs for `/migrate status`; empty when there are none. */
export async function scheduledStatus(deps: BotDeps): Promise<string> {
  const now = deps.now();
  // Once started, a schedule lingers only for its last roll-call check; the run itself is listed instead.
  return renderScheduled((await deps.schedules.list()).filter((s) => s.at > now), now);
}
