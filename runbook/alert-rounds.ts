import type { EscalationLevel } from './events.js';

/**
 * Alerts that repeat until a person presses Acknowledge, as PagerDuty's
 * escalation loops do: an approval escalated, a failed step's page, an
 * approval timed out, a stalled rollback. Reminders, overruns and health
 * notices are said once. Pure.
 */
const REPEATING: ReadonlySet<EscalationLevel> = new Set<EscalationLevel>(['escalation', 'page', 'timeout', 'stalled']);

export const repeatsUntilAcknowledged = (level: EscalationLevel): boolean => REPEATING.has(level);

/** What of the policy decides the rounds: how often, and which tiers join when. */
export interface RoundPolicy {
  repeatEverySeconds: number;
  /** Sorted by afterSeconds. */
  tiers: ReadonlyArray<{ afterSeconds: number; roles: readonly string[] }>;
}

/** How many tiers an alert first sent at `firstAt` has reached by `at`. */
export function tiersReached(policy: RoundPolicy, firstAt: number, at: number): number {
  return policy.tiers.filter((t) => at - firstAt >= t.afterSeconds * 1000).length;
}

export interface NextRound {
  /** 1 for the first repeat. */
  round: number;
  /** Tiers to include in it. */
  tier: number;
  /** Since the alert was first sent. */
  sinceFirstSeconds: number;
}

/**
 * The next round owed for an alert already sent (its rounds so far, any order),
 * or null: acknowledged, never sent, or not yet time. A round is owed when
 * repeat_every has passed since the last one, or at once when a new tier is
 * reached (so the tier's people hear of it at its time, not a repeat later).
 */
export function nextRound(sends: ReadonlyArray<{ at: number }>, acknowledged: boolean, policy: RoundPolicy, now: number): NextRound | null {
  if (acknowledged || sends.length === 0) return null;
  const first = sends.reduce((m, s) => Math.min(m, s.at), Number.POSITIVE_INFINITY);
  const last = sends.reduce((m, s) => Math.max(m, s.at), 0);
  const reached = tiersReached(policy, first, now);
  const newTier = reached > tiersReached(policy, first, last);
  const repeat = policy.repeatEverySeconds > 0 && now - last >= policy.repeatEverySeconds * 1000;
  return newTier || repeat ? { round: sends.length, tier: reached, sinceFirstSeconds: (now - first) / 1000 } : null;
}
