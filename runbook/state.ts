import type { EscalationLevel, FollowUpLevel, GoNoGoDecision, RunEvent } from './events.js';
import { whenStepEnds, withSample, type StepHealth } from './health-alert.js';
import { allSteps, rollbackSteps, type Plan } from './plan.js';
import type { GateEvidence, Verdict } from './validation-result.js';

export type StepStatus =
  | 'pending'
  | 'awaiting_approval'
  | 'held'
  | 'rejected'
  | 'queued'
  | 'running'
  | 'succeeded'
  | 'failed'
  | 'skipped';

export type RunStatus = 'active' | 'paused' | 'completed' | 'aborted' | 'rolled_back';

/** A rollback of the run: requested, approved by the scenario's role (running), and done or failed (a step failed; Retry/Skip go on). */
export interface RollbackState {
  scenario: string;
  requestedBy: string;
  requestedAt: number;
  reason: string;
  approvedBy?: string;
  approvedAt?: number;
  status: 'requested' | 'running' | 'done' | 'failed';
}

export interface StepState {
  id: string;
  status: StepStatus;
  attempt: number;
  approvals: Array<{ by: string; at: number; evidence?: GateEvidence }>;
  requestedAt: number | null;
  approvedAt: number | null;
  startedAt: number | null;
  finishedAt: number | null;
  jobId: string | null;
  hold: { by: string; at: number; reason: string } | null;
  progress: { message: string; at: number; data?: Record<string, unknown> } | null;
  result: { summary: string; details?: Record<string, unknown> } | null;
  error: { code: string; message: string; details?: Record<string, unknown> } | null;
  skipped: { by: string; at: number; reason: string } | null;
  /** Every escalation sent for this step, across attempts. */
  escalations: Array<{ level: EscalationLevel; attempt: number; at: number; reason: string; to: string[]; episode?: number; round?: number }>;
  /** The database watch of the current attempt (optional: runs from before it lack it). */
  health?: StepHealth | null;
  /** A gated step's override by the rollback authority (optional: runs from before gates lack it). */
  override?: { by: string; at: number; reason: string; verdict: Verdict; evidence: GateEvidence } | null;
  /** Why earlier approvals of this step lapsed, shown until it is approved again. */
  lapsed?: { at: number; reason: string } | null;
  /** Acknowledged alerts (who pressed Acknowledge, when), across attempts (optional: runs from before acks lack it). */
  acks?: Array<{ attempt: number; level: EscalationLevel; by: string; at: number }>;
  /** When the external pager was last told this step's alerts are resolved (optional). */
  resolvedAt?: number | null;
  /** Automatic retries of the current attempt after transient errors, oldest first (optional: runs from before them lack it). */
  retries?: StepRetry[];
}

/** One automatic retry: try `try` of `of` failed with a transient error; the next began after delayMs. */
export interface StepRetry {
  at: number;
  try: number;
  of: number;
  code: string;
  message: string;
  delayMs: number;
}

/** How many tries of the step's current attempt failed with a transient error and were retried. */
export const triesFailed = (step: StepState): number => step.retries?.length ?? 0;

/** Alerts about a rollback request itself (its approval waiting, the rollback stalled), for the latest request. */
export interface RollbackAlerts {
  requestedAt: number;
  sent: Array<{ level: EscalationLevel; at: number; reason: string; to: string[]; round: number }>;
  acks: Array<{ level: EscalationLevel; by: string; at: number }>;
  resolvedAt: number | null;
}

/**
 * One line of the run's story in its thread: a decision about the run as a
 * whole (pause, resume, abort, a rollback approved or cancelled), with who,
 * when and why. Append-only, so each is posted once. The rollback request has
 * its own message (with its buttons), so it is not repeated here.
 */
export type StoryEntry =
  | { kind: 'paused'; at: number; by: string; reason: string }
  | { kind: 'resumed'; at: number; by: string }
  | { kind: 'aborted'; at: number; by: string; reason: string }
  | { kind: 'rollback.approved'; at: number; by: string; scenario: string }
  | { kind: 'rollback.cancelled'; at: number; by: string; scenario: string; requestedAt: number; requestedBy: string; reason: string | null }
  /** An alert acknowledged: stepId null for an alert about the rollback itself. */
  | { kind: 'acknowledged'; at: number; by: string; level: EscalationLevel; stepId: string | null }
  /** A step's try met a transient error; the worker tries again by itself (see StepRetry). */
  | ({ kind: 'retrying'; stepId: string; attempt: number } & StepRetry);

/** What happened to one follow-up after go-live (absent until its first event). */
export interface FollowUpState {
  reminders: Array<{ at: number; level: FollowUpLevel; to: string[] }>;
  snoozes: Array<{ by: string; at: number; until: number }>;
  done: { by: string; at: number } | null;
}

export interface RunState {
  runId: string;
  plan: Plan;
  channel: string;
  dryRun: boolean;
  startedBy: string;
  startedAt: number;
  status: RunStatus;
  paused: { by: string; at: number; reason: string } | null;
  finishedAt: number | null;
  abort: { by: string; reason: string } | null;
  steps: Record<string, StepState>;
  order: string[];
  runbookFile: string;
  runbookText: string;
  /** The go/no-go prompt when the window was at risk, and the lead's answer. */
  goNoGo: { requestedAt: number; role: string; reason: string; decision: { by: string; at: number; choice: GoNoGoDecision } | null } | null;
  /** The rollback in progress or done (optional: runs from before rollbacks lack it). Its steps are in `steps`, never in `order`. */
  rollback?: RollbackState | null;
  /** Follow-ups after go-live by id (optional: runs from before follow-ups lack it). */
  followUps?: Record<string, FollowUpState>;
  /** The thread's story of the run, oldest first (optional: runs from before it lack it). */
  story?: StoryEntry[];
  /** Alerts about the latest rollback request (optional: runs from before them lack it). */
  rollbackAlerts?: RollbackAlerts | null;
  version: number;
}

function freshStep(id: string): StepState {
  return {
    id,
    status: 'pending',
    attempt: 1,
    approvals: [],
    requestedAt: null,
    approvedAt: null,
    startedAt: null,
    finishedAt: null,
    jobId: null,
    hold: null,
    progress: null,
    result: null,
    error: null,
    skipped: null,
    escalations: [],
    override: null,
    lapsed: null,
    health: null,
  };
}

/** Applies one event. Pure; an event for an unknown step is ignored rather than trusted. */
export function evolve(state: RunState | null, event: RunEvent): RunState | null {
  return evolveWith(state, event, false);
}

/**
 * `stepsOwned`: the caller made `state.steps` itself and nobody else holds it,
 * so a step event may replace its entry in place instead of copying all of
 * them (fold only). Copying made a fold quadratic: a 3,000-step run's ~9,000
 * events copied 3,000 entries each, seconds of web's event loop per render.
 */
function evolveWith(state: RunState | null, event: RunEvent, stepsOwned: boolean): RunState | null {
  if (event.type === 'run.started') {
    const order = allSteps(event.plan).map((s) => s.id);
    return {
      runId: event.runId,
      plan: event.plan,
      channel: event.channel,
      dryRun: event.dryRun,
      startedBy: event.by,
      startedAt: event.at,
      status: 'active',
      paused: null,
      finishedAt: null,
      abort: null,
      steps: Object.fromEntries(order.map((id) => [id, freshStep(id)])),
      order,
      runbookFile: event.runbookFile,
      runbookText: event.runbookText,
      goNoGo: null,
      rollback: null,
      version: 1,
    };
  }
  if (!state) return null;
  const next: RunState = { ...state, version: state.version + 1 };
  if (!('stepId' in event)) return evolveRun(next, event);
  const step = state.steps[event.stepId];
  if (!step) return next;
  if (stepsOwned) {
    state.steps[event.stepId] = evolveStep(step, event);
    next.steps = state.steps;
  } else {
    next.steps = { ...state.steps, [event.stepId]: evolveStep(step, event) };
  }
  if (event.type === 'escalation.acknowledged') {
    next.story = [...(state.story ?? []), { kind: 'acknowledged', at: event.at, by: event.by, level: event.level, stepId: event.stepId }];
  }
  if (event.type === 'step.retrying') {
    const { at, stepId, attempt, try: failed, of, code, message, delayMs } = event;
    next.story = [...(state.story ?? []), { kind: 'retrying', at, stepId, attempt, try: failed, of, code, message, delayMs }];
  }
  return withRollbackStatus(next, event);
}

function evolveRun(before: RunState, event: Exclude<RunEvent, { stepId: string }>): RunState {
  const entry = storyEntry(before, event);
  const state = entry ? { ...before, story: [...(before.story ?? []), entry] } : before;
  switch (event.type) {
    case 'run.paused':
      return { ...state, status: 'paused', paused: { by: event.by, at: event.at, reason: event.reason } };
    case 'run.resumed':
      return { ...state, status: 'active', paused: null };
    case 'run.aborted':
      return { ...state, status: 'aborted', finishedAt: event.at, abort: { by: event.by, reason: event.reason } };
    case 'run.completed':
      return { ...state, status: 'completed', finishedAt: event.at };
    case 'rollback.requested': {
      // The scenario's steps are tracked from the request on, like forward steps but outside `order`.
      const steps = { ...state.steps };
      for (const s of rollbackSteps(state.plan, event.scenario)) steps[s.id] ??= freshStep(s.id);
      return { ...state, steps, rollback: { scenario: event.scenario, requestedBy: event.by, requestedAt: event.at, reason: event.reason, status: 'requested' } };
    }
    case 'rollback.approved':
      return state.rollback ? { ...state, rollback: { ...state.rollback, approvedBy: event.by, approvedAt: event.at, status: 'running' } } : state;
    case 'rollback.cancelled':
      return { ...state, rollback: null };
    case 'run.rolled_back':
      return { ...state, status: 'rolled_back', finishedAt: event.at, paused: null, rollback: state.rollback ? { ...state.rollback, status: 'done' } : null };
    case 'rollback.escalated':
    case 'rollback.acknowledged':
    case 'rollback.resolved':
      return { ...state, rollbackAlerts: withRollbackAlert(state.rollbackAlerts ?? null, event) };
    case 'go_no_go.requested':
      return { ...state, goNoGo: { requestedAt: event.at, role: event.role, reason: event.reason, decision: null } };
    case 'go_no_go.decided':
      return state.goNoGo ? { ...state, goNoGo: { ...state.goNoGo, decision: { by: event.by, at: event.at, choice: event.decision } } } : state;
    case 'follow_up.reminded':
    case 'follow_up.snoozed':
    case 'follow_up.done':
      return evolveFollowUp(state, event);
    default:
      return state;
  }
}

/** Rollback alert events change only the alerts of their request; an event about an earlier request starts afresh. */
function withRollbackAlert(current: RollbackAlerts | null, event: Extract<RunEvent, { requestedAt: number }>): RollbackAlerts {
  const base: RollbackAlerts = current?.requestedAt === event.requestedAt ? current : { requestedAt: event.requestedAt, sent: [], acks: [], resolvedAt: null };
  switch (event.type) {
    case 'rollback.escalated':
      return { ...base, sent: [...base.sent, { level: event.level, at: event.at, reason: event.reason, to: event.to, round: event.round ?? 0 }] };
    case 'rollback.acknowledged':
      return { ...base, acks: [...base.acks, { level: event.level, by: event.by, at: event.at }] };
    case 'rollback.resolved':
      return { ...base, resolvedAt: event.at };
  }
}

/** The story line an event adds, if any (see StoryEntry). */
function storyEntry(state: RunState, event: Exclude<RunEvent, { stepId: string }>): StoryEntry | null {
  switch (event.type) {
    case 'run.paused': {
      // A rollback request pauses the run in the same breath; its own message says so.
      const rb = state.rollback;
      if (rb && rb.requestedAt === event.at && rb.requestedBy === event.by) return null;
      return { kind: 'paused', at: event.at, by: event.by, reason: event.reason };
    }
    case 'run.resumed':
      return { kind: 'resumed', at: event.at, by: event.by };
    case 'run.aborted':
      return { kind: 'aborted', at: event.at, by: event.by, reason: event.reason };
    case 'rollback.approved':
      return { kind: 'rollback.approved', at: event.at, by: event.by, scenario: event.scenario };
    case 'rollback.acknowledged':
      return { kind: 'acknowledged', at: event.at, by: event.by, level: event.level, stepId: null };
    case 'rollback.cancelled':
      return state.rollback
        ? { kind: 'rollback.cancelled', at: event.at, by: event.by, scenario: event.scenario, requestedAt: state.rollback.requestedAt, requestedBy: state.rollback.requestedBy, reason: event.reason ?? null }
        : null;
    default:
      return null;
  }
}

/** Follow-up events change only the follow-up: the run keeps its status and finish time (they never reopen it). */
function evolveFollowUp(state: RunState, event: Extract<RunEvent, { followUpId: string }>): RunState {
  // As with steps: an event for a follow-up the plan does not have is ignored rather than trusted.
  if (!state.plan.followUps?.some((f) => f.id === event.followUpId)) return state;
  const fu: FollowUpState = state.followUps?.[event.followUpId] ?? { reminders: [], snoozes: [], done: null };
  const next: FollowUpState =
    event.type === 'follow_up.reminded'
      ? { ...fu, reminders: [...fu.reminders, { at: event.at, level: event.level, to: event.to }] }
      : event.type === 'follow_up.snoozed'
        ? { ...fu, snoozes: [...fu.snoozes, { by: event.by, at: event.at, until: event.until }] }
        : { ...fu, done: { by: event.by, at: event.at } };
  return { ...state, followUps: { ...state.followUps, [event.followUpId]: next } };
}

/** A rollback step failing marks the rollback failed; retrying, skipping or re-queuing one puts it back to running. */
function withRollbackStatus(state: RunState, event: Extract<RunEvent, { stepId: string }>): RunState {
  const rb = state.rollback;
  if (!rb || (rb.status !== 'running' && rb.status !== 'failed')) return state;
  if (!rollbackSteps(state.plan, rb.scenario).some((s) => s.id === event.stepId)) return state;
  const status = event.type === 'step.failed' ? 'failed' : ['step.retried', 'step.skipped', 'step.queued', 'step.succeeded'].includes(event.type) ? 'running' : rb.status;
  return status === rb.status ? state : { ...state, rollback: { ...rb, status } };
}

function evolveStep(step: StepState, event: Extract<RunEvent, { stepId: string }>): StepState {
  switch (event.type) {
    case 'step.approval_requested':
      return { ...step, status: 'awaiting_approval', attempt: event.attempt, requestedAt: event.at, approvals: [] };
    case 'step.approved':
      return { ...step, lapsed: null, approvals: [...step.approvals, { by: event.by, at: event.at, ...(event.evidence ? { evidence: event.evidence } : {}) }] };
    case 'step.held':
      return { ...step, status: 'held', hold: { by: event.by, at: event.at, reason: event.reason } };
    case 'step.released':
      return { ...step, status: 'awaiting_approval', hold: null, approvals: [] };
    case 'step.rejected':
      return { ...step, status: 'rejected', hold: { by: event.by, at: event.at, reason: event.reason }, approvals: [] };
    case 'step.queued':
      return { ...step, status: 'queued', approvedAt: event.at, jobId: event.jobId, error: null };
    case 'step.started':
      return { ...step, status: 'running', startedAt: step.startedAt !== null && event.resumed ? step.startedAt : event.at };
    case 'step.progress':
      return { ...step, progress: { message: event.message, at: event.at, data: event.data } };
    case 'step.health':
      return { ...step, health: withSample(step.health, event.sample, event.at) };
    case 'step.succeeded':
      return {
        ...step,
        status: 'succeeded',
        approvedAt: step.approvedAt ?? event.at,
        finishedAt: event.at,
        result: { summary: event.summary, details: event.details },
        health: whenStepEnds(step.health, event.at),
      };
    case 'step.failed':
      return { ...step, status: 'failed', finishedAt: event.at, error: { code: event.code, message: event.message, details: event.details }, health: whenStepEnds(step.health, event.at) };
    case 'step.retried':
      return {
        ...freshStep(step.id),
        escalations: step.escalations,
        acks: step.acks ?? [],
        resolvedAt: step.resolvedAt ?? null,
        status: 'awaiting_approval',
        attempt: event.attempt,
        requestedAt: event.at,
      };
    case 'step.retrying':
      return { ...step, retries: [...(step.retries ?? []), { at: event.at, try: event.try, of: event.of, code: event.code, message: event.message, delayMs: event.delayMs }] };
    case 'step.skipped':
      return { ...step, status: 'skipped', finishedAt: event.at, skipped: { by: event.by, at: event.at, reason: event.reason } };
    case 'gate.overridden':
      return { ...step, override: { by: event.by, at: event.at, reason: event.reason, verdict: event.verdict, evidence: event.evidence } };
    case 'step.approvals_lapsed':
      return { ...step, approvals: [], override: null, lapsed: { at: event.at, reason: event.reason } };
    case 'escalation.sent':
      return {
        ...step,
        escalations: [
          ...step.escalations,
          {
            level: event.level,
            attempt: event.attempt,
            at: event.at,
            reason: event.reason,
            to: event.to,
            ...(event.episode !== undefined ? { episode: event.episode } : {}),
            ...(event.round !== undefined ? { round: event.round } : {}),
          },
        ],
      };
    case 'escalation.acknowledged':
      return { ...step, acks: [...(step.acks ?? []), { attempt: event.attempt, level: event.level, by: event.by, at: event.at }] };
    case 'escalation.resolved':
      return { ...step, resolvedAt: event.at };
  }
}

/** The run after `events`, from nothing or on from `from` (left untouched): linear in the events, plus one copy of the steps. */
export function fold(events: readonly RunEvent[], from: RunState | null = null): RunState | null {
  let state: RunState | null = from;
  // The steps record this fold made (at run.started, or the copy the first step event after `from` made): only this
  // loop holds it. `from`'s own record is shared with whoever holds `from` and is never written.
  let owned: RunState['steps'] | null = null;
  for (const event of events) {
    state = evolveWith(state, event, state !== null && state.steps === owned);
    owned = state && state.steps !== from?.steps ? state.steps : null;
  }
  return state;
}

/** The step the run is on: the first one not finished, or null when all are. */
export function currentStep(state: RunState): StepState | null {
  for (const id of state.order) {
    const step = state.steps[id];
    if (step && step.status !== 'succeeded' && step.status !== 'skipped') return step;
  }
  return null;
}

export const isFinished = (state: RunState): boolean => state.status === 'completed' || state.status === 'aborted' || state.status === 'rolled_back';
