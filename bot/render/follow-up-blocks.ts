import type { ActionsBlock, Button, KnownBlock, PlainTextOption, StaticSelect } from '@slack/types';
import { formatSpan } from '../../runbook/duration.js';
import { followUpAnchor, followUpViews, type FollowUpView } from '../../runbook/follow-ups.js';
import { describeRole } from '../../runbook/policy.js';
import type { RunState } from '../../runbook/state.js';
import { encodeFollowUpValue } from '../follow-ups/follow-up-value.js';
import { mentions } from './escalation-blocks.js';
import { clip, slackTime } from './format.js';

/** Periods offered by "Snooze for…" besides the runbook's own (the Snooze button). */
export const SNOOZE_CHOICES = [3600, 4 * 3600, 86_400, 3 * 86_400, 7 * 86_400] as const;
/** Slack's limit on an option's value. */
const OPTION_VALUE_MAX = 150;

export interface RenderedFollowUp {
  text: string;
  blocks: KnownBlock[];
  dmText: string;
  dmBlocks: KnownBlock[];
}

/**
 * Reminder number `seq` of a follow-up, drawn from the run's state: while the
 * duty is open it carries Done, Snooze and "Snooze for…"; snoozed, it says
 * until when and keeps Done; done, it says by whom and loses its buttons.
 * Redrawn the same way after every click, so all copies tell one story.
 */
export function renderFollowUpReminder(state: RunState, followUpId: string, seq: number, now: number): RenderedFollowUp | null {
  const view = followUpViews(state, now).find((v) => v.followUp.id === followUpId);
  const sent = state.followUps?.[followUpId]?.reminders[seq - 1];
  if (!view || !sent) return null;
  const f = view.followUp;
  const role = state.plan.roles[f.role];
  const head = sent.level === 'escalation' ? '🚨 Follow-up overdue' : '🔔 Follow-up due';
  const who = mentions(sent.to, role?.usergroups ?? []);
  const from = followUpAnchor(state)?.from === 'go-live' ? 'go-live' : 'the run completed';
  const unanswered = sent.level === 'escalation' ? ` Nobody has marked it done or snoozed it for ${formatSpan(f.escalateAfterSeconds)}.` : '';
  const text = clip(
    `${head}: *${f.title}* — for ${role?.title ?? f.role}, due ${slackTime(view.dueAt)} (${formatSpan(f.afterSeconds)} after ${from}).${unanswered}${who ? ` ${who}` : ''}`,
    3000,
  );
  const where = `${state.plan.title} — run \`${state.runId}\` in <#${state.channel}>`;
  const dmText = clip(`${head} (${where}): *${f.title}*, due ${slackTime(view.dueAt)}.${unanswered}`, 3000);
  const body: KnownBlock[] = [];
  if (f.description) body.push({ type: 'section', text: { type: 'mrkdwn', text: clip(f.description, 3000) } });
  if (f.checklist.length > 0) body.push({ type: 'section', text: { type: 'mrkdwn', text: clip(f.checklist.map((c) => `☐ ${c}`).join('\n'), 3000) } });
  const tail: KnownBlock[] = [...answerBlocks(view, state.runId, seq), context(state, view, seq, sent.level)];
  return {
    text,
    blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }, ...body, ...tail],
    dmText,
    dmBlocks: [{ type: 'section', text: { type: 'mrkdwn', text: dmText } }, ...body, ...tail],
  };
}

function answerBlocks(view: FollowUpView, runId: string, seq: number): KnownBlock[] {
  if (view.done) return [{ type: 'section', text: { type: 'mrkdwn', text: `✅ Done — marked by <@${view.done.by}> at ${slackTime(view.done.at)}.` } }];
  const out: KnownBlock[] = [];
  if (view.snoozed) out.push({ type: 'section', text: { type: 'mrkdwn', text: `💤 Snoozed by <@${view.snoozed.by}> until ${slackTime(view.snoozed.until)}.` } });
  out.push(buttons(view, runId, seq));
  return out;
}

function buttons(view: FollowUpView, runId: string, seq: number): ActionsBlock {
  const f = view.followUp;
  const value = (seconds?: number): string => encodeFollowUpValue({ runId, followUpId: f.id, seq, ...(seconds !== undefined ? { seconds } : {}) });
  const done: Button = { type: 'button', text: { type: 'plain_text', text: 'Done' }, action_id: 'followup.done', value: value(), style: 'primary' };
  const elements: ActionsBlock['elements'] = [done];
  // A snooze from this reminder was taken already: offering another would only be refused.
  if (!view.snoozed) {
    elements.push({ type: 'button', text: { type: 'plain_text', text: clip(`Snooze ${formatSpan(f.snoozeSeconds)}`, 75) }, action_id: 'followup.snooze', value: value(f.snoozeSeconds) });
    const options: PlainTextOption[] = SNOOZE_CHOICES.filter((s) => s !== f.snoozeSeconds).map((s) => ({ text: { type: 'plain_text', text: `Snooze ${formatSpan(s)}` }, value: value(s) }));
    if (options.every((o) => (o.value ?? '').length <= OPTION_VALUE_MAX)) {
      const select: StaticSelect = { type: 'static_select', action_id: 'followup.snooze_for', placeholder: { type: 'plain_text', text: 'Snooze for…' }, options };
      elements.push(select);
    }
  }
  return { type: 'actions', block_id: clip(`followup:${f.id}:${seq}`, 255), elements };
}

function context(state: RunState, view: FollowUpView, seq: number, level: string): KnownBlock {
  const role = state.plan.roles[view.followUp.role];
  const text = `run \`${state.runId}\` · follow-up \`${view.followUp.id}\` · ${level} ${seq} · only ${role?.title ?? view.followUp.role} may press Done or Snooze`;
  return { type: 'context', elements: [{ type: 'mrkdwn', text: clip(text, 3000) }] };
}

function statusLine(v: FollowUpView, roleTitle: string, now: number): string {
  const f = v.followUp;
  const nagged = [v.reminders > 0 ? `reminded ${v.reminders}×` : '', v.escalated ? 'escalated' : ''].filter(Boolean).join(' · ');
  const tail = nagged ? ` · ${nagged}` : '';
  switch (v.phase) {
    case 'scheduled':
      return `⏳ *${f.title}* — for ${roleTitle} — due ${slackTime(v.dueAt)} (in ${formatSpan((v.dueAt - now) / 1000)})`;
    case 'snoozed':
      return `💤 *${f.title}* — for ${roleTitle} — due since ${slackTime(v.dueAt)}, snoozed by <@${v.snoozed?.by ?? '?'}> until ${slackTime(v.snoozed?.until ?? now)}${tail}`;
    default:
      return `🔔 *${f.title}* — for ${roleTitle} — due since ${slackTime(v.dueAt)} (${formatSpan((now - v.dueAt) / 1000)} ago)${tail}`;
  }
}

/** `/migrate status`: each completed run's follow-ups not yet done; empty when there are none. */
export function renderFollowUpStatus(states: readonly RunState[], now: number): string {
  const parts: string[] = [];
  for (const state of states) {
    const views = followUpViews(state, now);
    const open = views.filter((v) => v.phase !== 'done');
    if (open.length === 0) continue;
    const anchor = followUpAnchor(state);
    const since = anchor ? `${anchor.from === 'go-live' ? 'went live' : 'completed'} ${slackTime(anchor.at)}` : '';
    const lines = open.map((v) => {
      const role = state.plan.roles[v.followUp.role];
      return `• ${statusLine(v, role ? describeRole(role) : v.followUp.role, now)}`;
    });
    parts.push(`*${state.plan.title}* — run \`${state.runId}\` in <#${state.channel}>, ${since} · ${views.length - open.length} of ${views.length} done\n${lines.join('\n')}`);
  }
  return parts.length ? `*Follow-ups after go-live*\n${parts.join('\n')}` : '';
}

/** One line for the root message of a completed run with follow-ups; null when it has none. */
export function followUpRootLine(state: RunState): string | null {
  // Time-free on purpose: the root is redrawn only when something changes, so "in 3h" would go stale.
  const views = followUpViews(state, state.finishedAt ?? 0);
  if (views.length === 0) return null;
  const open = views.filter((v) => !v.done).sort((a, b) => a.dueAt - b.dueAt);
  const next = open[0];
  const done = views.length - open.length;
  if (!next) return `📋 Follow-ups after go-live: all ${views.length} done.`;
  return `📋 Follow-ups after go-live: ${done} of ${views.length} done · next: *${next.followUp.title}*, due ${slackTime(next.dueAt)} · \`/migrate status\` lists them`;
}
