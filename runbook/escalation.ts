import { formatDuration } from './duration.js';
import type { EscalationLevel } from './events.js';
import { nextRound } from './alert-rounds.js';
import { allSteps, rollbackSteps, type Plan, type PlanStep } from './plan.js';
import { inRollback, isRollbackStep } from './rollback.js';
import type { EscalationDoc, RunbookDoc } from './schema.js';
import { deciderOf } from './separation.js';
import type { RunState, StepState } from './state.js';

/** The runbook's escalation policy in seconds, with defaults resolved. */
export interface EscalationPolicy {
  remindAfterSeconds: number;
  escalateAfterSeconds: number;
  nextTier: string[];
  runningFactor: number;
  incidentChannel: string | null;
  sweepSeconds: number;
  /** The role asked go/no-go; null when the runbook has no such role. */
  goNoGoRole: string | null;
  /** An unacknowledged alert (escalation, page, timeout, stalled) is sent again this often; 0: once. */
  repeatEverySeconds: number;
  /** Roles added once an alert has gone `afterSeconds` unacknowledged since its first send. */
  tiers: Array<{ afterSeconds: number; roles: string[] }>;
  /** An approval waiting this long has timed out; null: never. */
  approvalTimeoutSeconds: number | null;
  onTimeout: 'escalate' | 'hold' | 'abort';
  /** Where alerts are paged beyond Slack. */
  page: Array<'pagerduty' | 'webhook'>;
}

export interface Contact {
  role: string;
  name: string;
  slack: string | null;
  phone: string | null;
  email: string | null;
}

/** The policy of a runbook's `escalation:`; `roleIds` lets the go/no-go role default to `lead` when declared. */
export function policyOf(e: EscalationDoc, roleIds: readonly string[]): EscalationPolicy {
  const fallbackRole = e.next_tier[0] ?? (roleIds.includes('lead') ? 'lead' : null);
  return {
    remindAfterSeconds: e.remind_after,
    escalateAfterSeconds: e.escalate_after,
    nextTier: e.next_tier,
    runningFactor: e.running_factor,
    incidentChannel: e.incident_channel ?? null,
    sweepSeconds: e.sweep,
    goNoGoRole: e.go_no_go ?? fallbackRole,
    repeatEverySeconds: e.repeat_every,
    tiers: [...e.tiers].sort((a, b) => a.after - b.after).map((t) => ({ afterSeconds: t.after, roles: t.notify })),
    approvalTimeoutSeconds: e.approval_timeout ?? null,
    onTimeout: e.on_timeout,
    page: [...new Set(e.page)],
  };
}

export const contactsOf = (doc: RunbookDoc): Contact[] =>
  doc.contacts.map((c) => ({ role: c.role, name: c.name, slack: c.slack ?? null, phone: c.phone || null, email: c.email ?? null }));

/** One escalation to send now. Nothing here is sent yet: the sweep records it, then delivers it. */
export interface DueEscalation {
  stepId: string;
  attempt: number;
  level: EscalationLevel;
  reason: string;
  /** Mentioned in the run's thread. */
  mention: string[];
  /** User-groups mentioned in the thread (reminders reach a role's groups too). */
  groups: string[];
  /** Sent a direct message. */
  dm: string[];
  /** Also posted here when set (escalation, overrun, page, blocked, unblocked). */
  incidentChannel: string | null;
  /** The health episode a blocked/unblocked notice is about. */
  episode?: number;
  /** A repeat of an unacknowledged alert (1 for the first repeat); absent for its first send. */
  round?: number;
}

/** Everyone an escalation reaches, for the event's `to`. */
export const recipients = (due: DueEscalation): string[] => [...new Set([...due.mention, ...due.dm])];

/**
 * Which escalations are due at `now`. Pure: the same state, policy and time
 * always give the same answer. A level already recorded for the step's
 * attempt is never due again except as the next round of an alert nobody
 * acknowledged, and a cleared condition (approval given, step finished,
 * retried or skipped) yields nothing. The rollback's own steps are chased like
 * forward ones, though the forward run is paused while they run.
 */
export function dueEscalations(state: RunState, policy: EscalationPolicy, contacts: readonly Contact[], now: number): DueEscalation[] {
  if (state.status === 'completed' || state.status === 'aborted' || state.status === 'rolled_back') return [];
  const out: DueEscalation[] = [];
  const rollback = state.rollback ? rollbackSteps(state.plan, state.rollback.scenario) : [];
  for (const planStep of [...allSteps(state.plan), ...rollback]) {
    const step = state.steps[planStep.id];
    if (!step) continue;
    const due = dueForStep(state, planStep, step, policy, contacts, now);
    if (due) out.push(due);
  }
  return out;
}

/** Whether a step waiting for approval is chased: a paused run waits on purpose, except for the approved rollback's own steps. */
export function approvalChased(state: RunState, stepId: string): boolean {
  return state.status === 'active' || (inRollback(state) && isRollbackStep(state, stepId));
}

function dueForStep(state: RunState, planStep: PlanStep, step: StepState, policy: EscalationPolicy, contacts: readonly Contact[], now: number): DueEscalation | null {
  const sends = (level: EscalationLevel) => step.escalations.filter((e) => e.attempt === step.attempt && e.level === level && e.episode === undefined);
  const sent = (level: EscalationLevel): boolean => sends(level).length > 0;
  const acked = (level: EscalationLevel): boolean => (step.acks ?? []).some((a) => a.attempt === step.attempt && a.level === level);
  const make = (level: EscalationLevel, reason: string, round = 0, tier = 0): DueEscalation => ({
    stepId: step.id,
    attempt: step.attempt,
    level,
    reason,
    ...(round > 0 ? { round } : {}),
    ...escalationTargets(state, planStep, step, policy, contacts, level, tier),
  });
  /** The next round of an alert of this level nobody acknowledged, if one is owed now. */
  const repeat = (level: EscalationLevel, what: string): DueEscalation | null => {
    const next = nextRound(sends(level), acked(level), policy, now);
    return next ? make(level, `${what} Still unacknowledged after ${formatDuration(next.sinceFirstSeconds)} (repeat ${next.round}).`, next.round, next.tier) : null;
  };
  const title = `"${planStep.title}"`;
  const roleTitle = state.plan.roles[planStep.approve]?.title ?? planStep.approve;

  if (step.status === 'awaiting_approval' && step.requestedAt !== null && approvalChased(state, step.id)) {
    const waited = (now - step.requestedAt) / 1000;
    const timeout = policy.approvalTimeoutSeconds;
    // A rollback step's approval always escalates on timeout: a rollback is never held or aborted by a timer.
    const escalatesOnTimeout = policy.onTimeout === 'escalate' || isRollbackStep(state, step.id);
    const timedOut = `${title} has waited ${formatDuration(waited)} for approval by ${roleTitle}, past its approval timeout of ${formatDuration(timeout ?? 0)}.`;
    if (timeout !== null && waited >= timeout && escalatesOnTimeout && !sent('timeout')) return make('timeout', `${timedOut} Every tier is told.`, 0, policy.tiers.length);
    // A timeout supersedes the escalation as the escalation does the reminder.
    if (sent('timeout')) return repeat('timeout', timedOut);
    const waiting = `${title} has waited ${formatDuration(waited)} for approval by ${roleTitle} (escalation after ${formatDuration(policy.escalateAfterSeconds)}).`;
    if (waited >= policy.escalateAfterSeconds && !sent('escalation')) return make('escalation', waiting);
    // An escalation supersedes the reminder: after one, a late reminder would only add noise.
    if (waited >= policy.remindAfterSeconds && !sent('reminder') && !sent('escalation')) {
      return make('reminder', `${title} has waited ${formatDuration(waited)} for approval by ${roleTitle}.`);
    }
    if (sent('escalation')) return repeat('escalation', waiting);
  }
  if (step.status === 'running' && step.startedAt !== null && planStep.plannedSeconds !== null && !sent('overrun')) {
    const ran = (now - step.startedAt) / 1000;
    if (ran > planStep.plannedSeconds * policy.runningFactor) {
      return make('overrun', `${title} has been running ${formatDuration(ran)}; planned ${formatDuration(planStep.plannedSeconds)} (alert at ×${policy.runningFactor}).`);
    }
  }
  if (step.status === 'failed') {
    const failed = `${title}${isRollbackStep(state, step.id) ? ' (a rollback step)' : ''} failed: ${step.error?.message ?? 'no reason recorded'}`;
    return sent('page') ? repeat('page', failed) : make('page', failed);
  }
  return null;
}

/**
 * Forward steps whose approval has waited past the policy's approval_timeout
 * while the run was going, when the policy holds or aborts on timeout (an
 * escalating timeout is an alert, in dueEscalations). Pure.
 */
export function dueTimeouts(state: RunState, policy: EscalationPolicy, now: number): Array<{ stepId: string; attempt: number; timeoutSeconds: number; outcome: 'hold' | 'abort' }> {
  const timeout = policy.approvalTimeoutSeconds;
  if (timeout === null || policy.onTimeout === 'escalate' || state.status !== 'active') return [];
  const outcome = policy.onTimeout;
  return allSteps(state.plan).flatMap((s) => {
    const step = state.steps[s.id];
    if (!step || step.status !== 'awaiting_approval' || step.requestedAt === null || now - step.requestedAt < timeout * 1000) return [];
    return [{ stepId: step.id, attempt: step.attempt, timeoutSeconds: timeout, outcome }];
  });
}

/** Who an escalation of this level reaches for this step (see docs/escalation-and-follow-ups.md); `tier`: how many of the policy's tiers join. */
export function escalationTargets(
  state: RunState,
  planStep: PlanStep,
  step: StepState,
  policy: EscalationPolicy,
  contacts: readonly Contact[],
  level: EscalationLevel,
  tier = 0,
): Pick<DueEscalation, 'mention' | 'groups' | 'dm' | 'incidentChannel'> {
  const plan = state.plan;
  const role = plan.roles[planStep.approve];
  // Members who cannot act (already approved, or the decider under separation of duties) are not chased.
  const waitingForApproval = level === 'reminder' || level === 'escalation' || level === 'timeout';
  const approved = new Set(waitingForApproval ? step.approvals.map((a) => a.by) : []);
  const decider = deciderOf(state, step).by;
  const members = (role?.members ?? []).filter((m) => !approved.has(m) && (role?.requesterMayApprove || m !== decider || !waitingForApproval));
  const groups = role?.usergroups ?? [];
  if (level === 'reminder') return { mention: members, groups, dm: [], incidentChannel: null };
  // "Cleared" goes to whoever the alert woke, without pinging the thread again.
  if (level === 'unblocked') return { ...escalationTargets(state, planStep, step, policy, contacts, 'blocked'), mention: [] };
  const roleContacts = slackOf(contacts, planStep.approve);
  const nextTier = policy.nextTier.flatMap((r) => [...(plan.roles[r]?.members ?? []), ...slackOf(contacts, r)]);
  const tiers = policy.tiers.slice(0, tier).flatMap((t) => t.roles.flatMap((r) => roleRecipients(plan, contacts, r)));
  // Without a contact for the role, its members are paged directly: somebody must be reached.
  const dm = unique([...(roleContacts.length > 0 ? roleContacts : members), ...nextTier, ...tiers]);
  const mention = level === 'page' ? unique([...members, ...dm]) : dm;
  return { mention, groups: level === 'page' ? groups : [], dm, incidentChannel: policy.incidentChannel };
}

const slackOf = (contacts: readonly Contact[], role: string): string[] => contacts.flatMap((c) => (c.role === role && c.slack ? [c.slack] : []));

/** The Slack ids of a role's contacts. */
export const roleContacts = slackOf;

const unique = (ids: string[]): string[] => [...new Set(ids)];

/** Everyone to reach in a role: its members and its contacts. */
export function roleRecipients(plan: Plan, contacts: readonly Contact[], role: string): string[] {
  return unique([...(plan.roles[role]?.members ?? []), ...slackOf(contacts, role)]);
}

/** The next tier for a role nobody answered for: its contacts and the next-tier roles' people. */
export function nextTierRecipients(plan: Plan, policy: EscalationPolicy, contacts: readonly Contact[], role: string): string[] {
  return unique([...slackOf(contacts, role), ...policy.nextTier.flatMap((r) => roleRecipients(plan, contacts, r))]);
}
