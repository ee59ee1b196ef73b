import { formatDuration } from './duration.js';
import type { EscalationLevel } from './events.js';
import { allSteps, type Plan, type PlanStep } from './plan.js';
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
}

/** Everyone an escalation reaches, for the event's `to`. */
export const recipients = (due: DueEscalation): string[] => [...new Set([...due.mention, ...due.dm])];

/**
 * Which escalations are due at `now`. Pure: the same state, policy and time
 * always give the same answer. A level already recorded for the step's
 * attempt is never due again, and a cleared condition (approval given, step
 * finished, retried or skipped) yields nothing.
 */
export function dueEscalations(state: RunState, policy: EscalationPolicy, contacts: readonly Contact[], now: number): DueEscalation[] {
  if (state.status === 'completed' || state.status === 'aborted' || state.status === 'rolled_back') return [];
  const out: DueEscalation[] = [];
  for (const planStep of allSteps(state.plan)) {
    const step = state.steps[planStep.id];
    if (!step) continue;
    const due = dueForStep(state, planStep, step, policy, contacts, now);
    if (due) out.push(due);
  }
  return out;
}

function dueForStep(state: RunState, planStep: PlanStep, step: StepState, policy: EscalationPolicy, contacts: readonly Contact[], now: number): DueEscalation | null {
  const sent = (level: EscalationLevel): boolean => step.escalations.some((e) => e.attempt === step.attempt && e.level === level);
  const make = (level: EscalationLevel, reason: string): DueEscalation => ({
    stepId: step.id,
    attempt: step.attempt,
    level,
    reason,
    ...escalationTargets(state, planStep, step, policy, contacts, level),
  });
  const title = `"${planStep.title}"`;
  const roleTitle = state.plan.roles[planStep.approve]?.title ?? planStep.approve;

  // A paused run waits on purpose: nobody is chased for approvals then.
  if (step.status === 'awaiting_approval' && step.requestedAt !== null && state.status === 'active') {
    const waited = (now - step.requestedAt) / 1000;
    if (waited >= policy.escalateAfterSeconds && !sent('escalation')) {
      return make('escalation', `${title} has waited ${formatDuration(waited)} for approval by ${roleTitle} (escalation after ${formatDuration(policy.escalateAfterSeconds)}).`);
    }
    // An escalation supersedes the reminder: after one, a late reminder would only add noise.
    if (waited >= policy.remindAfterSeconds && !sent('reminder') && !sent('escalation')) {
      return make('reminder', `${title} has waited ${formatDuration(waited)} for approval by ${roleTitle}.`);
    }
  }
  if (step.status === 'running' && step.startedAt !== null && planStep.plannedSeconds !== null && !sent('overrun')) {
    const ran = (now - step.startedAt) / 1000;
    if (ran > planStep.plannedSeconds * policy.runningFactor) {
      return make('overrun', `${title} has been running ${formatDuration(ran)}; planned ${formatDuration(planStep.plannedSeconds)} (alert at ×${policy.runningFactor}).`);
    }
  }
  if (step.status === 'failed' && !sent('page')) {
    return make('page', `${title} failed: ${step.error?.message ?? 'no reason recorded'}`);
  }
  return null;
}

/** Who an escalation of this level reaches for this step (see docs/escalation-and-follow-ups.md). */
export function escalationTargets(
  state: RunState,
  planStep: PlanStep,
  step: StepState,
  policy: EscalationPolicy,
  contacts: readonly Contact[],
  level: EscalationLevel,
): Pick<DueEscalation, 'mention' | 'groups' | 'dm' | 'incidentChannel'> {
  const plan = state.plan;
  const role = plan.roles[planStep.approve];
  // Members who cannot act (already approved, or the requester under separation of duties) are not chased.
  const waitingForApproval = level === 'reminder' || level === 'escalation';
  const approved = new Set(waitingForApproval ? step.approvals.map((a) => a.by) : []);
  const decider = deciderOf(state, step).by;
  const members = (role?.members ?? []).filter((m) => !approved.has(m) && (role?.requesterMayApprove || m !== decider || !waitingForApproval));
  const groups = role?.usergroups ?? [];
  if (level === 'reminder') return { mention: members, groups, dm: [], incidentChannel: null };
  // "Cleared" goes to whoever the alert woke, without pinging the thread again.
  if (level === 'unblocked') return { ...escalationTargets(state, planStep, step, policy, contacts, 'blocked'), mention: [] };
  const roleContacts = slackOf(contacts, planStep.approve);
  const tier = policy.nextTier.flatMap((r) => [...(plan.roles[r]?.members ?? []), ...slackOf(contacts, r)]);
  // Without a contact for the role, its members are paged directly: somebody must be reached.
  const dm = unique([...(roleContacts.length > 0 ? roleContacts : members), ...tier]);
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
