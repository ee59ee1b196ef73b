import { nextRound } from './alert-rounds.js';
import { formatDuration } from './duration.js';
import { roleRecipients, type Contact, type EscalationPolicy } from './escalation.js';
import type { EscalationLevel } from './events.js';
import { mention } from './policy.js';
import { approvalChain, approvingRole, eligibleApprovers } from './rollback-authority.js';
import { isFinished, type RunState } from './state.js';

/** An alert about the rollback itself, due now; recorded (rollback.escalated) before it is sent, like a step's. */
export interface DueRollbackAlert {
  requestedAt: number;
  level: Extract<EscalationLevel, 'reminder' | 'escalation' | 'timeout' | 'stalled'>;
  reason: string;
  round?: number;
  mention: string[];
  groups: string[];
  dm: string[];
  incidentChannel: string | null;
}

/**
 * What the rollback itself owes now, pure. A request waiting for approval is
 * reminded, escalated and timed out like a step's approval (a timeout always
 * escalates: a rollback is never dropped by a timer); an approved rollback
 * that runs past its plan × running_factor (escalate_after when it has no
 * plan) is stalled. Escalations, timeouts and stalls repeat until acknowledged.
 */
export function dueRollbackAlerts(state: RunState, policy: EscalationPolicy, contacts: readonly Contact[], now: number): DueRollbackAlert[] {
  const rb = state.rollback;
  if (!rb || isFinished(state) || rb.status === 'done') return [];
  const scenario = state.plan.rollbackScenarios.find((s) => s.id === rb.scenario);
  if (!scenario) return [];
  const alerts = state.rollbackAlerts?.requestedAt === rb.requestedAt ? state.rollbackAlerts : null;
  const sends = (level: EscalationLevel) => alerts?.sent.filter((s) => s.level === level) ?? [];
  const sent = (level: EscalationLevel): boolean => sends(level).length > 0;
  const acked = (level: EscalationLevel): boolean => alerts?.acks.some((a) => a.level === level) ?? false;
  const role = approvingRole(state.plan, scenario, rb.requestedBy);
  const approvers = role ? eligibleApprovers(role, rb.requestedBy) : [];
  const chainContacts = approvalChain(state.plan, scenario).flatMap((r) => contacts.filter((c) => c.role === r.id && c.slack).map((c) => c.slack as string));
  const make = (level: DueRollbackAlert['level'], reason: string, round = 0, tier = 0): DueRollbackAlert => {
    if (level === 'reminder') return { requestedAt: rb.requestedAt, level, reason, mention: approvers, groups: role?.usergroups ?? [], dm: [], incidentChannel: null };
    const tiers = policy.tiers.slice(0, tier).flatMap((t) => t.roles.flatMap((r) => roleRecipients(state.plan, contacts, r)));
    const nextTier = policy.nextTier.flatMap((r) => roleRecipients(state.plan, contacts, r));
    const core = level === 'stalled' ? [rb.requestedBy, ...(rb.approvedBy ? [rb.approvedBy] : []), ...chainContacts] : [...approvers, ...chainContacts];
    const dm = unique([...core, ...nextTier, ...tiers]);
    return { requestedAt: rb.requestedAt, level, reason, ...(round > 0 ? { round } : {}), mention: dm, groups: level === 'stalled' ? [] : (role?.usergroups ?? []), dm, incidentChannel: policy.incidentChannel };
  };
  const repeat = (level: DueRollbackAlert['level'], what: string): DueRollbackAlert[] => {
    const next = nextRound(sends(level), acked(level), policy, now);
    return next ? [make(level, `${what} Still unacknowledged after ${formatDuration(next.sinceFirstSeconds)} (repeat ${next.round}).`, next.round, next.tier)] : [];
  };
  const title = `the rollback "${scenario.title}" requested by ${mention(rb.requestedBy)}`;

  if (rb.status === 'requested') {
    const waited = (now - rb.requestedAt) / 1000;
    const timeout = policy.approvalTimeoutSeconds;
    const timedOut = `${capitalise(title)} has waited ${formatDuration(waited)} for approval, past the approval timeout of ${formatDuration(timeout ?? 0)}.`;
    if (timeout !== null && waited >= timeout && !sent('timeout')) return [make('timeout', `${timedOut} Every tier is told.`, 0, policy.tiers.length)];
    if (sent('timeout')) return repeat('timeout', timedOut);
    const waiting = `${capitalise(title)} has waited ${formatDuration(waited)} for approval by ${role?.title ?? scenario.approve}; the forward run is paused meanwhile.`;
    if (waited >= policy.escalateAfterSeconds && !sent('escalation')) return [make('escalation', waiting)];
    if (waited >= policy.remindAfterSeconds && !sent('reminder') && !sent('escalation')) return [make('reminder', waiting)];
    if (sent('escalation')) return repeat('escalation', waiting);
    return [];
  }
  const since = rb.approvedAt ?? rb.requestedAt;
  const ran = (now - since) / 1000;
  const planned = scenario.plannedSeconds ?? null;
  const limit = planned !== null ? planned * policy.runningFactor : policy.escalateAfterSeconds;
  const stalled = `${capitalise(title)} has been under way ${formatDuration(ran)} since its approval${planned !== null ? `; planned ${formatDuration(planned)} (alert at ×${policy.runningFactor})` : ` with no planned duration (alert after ${formatDuration(limit)})`}${rb.status === 'failed' ? ', and a rollback step has failed' : ''}.`;
  if (ran <= limit) return [];
  return sent('stalled') ? repeat('stalled', stalled) : [make('stalled', stalled)];
}

const unique = (ids: string[]): string[] => [...new Set(ids)];
const capitalise = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);
