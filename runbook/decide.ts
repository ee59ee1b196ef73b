import { backupRefusal } from './backups.js';
import { decideAlert, type AlertCommand } from './decide-alerts.js';
import { decideEscalation, type EscalationCommand } from './decide-escalation.js';
import { effectsOfChange, type Effect } from './effects.js';
import type { RunEvent } from './events.js';
import { decideFollowUp, FOLLOW_UP_COMMANDS, type FollowUpCommand } from './follow-ups.js';
import type { HealthSample } from './health-sample.js';
import { approvalEvidence, approvalRefusal, canRetry, decideOverride, lapsedApprovals, type GateCommand } from './gate.js';
import { allSteps, findPlanStep, type Plan, type PlanRole, type PlanStep } from './plan.js';
import { describeRole, isMember, mention, permissionRefusal, type Actor } from './policy.js';
import { advanceRollback, decideRollback, inRollback, isRollbackStep, rollbackBlocksResume, type RollbackCommand } from './rollback.js';
import { reasonProblem } from './reasons.js';
import { deciderOf } from './separation.js';
import { stepJobId } from './ports.js';
import { type Refusal, refuse, type Ruling } from './ruling.js';
import { nextTry } from './retry-policy.js';
import { currentStep, evolve, isFinished, triesFailed, type RunState, type StepState } from './state.js';

/**
 * Commands carry their own time and actor, so deciding is pure and
 * repeatable: the same command on the same state gives the same answer.
 */
export type Command =
  | {
      type: 'start';
      at: number;
      actor: Actor;
      runId: string;
      channel: string;
      dryRun: boolean;
      plan: Plan;
      runbookFile: string;
      runbookText: string;
    }
  | { type: 'approve'; at: number; actor: Actor; stepId: string; attempt: number }
  // attempt: present when the command comes from a button, so a stale button cannot act on a later attempt.
  | { type: 'hold'; at: number; actor: Actor; stepId: string; reason: string; attempt?: number }
  | { type: 'release'; at: number; actor: Actor; stepId: string; attempt?: number }
  | { type: 'reject'; at: number; actor: Actor; stepId: string; reason: string; attempt?: number }
  | { type: 'retry'; at: number; actor: Actor; stepId: string; attempt: number }
  | { type: 'skip'; at: number; actor: Actor; stepId: string; reason: string; attempt?: number }
  | { type: 'pause'; at: number; actor: Actor; reason: string }
  | { type: 'resume'; at: number; actor: Actor }
  | { type: 'abort'; at: number; actor: Actor; reason: string }
  // Reports from the worker, keyed by attempt so a late report of an old attempt changes nothing.
  | { type: 'report.started'; at: number; stepId: string; attempt: number; resumed: boolean }
  | { type: 'report.progress'; at: number; stepId: string; attempt: number; message: string; data?: Record<string, unknown> }
  | { type: 'report.health'; at: number; stepId: string; attempt: number; sample: HealthSample }
  | { type: 'report.succeeded'; at: number; stepId: string; attempt: number; summary: string; details?: Record<string, unknown> }
  | { type: 'report.failed'; at: number; stepId: string; attempt: number; code: string; message: string; details?: Record<string, unknown> }
  // try: the try that just failed with a transient error (1-based); the worker waits delayMs, then runs the next one.
  | { type: 'report.retrying'; at: number; stepId: string; attempt: number; try: number; code: string; message: string; delayMs: number }
  | EscalationCommand
  | GateCommand
  | RollbackCommand
  | FollowUpCommand
  | AlertCommand;

/**
 * What `decide` answers, performing nothing: the events to append, the run
 * after them, and the effects they call for (data, for
 * `RunService.applyEffects`); or a refusal.
 */
export type Decision = { ok: true; events: RunEvent[]; state: RunState; effects: Effect[] } | Refusal;

const accept = (events: RunEvent[]): Ruling => ({ ok: true, events });

const clock = (at: number): string => new Date(at).toISOString().slice(11, 16) + ' UTC';

export function decide(state: RunState | null, command: Command): Decision {
  const ruling = rule(state, command);
  if (!ruling.ok) return ruling;
  const after = ruling.events.reduce<RunState | null>(evolve, state);
  // Every accepted command leaves a run (a start creates it; the others need one): a null here is a bug in a sub-decider.
  if (!after) return refuse('run.not_found', 'There is no such run.');
  return { ok: true, events: ruling.events, state: after, effects: effectsOfChange(state, after) };
}

function rule(state: RunState | null, command: Command): Ruling {
  if (command.type === 'start') return decideStart(state, command);
  if (!state) return refuse('run.not_found', 'There is no such run.');
  // Follow-ups belong to a completed run: they are decided before the finished-run refusal, and never reopen it.
  if (isFollowUpCommand(command)) return decideFollowUp(state, command);
  // A finished run also still takes the "cleared" notice owed for a health alert already sent.
  if (isFinished(state) && command.type === 'escalate' && command.level === 'unblocked') return decideEscalation(state, command);
  // …and the pager's "resolved" for an alert the run's end cleared.
  if (isFinished(state) && command.type === 'alert.resolve') return decideAlert(state, command);
  if (isFinished(state)) return refuse('run.finished', `This run is ${finishedAs(state)}; nothing more can happen in it.`);
  switch (command.type) {
    case 'pause':
    case 'resume':
    case 'abort':
      return decideRunControl(state, command);
    case 'report.started':
    case 'report.progress':
    case 'report.health':
    case 'report.succeeded':
    case 'report.failed':
    case 'report.retrying':
      return decideReport(state, command);
    case 'escalate':
    case 'go_no_go.request':
    case 'go_no_go.decide':
      return decideEscalation(state, command);
    case 'gate.override':
      return decideOverride(state, command);
    case 'rollback.request':
    case 'rollback.approve':
    case 'rollback.cancel':
      return decideRollback(state, command);
    case 'rollback.escalate':
    case 'alert.acknowledge':
    case 'alert.resolve':
    case 'approval.timeout':
      return decideAlert(state, command);
    default:
      return decideStepCommand(state, command);
  }
}

const isFollowUpCommand = (c: Command): c is FollowUpCommand => FOLLOW_UP_COMMANDS.has(c.type);

function decideStart(state: RunState | null, c: Extract<Command, { type: 'start' }>): Ruling {
  if (state) return refuse('run.exists', `Run ${c.runId} already exists.`);
  const denied = permissionRefusal(c.plan, 'start', c.actor);
  if (denied) return refuse('role.not_permitted', denied);
  const stuck = unapprovableRoles(c.plan, c.actor);
  if (stuck.length > 0) {
    return refuse(
      'approval.unreachable',
      `If you start this run, ${stuck.map((r) => r.title).join(' and ')} cannot reach ${stuck.length > 1 ? 'their' : 'its'} required approvals without you, and separation of duties forbids you approving. Ask another member to start it.`,
    );
  }
  const first = allSteps(c.plan)[0];
  const events: RunEvent[] = [
    {
      type: 'run.started',
      at: c.at,
      runId: c.runId,
      by: c.actor.id,
      channel: c.channel,
      dryRun: c.dryRun,
      plan: c.plan,
      runbookFile: c.runbookFile,
      runbookText: c.runbookText,
    },
  ];
  if (first) events.push({ type: 'step.approval_requested', at: c.at, stepId: first.id, attempt: 1 });
  return accept(events);
}

/** Roles whose quorum needs the requester, who may not approve: a run started by this actor would stall there. */
function unapprovableRoles(plan: Plan, actor: Actor): PlanRole[] {
  const used = new Set(allSteps(plan).map((s) => s.approve));
  return Object.values(plan.roles).filter(
    (r) => used.has(r.id) && !r.requesterMayApprove && r.usergroups.length === 0 && r.members.includes(actor.id) && r.members.length - 1 < r.minApprovals,
  );
}

function decideRunControl(state: RunState, c: Extract<Command, { type: 'pause' | 'resume' | 'abort' }>): Ruling {
  const denied = permissionRefusal(state.plan, c.type, c.actor);
  if (denied) return refuse('role.not_permitted', denied);
  if (c.type === 'pause') {
    if (state.status === 'paused') return refuse('run.already_paused', `The run is already paused by ${mention(state.paused?.by ?? '?')} since ${clock(state.paused?.at ?? 0)}.`);
    return accept([{ type: 'run.paused', at: c.at, by: c.actor.id, reason: c.reason }]);
  }
  if (c.type === 'resume') {
    if (state.status !== 'paused') return refuse('run.not_paused', 'The run is not paused.');
    const rollingBack = rollbackBlocksResume(state);
    if (rollingBack) return refuse('run.rolling_back', rollingBack);
    const resumed: RunEvent = { type: 'run.resumed', at: c.at, by: c.actor.id };
    return accept([resumed, ...advance(evolve(state, resumed) as RunState, c.at)]);
  }
  // Whatever the way in (slash command, modal, a timeout), an abort is on record with why.
  const unexplained = reasonProblem('abort', c.reason);
  if (unexplained) return refuse('reason.required', unexplained);
  return accept([{ type: 'run.aborted', at: c.at, by: c.actor.id, reason: c.reason.trim() }]);
}

type StepCommand = Exclude<Extract<Command, { stepId: string; actor: Actor }>, GateCommand>;

const finishedAs = (state: RunState): string =>
  state.status === 'completed' ? 'completed' : state.status === 'rolled_back' ? `rolled back (${state.rollback?.scenario ?? '?'}: ${state.rollback?.reason ?? 'no reason'})` : `aborted (${state.abort?.reason ?? 'no reason'})`;

function decideStepCommand(state: RunState, c: StepCommand): Ruling {
  const step = state.steps[c.stepId];
  const planStep = findPlanStep(state.plan, c.stepId);
  if (!step || !planStep) return refuse('step.not_found', `This run has no step "${c.stepId}".`);
  const role = state.plan.roles[planStep.approve];
  if (!role) return refuse('role.unknown', `Step "${planStep.title}" names an unknown role.`);

  if (c.attempt !== undefined && c.attempt !== step.attempt) {
    return refuse('step.stale_attempt', `That button belongs to attempt ${c.attempt}; "${planStep.title}" is at attempt ${step.attempt}.`);
  }
  if (c.type === 'skip') return decideSkip(state, step, planStep, c);
  if (!isMember(role, c.actor)) {
    return refuse('role.not_member', `You are not in the role ${describeRole(role)}, which must approve "${planStep.title}".`);
  }
  // A paused forward run still lets the approved rollback's steps go on.
  if (state.status === 'paused' && c.type !== 'hold' && c.type !== 'reject' && !(inRollback(state) && isRollbackStep(state, step.id))) {
    return refuse('run.paused', `The run is paused by ${mention(state.paused?.by ?? '?')} since ${clock(state.paused?.at ?? 0)}; resume it first.`);
  }
  switch (c.type) {
    case 'approve':
      return decideApprove(state, step, planStep, c);
    case 'hold':
    case 'reject':
      if (step.status !== 'awaiting_approval' && step.status !== 'held') return refuse('step.not_waiting', notWaiting(step, planStep));
      if (c.type === 'hold' && step.status === 'held') return refuse('step.already_held', `"${planStep.title}" is already held by ${mention(step.hold?.by ?? '?')}: ${step.hold?.reason ?? ''}`);
      return accept([{ type: c.type === 'hold' ? 'step.held' : 'step.rejected', at: c.at, stepId: step.id, by: c.actor.id, reason: c.reason }]);
    case 'release':
      if (step.status !== 'held') return refuse('step.not_held', `"${planStep.title}" is not on hold.`);
      return accept([{ type: 'step.released', at: c.at, stepId: step.id, by: c.actor.id }]);
    case 'retry': {
      if (!canRetry(state, planStep, step)) return refuse('step.not_retryable', `"${planStep.title}" can be retried only after it failed or was rejected; it is ${step.status.replace('_', ' ')}.`);
      if (c.attempt !== step.attempt) return refuse('step.stale_attempt', `That button belongs to attempt ${c.attempt}; "${planStep.title}" is at attempt ${step.attempt}.`);
      const retried: RunEvent = { type: 'step.retried', at: c.at, stepId: step.id, attempt: step.attempt + 1, by: c.actor.id };
      const after = evolve(state, retried) as RunState;
      const approval = decideApprove(after, after.steps[step.id] as StepState, planStep, { at: c.at, actor: c.actor, attempt: step.attempt + 1 });
      // The retrier's click counts as an approval when policy allows it; otherwise the step waits for one.
      return accept([retried, ...(approval.ok ? approval.events : [])]);
    }
  }
}

function decideApprove(state: RunState, step: StepState, planStep: PlanStep, c: { at: number; actor: Actor; attempt: number }): Ruling {
  const role = state.plan.roles[planStep.approve];
  if (!role) return refuse('role.unknown', `Step "${planStep.title}" names an unknown role.`);
  if (c.attempt !== step.attempt) return refuse('step.stale_attempt', `That button belongs to attempt ${c.attempt}; "${planStep.title}" is at attempt ${step.attempt}.`);
  const mine = step.approvals.find((a) => a.by === c.actor.id);
  if (mine) return refuse('approval.duplicate', `You already approved "${planStep.title}" at ${clock(mine.at)}.`);
  if (step.status !== 'awaiting_approval') return refuse('step.not_waiting', notWaiting(step, planStep));
  const decider = deciderOf(state, step);
  if (c.actor.id === decider.by && !role.requesterMayApprove) {
    return refuse('approval.separation_of_duties', `You ${decider.did}, so you may not approve for ${role.title} (separation of duties): another member must.`);
  }
  const gated = approvalRefusal(state, planStep, step);
  if (gated) return refuse(gated.code, gated.message);
  const unbacked = backupRefusal(state, planStep);
  if (unbacked) return refuse(unbacked.code, unbacked.message);
  const evidence = approvalEvidence(state, planStep);
  const approved: RunEvent = { type: 'step.approved', at: c.at, stepId: step.id, attempt: step.attempt, by: c.actor.id, ...(evidence ? { evidence } : {}) };
  if (step.approvals.length + 1 < role.minApprovals) return accept([approved]);
  if (planStep.manual) {
    const done: RunEvent = { type: 'step.succeeded', at: c.at, stepId: step.id, attempt: step.attempt, summary: 'Checklist item confirmed' };
    const after = evolve(evolve(state, approved), done) as RunState;
    return accept([approved, done, ...advance(after, c.at)]);
  }
  return accept([approved, { type: 'step.queued', at: c.at, stepId: step.id, attempt: step.attempt, jobId: stepJobId(state.runId, step.id, step.attempt) }]);
}

function decideSkip(state: RunState, step: StepState, planStep: PlanStep, c: Extract<Command, { type: 'skip' }>): Ruling {
  const allowed = planStep.skippableBy.map((r) => state.plan.roles[r]).filter((r) => r !== undefined);
  if (allowed.length === 0) return refuse('step.not_skippable', `The runbook does not allow skipping "${planStep.title}".`);
  if (!allowed.some((r) => isMember(r, c.actor))) {
    return refuse('role.not_member', `Only ${allowed.map(describeRole).join(' or ')} may skip "${planStep.title}".`);
  }
  if (!['awaiting_approval', 'held', 'rejected', 'failed'].includes(step.status)) return refuse('step.not_skippable_now', notWaiting(step, planStep));
  const skipped: RunEvent = { type: 'step.skipped', at: c.at, stepId: step.id, by: c.actor.id, reason: c.reason };
  const after = evolve(state, skipped) as RunState;
  return accept([skipped, ...lapsedApprovals(after, c.at), ...advance(after, c.at)]);
}

function decideReport(state: RunState, c: Extract<Command, { type: `report.${string}` }>): Ruling {
  const step = state.steps[c.stepId];
  if (!step) return refuse('step.not_found', `This run has no step "${c.stepId}".`);
  if (c.attempt !== step.attempt) return refuse('step.stale_attempt', `Report for attempt ${c.attempt} of "${c.stepId}" ignored: the step is at attempt ${step.attempt}.`);
  switch (c.type) {
    case 'report.started':
      if (step.status !== 'queued' && !(step.status === 'running' && c.resumed)) return refuse('step.not_queued', `Step "${c.stepId}" is ${step.status}, not queued.`);
      return accept([{ type: 'step.started', at: c.at, stepId: c.stepId, attempt: c.attempt, resumed: c.resumed }]);
    case 'report.progress':
      if (step.status !== 'running') return refuse('step.not_running', `Step "${c.stepId}" is not running.`);
      return accept([{ type: 'step.progress', at: c.at, stepId: c.stepId, attempt: c.attempt, message: c.message, data: c.data }]);
    case 'report.health':
      if (step.status !== 'running') return refuse('step.not_running', `Step "${c.stepId}" is not running.`);
      return accept([{ type: 'step.health', at: c.at, stepId: c.stepId, attempt: c.attempt, sample: c.sample }]);
    case 'report.succeeded': {
      if (step.status !== 'running' && step.status !== 'queued') return refuse('step.not_running', `Step "${c.stepId}" is ${step.status}, not running.`);
      const done: RunEvent = { type: 'step.succeeded', at: c.at, stepId: c.stepId, attempt: c.attempt, summary: c.summary, details: c.details };
      const after = evolve(state, done) as RunState;
      return accept([done, ...lapsedApprovals(after, c.at), ...advance(after, c.at)]);
    }
    case 'report.failed': {
      if (step.status !== 'running' && step.status !== 'queued') return refuse('step.not_running', `Step "${c.stepId}" is ${step.status}, not running.`);
      const failed: RunEvent = { type: 'step.failed', at: c.at, stepId: c.stepId, attempt: c.attempt, code: c.code, message: c.message, ...(c.details ? { details: c.details } : {}) };
      return accept([failed, ...lapsedApprovals(evolve(state, failed) as RunState, c.at)]);
    }
    case 'report.retrying':
      return decideRetrying(state, step, c);
  }
  return refuse('command.unknown', 'Unknown report.');
}

/**
 * An automatic retry is on record before the worker waits for it: only for a
 * running step whose policy has a try left, and only for the try the run
 * knows failed last, so the count stays true across worker restarts and a
 * late or repeated report cannot buy a step extra tries.
 */
function decideRetrying(state: RunState, step: StepState, c: Extract<Command, { type: 'report.retrying' }>): Ruling {
  if (step.status !== 'running') return refuse('step.not_running', `Step "${c.stepId}" is ${step.status}, not running.`);
  const failedTry = triesFailed(step) + 1;
  if (c.try !== failedTry) return refuse('retry.stale_try', `Retry after try ${c.try} of "${c.stepId}" ignored: the run has try ${failedTry} as the current one.`);
  const policy = findPlanStep(state.plan, c.stepId)?.retry;
  const next = nextTry(policy, failedTry);
  if (!policy || !next) return refuse('retry.exhausted', `"${c.stepId}" has no automatic retry left (${policy ? `${policy.attempts} tries` : 'none allowed'}).`);
  return accept([{ type: 'step.retrying', at: c.at, stepId: c.stepId, attempt: c.attempt, try: c.try, of: policy.attempts, code: c.code, message: c.message, delayMs: c.delayMs }]);
}

/** What follows once nothing is in flight: request the next approval, or complete the run. */
function advance(state: RunState, at: number): RunEvent[] {
  if (inRollback(state)) return advanceRollback(state, at);
  if (state.status !== 'active') return [];
  const next = currentStep(state);
  if (!next) return [{ type: 'run.completed', at }];
  if (next.status === 'pending') return [{ type: 'step.approval_requested', at, stepId: next.id, attempt: next.attempt }];
  return [];
}

function notWaiting(step: StepState, planStep: PlanStep): string {
  const t = planStep.title;
  switch (step.status) {
    case 'pending':
      return `"${t}" is not waiting for approval yet: earlier steps come first.`;
    case 'held':
      return `"${t}" is on hold by ${mention(step.hold?.by ?? '?')}: ${step.hold?.reason ?? ''}. Release it first.`;
    case 'rejected':
      return `"${t}" was rejected by ${mention(step.hold?.by ?? '?')}: ${step.hold?.reason ?? ''}. Retry or skip it.`;
    case 'queued':
    case 'running': {
      const last = step.approvals[step.approvals.length - 1];
      return `"${t}" is already approved${last ? ` by ${mention(last.by)} at ${clock(last.at)}` : ''} and is ${step.status}.`;
    }
    case 'succeeded':
      return `"${t}" already ran: it succeeded at ${clock(step.finishedAt ?? 0)}.`;
    case 'failed':
      return `"${t}" failed (${step.error?.message ?? 'no reason'}); retry or skip it.`;
    case 'skipped':
      return `"${t}" was skipped by ${mention(step.skipped?.by ?? '?')}.`;
    default:
      return `"${t}" is not waiting for approval.`;
  }
}
