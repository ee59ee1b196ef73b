import type { KnownBlock, View } from '@slack/types';
import type { ScheduledRun } from '../../config/schedule-store.js';
import { formatDuration } from '../../runbook/duration.js';
import { currentStep, type RunState } from '../../runbook/state.js';
import type { WaitingItem } from '../../runbook/waiting-for.js';
import { clip, slackTime, STATUS_LABEL } from '../render/format.js';
import { encodeHomeValue, HOME_ABORT, HOME_ROLLBACK, HOME_START } from './home-actions.js';

/** What one person's Home tab shows, gathered by the home publisher. */
export interface HomeData {
  user: string;
  now: number;
  /** Runs in progress, each with what this person may do on it. */
  active: Array<{ state: RunState; mayAbort: boolean; mayRollback: boolean }>;
  waiting: Array<WaitingItem & { runTitle: string; link: string | null }>;
  scheduled: ScheduledRun[];
  /** Finished runs, newest first, with a link to their thread (the report is posted there). */
  recent: Array<{ state: RunState; link: string | null }>;
}

/** Slack shows at most 100 blocks in a Home tab; each list is capped well inside it. */
const MAX_PER_LIST = 8;

const mrkdwn = (text: string): KnownBlock => ({ type: 'section', text: { type: 'mrkdwn', text: clip(text, 3000) } });
const context = (text: string): KnownBlock => ({ type: 'context', elements: [{ type: 'mrkdwn', text: clip(text, 2000) }] });
const header = (text: string): KnownBlock => ({ type: 'header', text: { type: 'plain_text', text, emoji: true } });
const link = (url: string | null, label: string): string => (url ? `<${url}|${label}>` : label);

const OUTCOME: Record<RunState['status'], string> = {
  active: 'in progress',
  paused: 'paused',
  completed: '✅ completed',
  aborted: '🛑 aborted',
  rolled_back: '↩️ rolled back',
};

/** The App Home tab: what waits for this person first, then runs in progress, scheduled and recent runs. */
export function renderHome(d: HomeData): View {
  const blocks: KnownBlock[] = [
    header('Cutover'),
    {
      type: 'section',
      text: { type: 'mrkdwn', text: `Your cutovers at a glance, as of <!date^${Math.floor(d.now / 1000)}^{time}|${new Date(d.now).toISOString().slice(11, 16)} UTC>. Type \`/migrate help\` in a channel for every command.` },
      accessory: { type: 'button', action_id: HOME_START, text: { type: 'plain_text', text: 'Start a run…', emoji: true }, style: 'primary', value: encodeHomeValue({ runId: '' }) },
    },
    { type: 'divider' },
    header(`Waiting for you (${d.waiting.length})`),
    ...waitingBlocks(d),
    { type: 'divider' },
    header(`In progress (${d.active.length})`),
    ...activeBlocks(d),
    { type: 'divider' },
    header(`Scheduled (${d.scheduled.length})`),
    ...(d.scheduled.length === 0
      ? [context('Nothing scheduled. `/migrate schedule <runbook> <ISO time>` or the Start at field of Start a run… sets one.')]
      : d.scheduled.slice(0, MAX_PER_LIST).map((s) => mrkdwn(`🗓 \`${s.runbook}\` at ${slackTime(s.at)} in <#${s.channel}>, scheduled by <@${s.by}> · \`${s.id}\``))),
    { type: 'divider' },
    header('Recent runs'),
    ...(d.recent.length === 0 ? [context('No finished run yet.')] : d.recent.slice(0, MAX_PER_LIST).map((r) => mrkdwn(recentLine(r.state, r.link)))),
  ];
  return { type: 'home', callback_id: 'cutover.home', blocks };
}

function waitingBlocks(d: HomeData): KnownBlock[] {
  if (d.waiting.length === 0) return [context('Nothing needs you right now. New approvals appear here as soon as a run asks for them.')];
  const shown = d.waiting.slice(0, MAX_PER_LIST).map((w) => mrkdwn(waitingLine(w, d.now)));
  if (d.waiting.length > MAX_PER_LIST) shown.push(context(`…and ${d.waiting.length - MAX_PER_LIST} more; \`/migrate status\` lists every run.`));
  return shown;
}

function waitingLine(w: HomeData['waiting'][number], now: number): string {
  const since = w.since !== null ? ` · waiting ${formatDuration((now - w.since) / 1000)}` : '';
  const where = `${w.runTitle} (\`${w.runId}\`)`;
  switch (w.kind) {
    case 'approval':
      return `🟡 *Approve ${link(w.link, w.title)}* as ${w.role} — ${where}\n${w.approvals} of ${w.needed} approvals so far${since}`;
    case 'rollback':
      return `↩️ *Approve the ${link(w.link, `${w.scenario} rollback`)}* asked by <@${w.requestedBy}> — ${where}\n“${clip(w.reason, 300)}”${since}`;
    case 'acknowledge':
      return `🚨 *Acknowledge the ${w.level}* about ${link(w.link, w.title)} — ${where}${since}`;
  }
}

function activeBlocks(d: HomeData): KnownBlock[] {
  if (d.active.length === 0) return [context('No run in progress.')];
  return d.active.slice(0, MAX_PER_LIST).flatMap(({ state, mayAbort, mayRollback }) => {
    const done = state.order.filter((id) => ['succeeded', 'skipped'].includes(state.steps[id]?.status ?? '')).length;
    const step = currentStep(state);
    const title = step ? state.plan.phases.flatMap((p) => p.steps).find((s) => s.id === step.id)?.title : null;
    const lines = [
      `*${state.plan.title}* — \`${state.runId}\` in <#${state.channel}>${state.dryRun ? ' · dry run' : ''}`,
      `${state.rollback ? `↩️ rollback ${state.rollback.scenario}: ${state.rollback.status}` : OUTCOME[state.status]} · ${done}/${state.order.length} steps done · ${formatDuration((d.now - state.startedAt) / 1000)} elapsed`,
    ];
    if (step && title) lines.push(`Now: ${title} — ${STATUS_LABEL[step.status]}`);
    if (state.paused) lines.push(`⏸️ Paused by <@${state.paused.by}>: ${clip(state.paused.reason, 200)}`);
    const buttons = [
      ...(mayRollback ? [{ type: 'button' as const, action_id: HOME_ROLLBACK, text: { type: 'plain_text' as const, text: 'Request rollback…' }, value: encodeHomeValue({ runId: state.runId }) }] : []),
      ...(mayAbort ? [{ type: 'button' as const, action_id: HOME_ABORT, style: 'danger' as const, text: { type: 'plain_text' as const, text: 'Abort…' }, value: encodeHomeValue({ runId: state.runId }) }] : []),
    ];
    const out: KnownBlock[] = [mrkdwn(lines.join('\n'))];
    if (buttons.length > 0) out.push({ type: 'actions', block_id: `run:${state.runId}`.slice(0, 255), elements: buttons });
    return out;
  });
}

function recentLine(state: RunState, url: string | null): string {
  const took = state.finishedAt !== null ? formatDuration((state.finishedAt - state.startedAt) / 1000) : '?';
  const why = state.status === 'aborted' && state.abort ? ` — “${clip(state.abort.reason, 200)}”` : state.status === 'rolled_back' && state.rollback ? ` — ${state.rollback.scenario}: “${clip(state.rollback.reason, 200)}”` : '';
  return (
    `${OUTCOME[state.status]}${why}: *${state.plan.title}* — \`${state.runId}\`${state.dryRun ? ' · dry run' : ''}\n` +
    `Finished ${state.finishedAt !== null ? slackTime(state.finishedAt) : '?'} after ${took} · ${link(url, 'thread with the report')} · \`/migrate report ${state.runId}\``
  );
}
