import { refuse, type Ruling } from './ruling.js';
import type { RunEvent } from './events.js';
import { allSteps, rollbackSteps, type RollbackScenario } from './plan.js';
import { describeRole, isMember, mention, permissionRefusal, type Actor } from './policy.js';
import { reasonProblem } from './reasons.js';
import { approvalChain, approvingRole, describeApprover, mayApproveRollback, stuckRollbackSteps, unapprovableRequest } from './rollback-authority.js';
import { evolve, type RollbackState, type RunState } from './state.js';

/**
 * `/migrate rollback`: a request pauses the forward run; the scenario's role
 * (the rollback authority for it) approves, with separation of duties; then
 * the scenario's steps run one after another through the ordinary step
 * commands, and the last one ends the run as rolled back. Pure.
 */
export type RollbackCommand =
  | { type: 'rollback.request'; at: number; actor: Actor; scenario?: string | null; reason: string }
  // requestedAt: present when the command comes from a button, so a button of an earlier (cancelled) request cannot act on a later one.
  | { type: 'rollback.approve'; at: number; actor: Actor; requestedAt?: number }
  | { type: 'rollback.cancel'; at: number; actor: Actor; requestedAt?: number; reason?: string };

const accept = (events: RunEvent[]): Ruling => ({ ok: true, events });
const clock = (at: number): string => new Date(at).toISOString().slice(11, 16) + ' UTC';

/** The application runs on the target once a `switch` step succeeded: from then on the default way back is post-go-live. */
export function switchDone(state: RunState): boolean {
  return allSteps(state.plan).some((s) => s.action === 'switch' && state.steps[s.id]?.status === 'succeeded');
}

/** Before the go-live switch: pre-go-live; after it: post-go-live. */
export const defaultScenario = (state: RunState): string => (switchDone(state) ? 'post-go-live' : 'pre-go-live');

/** A rollback that has been asked for and not ended (cancelled requests are gone from the state). */
export const rollbackOpen = (state: RunState): boolean => state.rollback != null && state.rollback.status !== 'done';

/** Approved and not done: its steps run, even though the forward run is paused. */
export const inRollback = (state: RunState): boolean => state.rollback?.status === 'running' || state.rollback?.status === 'failed';

/** Whether the step belongs to the scenario of the run's rollback. */
export function isRollbackStep(state: RunState, stepId: string): boolean {
  return state.rollback != null && rollbackSteps(state.plan, state.rollback.scenario).some((s) => s.id === stepId);
}

/** The worker stops a forward step once a rollback is asked for (the forward run will not go on). */
export const rollbackCancels = (state: RunState, stepId: string): boolean => rollbackOpen(state) && !isRollbackStep(state, stepId);

export const describeRollback = (rb: RollbackState): string => `a rollback (${rb.scenario}) requested by ${mention(rb.requestedBy)} at ${clock(rb.requestedAt)}`;

/** Null when the forward run may resume, else why not. */
export function rollbackBlocksResume(state: RunState): string | null {
  const rb = state.rollback;
  if (!rb || !rollbackOpen(state)) return null;
  return `${capitalise(describeRollback(rb))} is ${rb.status === 'requested' ? 'waiting for approval' : 'in progress'}; the forward run cannot resume${rb.status === 'requested' ? ' unless the request is cancelled' : ''}.`;
}

export function decideRollback(state: RunState, c: RollbackCommand): Ruling {
  switch (c.type) {
    case 'rollback.request':
      return decideRequest(state, c);
    case 'rollback.approve':
      return decideApproveRollback(state, c);
    case 'rollback.cancel':
      return decideCancel(state, c);
  }
}

function listScenarios(scenarios: RollbackScenario[]): string {
  return scenarios.length ? scenarios.map((s) => `\`${s.id}\` (${s.title})`).join(', ') : 'none';
}

/**
 * The events of a rollback request, without the permission check (the go/no-go
 * role choosing rollback was asked exactly this). Refuses an open rollback and
 * an unknown scenario.
 */
export function rollbackRequest(state: RunState, at: number, by: string, scenarioId: string | null | undefined, reason: string): Ruling {
  if (state.rollback && rollbackOpen(state)) return refuse('rollback.already_requested', `${capitalise(describeRollback(state.rollback))} is already in progress.`);
  const id = scenarioId ?? defaultScenario(state);
  const scenario = state.plan.rollbackScenarios.find((s) => s.id === id);
  if (!scenario) {
    const why = scenarioId ? `has no rollback scenario "${id}"` : `has no "${id}" rollback scenario, the default ${switchDone(state) ? 'after' : 'before'} the go-live switch`;
    return refuse('rollback.unknown_scenario', `Runbook ${state.plan.runbook} ${why}; it declares ${listScenarios(state.plan.rollbackScenarios)}.`);
  }
  const nobody = unapprovableRequest(state.plan, scenario, by);
  if (nobody) return refuse('rollback.unapprovable', nobody);
  const stuck = stuckRollbackSteps(state.plan, id, by);
  if (stuck.length > 0) {
    const steps = stuck.map((s) => `"${s.title}" (${state.plan.roles[s.approve]?.title ?? s.approve})`).join(', ');
    return refuse(
      'rollback.unapprovable',
      `If you request this rollback, ${steps} could not be approved: separation of duties keeps the requester from approving its steps and nobody else is in that role. Ask another member to request it.`,
    );
  }
  const events: RunEvent[] = [{ type: 'rollback.requested', at, scenario: id, by, reason }];
  if (state.status !== 'paused') events.push({ type: 'run.paused', at, by, reason: `rollback (${id}) requested: ${reason}` });
  return accept(events);
}

function decideRequest(state: RunState, c: Extract<RollbackCommand, { type: 'rollback.request' }>): Ruling {
  const unexplained = reasonProblem('rollback', c.reason);
  if (unexplained) return refuse('reason.required', unexplained);
  const scenario = state.plan.rollbackScenarios.find((s) => s.id === (c.scenario ?? defaultScenario(state)));
  const authority = scenario ? state.plan.roles[scenario.approve] : undefined;
  // The scenario's own role may always ask; otherwise `permissions.rollback` (default: any role) decides.
  const denied = authority && isMember(authority, c.actor) ? null : permissionRefusal(state.plan, 'rollback', c.actor);
  const decision = rollbackRequest(state, c.at, c.actor.id, c.scenario, c.reason);
  if (!decision.ok || !denied) return decision;
  return refuse('role.not_permitted', denied);
}

function decideApproveRollback(state: RunState, c: Extract<RollbackCommand, { type: 'rollback.approve' }>): Ruling {
  const rb = state.rollback;
  if (!rb) return refuse('rollback.not_requested', 'No rollback has been requested in this run.');
  if (c.requestedAt !== undefined && c.requestedAt !== rb.requestedAt) return refuse('rollback.stale', `That button belongs to an earlier rollback request; ${describeRollback(rb)} is the current one.`);
  const scenario = state.plan.rollbackScenarios.find((s) => s.id === rb.scenario);
  const role = scenario ? approvingRole(state.plan, scenario, rb.requestedBy) : null;
  if (!scenario || !role) return refuse('role.unknown', `Rollback scenario "${rb.scenario}" names no role that could approve it.`);
  if (rb.status !== 'requested') return refuse('rollback.already_approved', `${capitalise(describeRollback(rb))} was already approved by ${mention(rb.approvedBy ?? '?')} at ${clock(rb.approvedAt ?? 0)}.`);
  if (c.actor.id === rb.requestedBy && !role.requesterMayApprove && isMember(role, c.actor)) {
    return refuse('approval.separation_of_duties', `You requested this rollback, so you may not approve it for ${role.title} (separation of duties): another member must.`);
  }
  if (!mayApproveRollback(state.plan, scenario, rb.requestedBy, c.actor)) {
    if (c.actor.id === rb.requestedBy) return refuse('approval.separation_of_duties', `You requested this rollback, so you may not approve it (separation of duties): ${describeApprover(state.plan, scenario, rb.requestedBy)} must.`);
    return refuse('role.not_member', `Only the rollback authority for ${scenario.title}, ${describeApprover(state.plan, scenario, rb.requestedBy)}, may approve ${describeRollback(rb)}.`);
  }
  const approved: RunEvent = { type: 'rollback.approved', at: c.at, scenario: rb.scenario, by: c.actor.id };
  return accept([approved, ...advanceRollback(evolve(state, approved) as RunState, c.at)]);
}

function decideCancel(state: RunState, c: Extract<RollbackCommand, { type: 'rollback.cancel' }>): Ruling {
  const rb = state.rollback;
  if (!rb || !rollbackOpen(state)) return refuse('rollback.not_requested', 'No rollback is waiting for approval in this run.');
  if (c.requestedAt !== undefined && c.requestedAt !== rb.requestedAt) return refuse('rollback.stale', `That button belongs to an earlier rollback request; ${describeRollback(rb)} is the current one.`);
  if (rb.status !== 'requested') return refuse('rollback.already_approved', `${capitalise(describeRollback(rb))} was approved by ${mention(rb.approvedBy ?? '?')}; it can no longer be cancelled (abort the run instead).`);
  const scenario = state.plan.rollbackScenarios.find((s) => s.id === rb.scenario);
  const chain = scenario ? approvalChain(state.plan, scenario) : [];
  if (c.actor.id !== rb.requestedBy && !chain.some((r) => isMember(r, c.actor))) {
    return refuse('role.not_member', `Only ${mention(rb.requestedBy)}, who requested it, or ${chain.length ? chain.map(describeRole).join(' or ') : rb.scenario} may cancel ${describeRollback(rb)}.`);
  }
  return accept([{ type: 'rollback.cancelled', at: c.at, scenario: rb.scenario, by: c.actor.id, ...(c.reason ? { reason: c.reason } : {}) }]);
}

/** What follows within the rollback phase: the next step's approval, or the end of the run once every step is done. */
export function advanceRollback(state: RunState, at: number): RunEvent[] {
  const rb = state.rollback;
  if (!rb || rb.status !== 'running') return [];
  for (const planStep of rollbackSteps(state.plan, rb.scenario)) {
    const step = state.steps[planStep.id];
    if (!step || step.status === 'succeeded' || step.status === 'skipped') continue;
    return step.status === 'pending' ? [{ type: 'step.approval_requested', at, stepId: step.id, attempt: step.attempt }] : [];
  }
  return [{ type: 'run.rolled_back', at, scenario: rb.scenario, reason: rb.reason }];
}

const capitalise = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);
