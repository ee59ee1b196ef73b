import type { App, SlashCommand } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { shownProblems } from '../../../config/runbook-files.js';
import type { Command } from '../../../runbook/decide.js';
import { isUnreadableRun } from '../../../runbook/event-schema.js';
import type { RunState } from '../../../runbook/state.js';
import type { DestructiveRequest } from '../../../runbook/destructive.js';
import { HELP_TEXT, parseMigrateText } from '../../command-text.js';
import { confirmationFor } from '../../destructive/destructive-commands.js';
import { tell, type BotDeps } from '../../deps.js';
import { encodeHomeValue, HOME_START } from '../../home/home-actions.js';
import { renderBackups } from '../../render/backups-text.js';
import { renderFollowUpStatus } from '../../render/follow-up-blocks.js';
import { renderStatus } from '../../render/status-text.js';
import { compareCommand, reportCommand } from './report-commands.js';
import { rollbackCommand } from './rollback-command.js';
import { startRun } from '../../start-run.js';
import { contactsCommand, scheduleCommand, scheduledStatus, unscheduleCommand } from './schedule-commands.js';

/** `/migrate …`: acks at once, then answers ephemerally; the run's messages are the publisher's job. */
export function registerMigrateCommand(app: App, deps: BotDeps): void {
  app.command('/migrate', async ({ ack, command, client }) => {
    await ack();
    if (!(await deps.dedup.firstDelivery(`command:${command.trigger_id}`))) {
      deps.log.info({ trigger: command.trigger_id }, 'duplicate slash command delivery ignored');
      return;
    }
    try {
      await handle(deps, client, command);
    } catch (err) {
      deps.log.error({ err }, 'slash command failed');
      await tell(client, command.channel_id, command.user_id, 'Something went wrong handling that command; the error is in the bot log.');
    }
  });
}

async function handle(deps: BotDeps, client: WebClient, c: SlashCommand): Promise<void> {
  const reply = (text: string) => tell(client, c.channel_id, c.user_id, text);
  const parsed = parseMigrateText(c.text);
  switch (parsed.kind) {
    case 'help':
      return reply(parsed.problem ? `${parsed.problem}\n\n${HELP_TEXT}` : HELP_TEXT);
    case 'home':
      return homePointer(deps, client, c);
    case 'refused':
      return reply(parsed.problem);
    case 'runbooks':
      return reply(await listRunbooks(deps));
    case 'backups': {
      const runs = await channelRuns(deps, c.channel_id, null, false);
      return reply(runs.length ? runs.map(renderBackups).join('\n\n') : 'There is no active run in this channel, so no backup catalogue to show.');
    }
    case 'report':
      return reportCommand(deps, client, c, parsed.runId);
    case 'compare':
      return compareCommand(deps, client, c, parsed.runId, parsed.other);
    case 'start':
      return start(deps, client, c, parsed.runbook, parsed.dryRun);
    case 'status': {
      const unreadable: string[] = [];
      const runs = await channelRuns(deps, c.channel_id, parsed.target, true, unreadable);
      const scheduled = await scheduledStatus(deps);
      const followUps = await followUpStatus(deps, parsed.target);
      const stopped = unreadable.map((message) => `⛔ ${message}`).join('\n\n');
      const active = runs.length ? runs.map((r) => renderStatus(r, deps.now())).join('\n\n') : stopped ? '' : 'No active run. Start one with `/migrate start <runbook>`.';
      return reply([stopped, active, followUps, scheduled].filter(Boolean).join('\n\n'));
    }
    case 'contacts':
      return contactsCommand(deps, client, c, parsed.runbook);
    case 'schedule':
      return scheduleCommand(deps, client, c, parsed.runbook, parsed.at);
    case 'unschedule':
      return unscheduleCommand(deps, client, c, parsed.target);
    case 'rollback':
      return rollbackCommand(deps, client, c, parsed.words, await channelRuns(deps, c.channel_id, null, false));
    default:
      return control(deps, client, c, parsed);
  }
}

/** `/migrate` alone: where to look (the Home tab, published for them now) and a Start button; `/migrate help` for the commands. */
async function homePointer(deps: BotDeps, client: WebClient, c: SlashCommand): Promise<void> {
  void deps.home.opened(c.user_id);
  const text = 'Your cutovers are on my *Home* tab — open *cutover* under Apps in the sidebar: what waits for you, runs in progress, scheduled and recent runs with their reports. `/migrate help` lists every command.';
  await client.chat.postEphemeral({
    channel: c.channel_id,
    user: c.user_id,
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text } },
      { type: 'actions', elements: [{ type: 'button', action_id: HOME_START, text: { type: 'plain_text', text: 'Start a run…', emoji: true }, value: encodeHomeValue({ runId: '' }) }] },
    ],
  });
}

async function listRunbooks(deps: BotDeps): Promise<string> {
  const entries = await deps.runbooks.list();
  if (entries.length === 0) return 'No runbooks found.';
  return entries
    .map((e) =>
      e.result.ok
        ? `✅ \`${e.name}\` — ${e.result.runbook.doc.title} (${e.result.runbook.plan.phases.length} phases)`
        : `❌ \`${e.name}\` has errors:\n${shownProblems(e.result.problems).map((p) => `   • ${p}`).join('\n')}`,
    )
    .join('\n');
}

async function start(deps: BotDeps, client: WebClient, c: SlashCommand, name: string, dryRun: boolean): Promise<void> {
  const result = await startRun(deps, { runbook: name, channel: c.channel_id, user: c.user_id, dryRun });
  if (!result.ok) return tell(client, c.channel_id, c.user_id, result.message);
}

async function control(deps: BotDeps, client: WebClient, c: SlashCommand, parsed: ReturnType<typeof parseMigrateText>): Promise<void> {
  const reply = (text: string) => tell(client, c.channel_id, c.user_id, text);
  const runs = await channelRuns(deps, c.channel_id, null, false);
  if (runs.length === 0) return reply('There is no active run in this channel.');
  const words = 'words' in parsed ? parsed.words : [];
  const named = runs.find((r) => words[0] !== undefined && (r.plan.runbook === words[0] || r.runId === words[0]));
  const withStep = 'stepId' in parsed ? runs.filter((r) => r.steps[parsed.stepId] !== undefined) : [];
  const run = named ?? (withStep.length === 1 ? withStep[0] : undefined) ?? (runs.length === 1 ? runs[0] : undefined);
  if (!run) {
    return reply(`Several runs are active here (${runs.map((r) => `\`${r.plan.runbook}\``).join(', ')}); name one, e.g. \`/migrate ${parsed.kind} ${runs[0]?.plan.runbook} …\`.`);
  }
  const typed = (named ? words.slice(1) : words).join(' ');
  const at = deps.now();
  switch (parsed.kind) {
    case 'abort':
      return confirm(deps, client, c, { kind: 'abort', runId: run.runId, reason: typed });
    case 'skip':
    case 'override':
      return confirm(deps, client, c, { kind: parsed.kind, runId: run.runId, stepId: parsed.stepId, reason: parsed.reason });
    default:
      break;
  }
  const actor = await deps.actors.resolve(c.user_id, run.plan);
  let command: Extract<Command, { type: 'pause' | 'resume' | 'hold' | 'reject' }>;
  switch (parsed.kind) {
    case 'pause':
      command = { type: 'pause', at, actor, reason: typed || 'no reason given' };
      break;
    case 'resume':
      command = { type: 'resume', at, actor };
      break;
    case 'hold':
    case 'reject':
      command = { type: parsed.kind, at, actor, stepId: parsed.stepId, reason: parsed.reason };
      break;
    default:
      return reply(HELP_TEXT);
  }
  const outcome = await deps.service.execute(run.runId, command);
  if (!outcome.ok) return reply(outcome.message);
  await deps.publisher.request(run.runId);
  await reply(DONE_TEXT[command.type]);
}

/** The acknowledgement to the person; the thread tells everyone else. */
const DONE_TEXT: Record<'pause' | 'resume' | 'hold' | 'reject', string> = {
  pause: '⏸️ Done: the run is paused (posted in its thread). Nothing new is approved until someone resumes it with `/migrate resume`.',
  resume: '▶️ Done: the run is resumed (posted in its thread); waiting steps can be approved again.',
  hold: '✋ Done: the step is on hold; Release hold in its message lets it be approved again.',
  reject: '🚫 Done: the step is rejected; Retry or Skip it from its message.',
};

/** A destructive command as typed: refused now (with the usage) or shown back with a Confirm button; nothing happens before the click. */
async function confirm(deps: BotDeps, client: WebClient, c: SlashCommand, request: DestructiveRequest): Promise<void> {
  const confirmation = await confirmationFor(deps, request, c.user_id);
  if (!confirmation.ok) return tell(client, c.channel_id, c.user_id, confirmation.message);
  await client.chat.postEphemeral({ channel: c.channel_id, user: c.user_id, text: confirmation.text, blocks: confirmation.blocks });
}

/** Open follow-ups of completed runs (of the named runbook or run, when one is named); empty when there are none. */
async function followUpStatus(deps: BotDeps, target: string | null): Promise<string> {
  // A completed run whose history cannot be read shows no follow-ups here; the follow-up sweep logs it.
  const readable = (id: string) => deps.service.load(id).catch((err: unknown) => (isUnreadableRun(err) ? null : Promise.reject(err)));
  const states = (await Promise.all((await deps.followUps.list()).map(readable))).filter((s): s is RunState => s !== null);
  return renderFollowUpStatus(target ? states.filter((s) => s.runId === target || s.plan.runbook === target) : states, deps.now());
}

/**
 * Active runs posted in this channel (all channels for status when none is here). A run whose history
 * cannot be read is left out, its error (naming the run, entry and field) pushed to `unreadable`: it
 * must not hide the other runs, and status shows why it stopped.
 */
async function channelRuns(deps: BotDeps, channel: string, target: string | null, anyChannel: boolean, unreadable: string[] = []): Promise<RunState[]> {
  const load = (runId: string): Promise<RunState | null> =>
    deps.service.load(runId).catch((err: unknown) => {
      if (!isUnreadableRun(err)) throw err;
      unreadable.push(err.userMessage);
      return null;
    });
  if (target) {
    const state = await load(target);
    if (state) return [state];
    if (unreadable.length) return [];
  }
  const active = await deps.service.activeRunIds();
  const states = (await Promise.all(active.map((a) => load(a.runId)))).filter((s): s is RunState => s !== null);
  const filtered = states.filter((s) => (target ? s.plan.runbook === target : true));
  const here = filtered.filter((s) => s.channel === channel);
  return here.length > 0 || !anyChannel ? here : filtered;
}
