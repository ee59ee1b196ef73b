import type { HealthSample } from './health-sample.js';
import type { Plan } from './plan.js';
import type { GateEvidence, Verdict } from './validation-result.js';

/**
 * Everything that happens to a run. Times are epoch milliseconds taken from
 * the command (never from a clock inside the core); `by` is a Slack user id
 * or a process name such as "worker".
 */
export type RunEvent =
  | {
      type: 'run.started';
      at: number;
      runId: string;
      by: string;
      channel: string;
      dryRun: boolean;
      plan: Plan;
      /** The runbook file as it was at start, so a run is pinned to one version. */
      runbookFile: string;
      runbookText: string;
    }
  | { type: 'step.approval_requested'; at: number; stepId: string; attempt: number }
  /** evidence: on a gated step, the validation verdict the approver saw (the approval lapses if it changes). */
  | { type: 'step.approved'; at: number; stepId: string; attempt: number; by: string; evidence?: GateEvidence }
  | { type: 'step.held'; at: number; stepId: string; by: string; reason: string }
  | { type: 'step.released'; at: number; stepId: string; by: string }
  | { type: 'step.rejected'; at: number; stepId: string; by: string; reason: string }
  | { type: 'step.queued'; at: number; stepId: string; attempt: number; jobId: string }
  | { type: 'step.started'; at: number; stepId: string; attempt: number; resumed: boolean }
  | { type: 'step.progress'; at: number; stepId: string; attempt: number; message: string; data?: Record<string, unknown> }
  /** The worker's latest look at the step's databases (waits, blocking, disk); findings open or close an alert episode. */
  | { type: 'step.health'; at: number; stepId: string; attempt: number; sample: HealthSample }
  | {
      type: 'step.succeeded';
      at: number;
      stepId: string;
      attempt: number;
      summary: string;
      details?: Record<string, unknown>;
    }
  | { type: 'step.failed'; at: number; stepId: string; attempt: number; code: string; message: string; details?: Record<string, unknown> }
  | { type: 'step.retried'; at: number; stepId: string; attempt: number; by: string }
  /**
   * Try `try` of the attempt met a transient error (code, message) and the worker tries again, by itself, after
   * delayMs: try `try + 1` of `of` (the step's retry policy). The attempt stays the same; only a person's Retry starts a new one.
   */
  | { type: 'step.retrying'; at: number; stepId: string; attempt: number; try: number; of: number; code: string; message: string; delayMs: number }
  | { type: 'step.skipped'; at: number; stepId: string; by: string; reason: string }
  /** The rollback authority lets a gated step be approved on a red or amber verdict. */
  | { type: 'gate.overridden'; at: number; stepId: string; attempt: number; by: string; reason: string; verdict: Verdict; evidence: GateEvidence }
  /** A validation re-run changed the verdict a gated step's approvals rested on: they (and any override) no longer count. */
  | { type: 'step.approvals_lapsed'; at: number; stepId: string; attempt: number; reason: string }
  | { type: 'run.paused'; at: number; by: string; reason: string }
  | { type: 'run.resumed'; at: number; by: string }
  | { type: 'run.aborted'; at: number; by: string; reason: string }
  | { type: 'run.completed'; at: number }
  /** A rollback asked for; the forward run is paused alongside (see rollback.ts). */
  | { type: 'rollback.requested'; at: number; scenario: string; by: string; reason: string }
  | { type: 'rollback.approved'; at: number; scenario: string; by: string }
  /** reason: optional, as requests cancelled before reasons were asked for lack it. */
  | { type: 'rollback.cancelled'; at: number; scenario: string; by: string; reason?: string }
  /** The last step of the rollback scenario finished: the run ends here. */
  | { type: 'run.rolled_back'; at: number; scenario: string; reason: string }
  /**
   * Who was told (user ids), why and at which level; recorded before sending, so each level is sent once per attempt
   * (blocked/unblocked: once per health episode of the attempt).
   */
  | { type: 'escalation.sent'; at: number; stepId: string; attempt: number; level: EscalationLevel; reason: string; to: string[]; episode?: number; round?: number }
  /** Someone pressed Acknowledge on an alert of this step's attempt: its repeats stop (and the pager is told). */
  | { type: 'escalation.acknowledged'; at: number; stepId: string; attempt: number; level: EscalationLevel; by: string }
  /** The alert's condition cleared (retried, approved, finished…): the external pager was told to resolve it. */
  | { type: 'escalation.resolved'; at: number; stepId: string }
  /** An alert about the rollback itself — its approval waiting, or the rollback stalled — for the request made at requestedAt. */
  | { type: 'rollback.escalated'; at: number; requestedAt: number; level: EscalationLevel; reason: string; to: string[]; round?: number }
  | { type: 'rollback.acknowledged'; at: number; requestedAt: number; level: EscalationLevel; by: string }
  | { type: 'rollback.resolved'; at: number; requestedAt: number }
  | { type: 'go_no_go.requested'; at: number; role: string; reason: string; to: string[] }
  | { type: 'go_no_go.decided'; at: number; by: string; decision: GoNoGoDecision }
  /**
   * Follow-ups after go-live, appended to the completed run's stream (they never reopen it).
   * A reminder or escalation is recorded before it is sent, like `escalation.sent`.
   */
  | { type: 'follow_up.reminded'; at: number; followUpId: string; level: FollowUpLevel; reason: string; to: string[] }
  | { type: 'follow_up.snoozed'; at: number; followUpId: string; by: string; until: number }
  | { type: 'follow_up.done'; at: number; followUpId: string; by: string };

/**
 * reminder/escalation: an approval waits; overrun: a step runs past planned × factor; page: a step failed;
 * blocked: a running step's database shows a wait over the runbook's health threshold; unblocked: that wait cleared;
 * timeout: an approval waited past the policy's approval_timeout; stalled: an approved rollback runs past its plan.
 * escalation, page, timeout and stalled repeat (`round`) until someone acknowledges them.
 */
export type EscalationLevel = 'reminder' | 'escalation' | 'overrun' | 'page' | 'blocked' | 'unblocked' | 'timeout' | 'stalled';
export type GoNoGoDecision = 'continue' | 'rollback';
/** reminder: the role is mentioned in the run's thread; escalation: its contacts and the next tier are told too. */
export type FollowUpLevel = 'reminder' | 'escalation';
