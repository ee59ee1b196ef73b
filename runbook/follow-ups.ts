import { refuse, type Ruling } from './ruling.js';
import { formatSpan } from './duration.js';
import { nextTierRecipients, roleContacts, type Contact, type EscalationPolicy } from './escalation.js';
import type { FollowUpLevel, RunEvent } from './events.js';
import { goLiveOf } from './go-live.js';
import type { PlanFollowUp } from './plan.js';
import { describeRole, isMember, mention, type Actor } from './policy.js';
import type { FollowUpState, RunState } from './state.js';

/**
 * Follow-ups after go-live (runbook `follow_ups:`): when each is due, whether
 * a reminder or an escalation is owed now, and the guards on Done and Snooze.
 * Pure: time comes from the caller. They live on the completed run's own
 * event stream, so the audit trail and the report carry them; none of their
 * events changes the run's status.
 */

/** Commands on a completed run's follow-ups: the sweep's reminders, and Done / Snooze from Slack. */
export type FollowUpCommand =
  | { type: 'follow_up.remind'; at: number; followUpId: string; level: FollowUpLevel; reason: string; to: string[] }
  | { type: 'follow_up.done'; at: number; actor: Actor; followUpId: string }
  /** reminder: the number of the reminder whose button was clicked, so a second click on it is answered, not recorded. */
  | { type: 'follow_up.snooze'; at: number; actor: Actor; followUpId: string; seconds: number; reminder?: number };

export const FOLLOW_UP_COMMANDS: ReadonlySet<string> = new Set(['follow_up.remind', 'follow_up.done', 'follow_up.snooze']);

/** A snooze longer than this is a typo or a way of never doing the duty. */
export const MAX_SNOOZE_SECONDS = 90 * 86_400;

const accept = (events: RunEvent[]): Ruling => ({ ok: true, events });
const utc = (at: number): string => `${new Date(at).toISOString().slice(0, 16).replace('T', ' ')} UTC`;

export interface FollowUpAnchor {
  at: number;
  /** go-live: the switch step's recorded time; completion: the run has no switch that went live. */
  from: 'go-live' | 'completion';
}

/** What follow-ups count from; null when the run schedules none (not completed, or a dry run, which went live nowhere). */
export function followUpAnchor(state: RunState): FollowUpAnchor | null {
  if (state.status !== 'completed' || state.dryRun || state.finishedAt === null) return null;
  const goLive = goLiveOf(state).goLiveAt;
  const at = goLive === undefined ? Number.NaN : Date.parse(goLive);
  return Number.isFinite(at) ? { at, from: 'go-live' } : { at: state.finishedAt, from: 'completion' };
}

export type FollowUpPhase = 'scheduled' | 'due' | 'snoozed' | 'done';

/** One follow-up as `/migrate status`, the report and the reminders show it. */
export interface FollowUpView {
  followUp: PlanFollowUp;
  dueAt: number;
  phase: FollowUpPhase;
  /** The snooze in force, when snoozed. */
  snoozed: { by: string; at: number; until: number } | null;
  reminders: number;
  escalated: boolean;
  done: { by: string; at: number } | null;
}

const EMPTY: FollowUpState = { reminders: [], snoozes: [], done: null };

const stateOf = (state: RunState, id: string): FollowUpState => state.followUps?.[id] ?? EMPTY;

/** Every follow-up of a completed run at `now`, in runbook order; empty when the run schedules none. */
export function followUpViews(state: RunState, now: number): FollowUpView[] {
  const anchor = followUpAnchor(state);
  if (!anchor) return [];
  return (state.plan.followUps ?? []).map((f) => {
    const s = stateOf(state, f.id);
    const dueAt = anchor.at + f.afterSeconds * 1000;
    const snooze = s.snoozes.at(-1);
    const snoozed = snooze && snooze.until > now ? snooze : null;
    const phase: FollowUpPhase = s.done ? 'done' : now < dueAt ? 'scheduled' : snoozed ? 'snoozed' : 'due';
    return { followUp: f, dueAt, phase, snoozed: s.done ? null : snoozed, reminders: s.reminders.length, escalated: s.reminders.some((r) => r.level === 'escalation'), done: s.done };
  });
}

/** True while a completed run has a follow-up nobody has marked done: the sweep keeps visiting it. */
export function hasOpenFollowUps(state: RunState): boolean {
  return followUpAnchor(state) !== null && (state.plan.followUps ?? []).some((f) => !stateOf(state, f.id).done);
}

/**
 * The message one follow-up is owed at `now`, if any. A round starts when it
 * falls due and again when a snooze ends: the first message of a round is
 * sent at once, the next every `remind_every` after the last; once a round has
 * gone `escalate_after` without Done or Snooze it is escalated (once per round).
 * After downtime only one message is owed, never the ones missed.
 */
export function owedLevel(f: PlanFollowUp, s: FollowUpState, dueAt: number, now: number): FollowUpLevel | null {
  if (s.done || now < dueAt) return null;
  const snooze = s.snoozes.at(-1);
  if (snooze && snooze.until > now) return null;
  const roundStart = Math.max(dueAt, snooze?.until ?? dueAt);
  const sent = s.reminders.filter((r) => r.at >= roundStart);
  if (!sent.some((r) => r.level === 'escalation') && now >= roundStart + f.escalateAfterSeconds * 1000) return 'escalation';
  const last = sent.at(-1);
  return !last || now >= last.at + f.remindEverySeconds * 1000 ? 'reminder' : null;
}

/** One follow-up message to send now. Nothing here is sent: the sweep records it, then delivers it. */
export interface DueFollowUp {
  followUpId: string;
  level: FollowUpLevel;
  /** The number this reminder will have (1 for the first), carried by its buttons. */
  seq: number;
  reason: string;
  /** Mentioned in the run's thread. */
  mention: string[];
  groups: string[];
  /** Sent a direct message (escalation only). */
  dm: string[];
  incidentChannel: string | null;
}

/** Everything owed at `now` across a run's follow-ups; the escalation policy and contacts are the run's own. */
export function dueFollowUps(state: RunState, policy: EscalationPolicy, contacts: readonly Contact[], now: number): DueFollowUp[] {
  const out: DueFollowUp[] = [];
  for (const view of followUpViews(state, now)) {
    const f = view.followUp;
    const s = stateOf(state, f.id);
    const level = owedLevel(f, s, view.dueAt, now);
    if (!level) continue;
    out.push({ followUpId: f.id, level, seq: s.reminders.length + 1, reason: reasonOf(state, f, view.dueAt, level, now), ...targets(state, f, policy, contacts, level) });
  }
  return out;
}

function reasonOf(state: RunState, f: PlanFollowUp, dueAt: number, level: FollowUpLevel, now: number): string {
  const role = state.plan.roles[f.role]?.title ?? f.role;
  const since = now - dueAt >= 60_000 ? ` for ${formatSpan((now - dueAt) / 1000)}` : '';
  const from = followUpAnchor(state)?.from === 'go-live' ? 'go-live' : 'the run completed';
  const base = `"${f.title}" for ${role} is due${since} (${formatSpan(f.afterSeconds)} after ${from}, due ${utc(dueAt)}) and not marked done.`;
  return level === 'escalation' ? `${base} Nobody has answered for ${formatSpan(f.escalateAfterSeconds)} (escalation after ${formatSpan(f.escalateAfterSeconds)}).` : base;
}

function targets(state: RunState, f: PlanFollowUp, policy: EscalationPolicy, contacts: readonly Contact[], level: FollowUpLevel): Pick<DueFollowUp, 'mention' | 'groups' | 'dm' | 'incidentChannel'> {
  const role = state.plan.roles[f.role];
  const members = role?.members ?? [];
  const groups = role?.usergroups ?? [];
  if (level === 'reminder') return { mention: members, groups, dm: [], incidentChannel: null };
  // As for approvals: without a contact for the role its members are DMed, so somebody is reached.
  const own = roleContacts(contacts, f.role);
  const dm = [...new Set([...(own.length > 0 ? [] : members), ...nextTierRecipients(state.plan, policy, contacts, f.role)])];
  return { mention: [...new Set([...members, ...dm])], groups, dm, incidentChannel: policy.incidentChannel };
}

/**
 * Done, Snooze and the sweep's reminders. Refuses what is not owed (a second
 * sweep, a stale click, a duty already done), so each is recorded once.
 */
export function decideFollowUp(state: RunState, c: FollowUpCommand): Ruling {
  const anchor = followUpAnchor(state);
  if (!anchor) {
    return refuse(
      'follow_up.not_scheduled',
      state.status === 'completed' ? 'This was a dry run; it went live nowhere, so it has no follow-ups.' : `Follow-ups are scheduled when a run completes; this run is ${state.status.replace('_', ' ')}.`,
    );
  }
  const f = state.plan.followUps?.find((x) => x.id === c.followUpId);
  if (!f) return refuse('follow_up.unknown', `This run has no follow-up "${c.followUpId}".`);
  const s = stateOf(state, f.id);
  if (s.done) return refuse('follow_up.already_done', `${mention(s.done.by)} already marked "${f.title}" done at ${utc(s.done.at)}.`);
  const dueAt = anchor.at + f.afterSeconds * 1000;
  if (c.type === 'follow_up.remind') {
    const owed = owedLevel(f, s, dueAt, c.at);
    if (owed !== c.level) return refuse('follow_up.not_owed', `No ${c.level} is owed for "${f.title}" now${owed ? ` (a ${owed} is)` : ''}.`);
    return accept([{ type: 'follow_up.reminded', at: c.at, followUpId: f.id, level: c.level, reason: c.reason, to: c.to }]);
  }
  const role = state.plan.roles[f.role];
  if (!role) return refuse('role.unknown', `Follow-up "${f.title}" names an unknown role.`);
  const verb = c.type === 'follow_up.done' ? 'mark it done' : 'snooze it';
  if (!isMember(role, c.actor)) return refuse('role.not_member', `"${f.title}" is for ${describeRole(role)}; only its members may ${verb}, and you are not in that role.`);
  if (c.type === 'follow_up.done') return accept([{ type: 'follow_up.done', at: c.at, followUpId: f.id, by: c.actor.id }]);
  return decideSnooze(f, s, dueAt, c);
}

function decideSnooze(f: PlanFollowUp, s: FollowUpState, dueAt: number, c: Extract<FollowUpCommand, { type: 'follow_up.snooze' }>): Ruling {
  if (!Number.isFinite(c.seconds) || c.seconds <= 0 || c.seconds > MAX_SNOOZE_SECONDS) {
    return refuse('follow_up.bad_snooze', `A snooze must be longer than 0s and at most ${formatSpan(MAX_SNOOZE_SECONDS)}.`);
  }
  if (c.at < dueAt) return refuse('follow_up.not_due', `"${f.title}" is not due until ${utc(dueAt)}; there is nothing to snooze yet.`);
  const clicked = c.reminder === undefined ? undefined : s.reminders[c.reminder - 1];
  const since = clicked ? s.snoozes.find((z) => z.at >= clicked.at) : undefined;
  if (since) return refuse('follow_up.already_snoozed', `${mention(since.by)} already snoozed "${f.title}" from this reminder, until ${utc(since.until)}.`);
  return accept([{ type: 'follow_up.snoozed', at: c.at, followUpId: f.id, by: c.actor.id, until: c.at + c.seconds * 1000 }]);
}
