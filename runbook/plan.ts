import type { RetryPolicy } from './retry-policy.js';
import type { RunbookDoc, StepDoc } from './schema.js';

/**
 * The part of a runbook the state machine needs: who approves what, in which
 * order. It carries no connection URL and no action params (those may hold
 * interpolated secrets), so it is safe to keep in the run's events.
 */
export interface PlanRole {
  id: string;
  title: string;
  members: string[];
  usergroups: string[];
  minApprovals: number;
  requesterMayApprove: boolean;
}

export interface PlanStep {
  id: string;
  title: string;
  phaseId: string;
  approve: string;
  action: string;
  /** manual steps complete on approval; everything else runs on the worker. */
  manual: boolean;
  plannedSeconds: number | null;
  timeoutSeconds: number | null;
  confirm: string | null;
  skippableBy: string[];
  description: string | null;
  /** A manual step's checklist: shown to whoever approves it (optional: runs started before it lack it). */
  checklist?: string[];
  /** 'validation': approval needs a green verdict of the validate.* steps before it, or the rollback authority's override. */
  gate: 'validation' | null;
  /** `backup.<step id>` entries: approval waits for a verified backup from each (optional: runs started before it existed lack it). */
  requires?: string[];
  /** Automatic retry of transient errors, resolved at load from `retry:` and the action (optional: runs started before it lack it, and are not retried). */
  retry?: RetryPolicy | null;
}

export interface PlanPhase {
  id: string;
  title: string;
  plannedSeconds: number | null;
  steps: PlanStep[];
}

export interface RollbackScenario {
  id: string;
  title: string;
  /** The role that authorises this rollback (the rollback authority for it). */
  approve: string;
  plannedSeconds?: number | null;
  steps?: PlanStep[];
}

/** A duty after go-live (runbook `follow_ups:`), in seconds. */
export interface PlanFollowUp {
  id: string;
  title: string;
  description: string | null;
  /** Due this long after go-live (the switch step's recorded time, else the run's completion). */
  afterSeconds: number;
  role: string;
  checklist: string[];
  remindEverySeconds: number;
  escalateAfterSeconds: number;
  snoozeSeconds: number;
}

export type Permission = 'start' | 'pause' | 'resume' | 'abort' | 'rollback';

export interface Plan {
  runbook: string;
  title: string;
  roles: Record<string, PlanRole>;
  phases: PlanPhase[];
  /** null: any member of any role may. */
  permissions: Record<Permission, string[] | null>;
  /**
   * plannedSeconds: the scenario's `planned`, else the sum of its steps'; steps: run as their own phase
   * `rollback:<id>` once the rollback authority approves (both optional: runs started before them lack them).
   */
  rollbackScenarios: RollbackScenario[];
  /** The maintenance window as epoch ms (optional: runs started before it existed lack it). */
  window?: { start: number | null; end: number | null };
  /** The runbook's time zone for files (optional: runs started before it existed lack it, and read as UTC). */
  timeZone?: string;
  /** Duties after go-live, scheduled when the run completes (optional: runs started before them lack them). */
  followUps?: PlanFollowUp[];
}

/** Retry policies by step id, resolved at load (they depend on the action's parsed params). */
export type RetryPolicies = Readonly<Record<string, RetryPolicy | null>>;

function planStep(step: StepDoc, phaseId: string, retries: RetryPolicies): PlanStep {
  return {
    id: step.id,
    title: step.title,
    phaseId,
    approve: step.approve,
    action: step.action,
    manual: step.action === 'manual',
    plannedSeconds: step.planned ?? null,
    timeoutSeconds: step.timeout ?? null,
    confirm: step.confirm ?? null,
    skippableBy: step.skippable_by,
    description: step.description ?? null,
    gate: step.gate ?? null,
    requires: step.requires,
    retry: retries[step.id] ?? null,
    ...manualChecklist(step),
  };
}

/** A manual step's checklist, carried in the plan so the person approving it sees what they confirm. */
function manualChecklist(step: StepDoc): { checklist?: string[] } {
  const params: unknown = step.params;
  if (step.action !== 'manual' || !params || typeof params !== 'object' || !('checklist' in params) || !Array.isArray(params.checklist)) return {};
  const items = params.checklist.filter((c): c is string => typeof c === 'string' && c.trim() !== '');
  return items.length ? { checklist: items } : {};
}

export function planOf(name: string, doc: RunbookDoc, retries: RetryPolicies = {}): Plan {
  const roles: Record<string, PlanRole> = {};
  for (const [id, r] of Object.entries(doc.roles)) {
    roles[id] = {
      id,
      title: r.title,
      members: r.members,
      usergroups: r.usergroups,
      minApprovals: r.min_approvals,
      requesterMayApprove: r.requester_may_approve,
    };
  }
  const p = doc.permissions;
  return {
    runbook: name,
    title: doc.title,
    timeZone: doc.timezone,
    roles,
    phases: doc.phases.map((ph) => ({
      id: ph.id,
      title: ph.title,
      plannedSeconds: ph.planned ?? sumPlanned(ph.steps),
      steps: ph.steps.map((s) => planStep(s, ph.id, retries)),
    })),
    permissions: {
      start: p.start ?? null,
      pause: p.pause ?? null,
      resume: p.resume ?? null,
      abort: p.abort ?? null,
      rollback: p.rollback ?? null,
    },
    rollbackScenarios: Object.entries(doc.rollback).map(([id, s]) => ({
      id,
      title: s.title,
      approve: s.approve,
      plannedSeconds: s.planned ?? sumPlanned(s.steps),
      steps: s.steps.map((step) => planStep(step, rollbackPhaseId(id), retries)),
    })),
    window: { start: instant(doc.window?.start), end: instant(doc.window?.end) },
    followUps: doc.follow_ups.map((f) => ({
      id: f.id,
      title: f.title,
      description: f.description ?? null,
      afterSeconds: f.after,
      role: f.role,
      checklist: f.checklist,
      remindEverySeconds: f.remind_every,
      escalateAfterSeconds: f.escalate_after,
      snoozeSeconds: f.snooze,
    })),
  };
}

const instant = (iso: string | undefined): number | null => (iso ? Date.parse(iso) : null);

function sumPlanned(steps: StepDoc[]): number | null {
  const known = steps.filter((s) => s.planned !== undefined);
  return known.length === 0 ? null : known.reduce((sum, s) => sum + (s.planned ?? 0), 0);
}

export function allSteps(plan: Plan): PlanStep[] {
  return plan.phases.flatMap((ph) => ph.steps);
}

export const rollbackPhaseId = (scenario: string): string => `rollback:${scenario}`;

/** The steps of one rollback scenario, in order (none for an unknown scenario). */
export function rollbackSteps(plan: Plan, scenario: string): PlanStep[] {
  return plan.rollbackScenarios.find((s) => s.id === scenario)?.steps ?? [];
}

/** A step of the forward phases or of any rollback scenario (step ids are unique across both, checked at load). */
export function findPlanStep(plan: Plan, stepId: string): PlanStep | undefined {
  return allSteps(plan).find((s) => s.id === stepId) ?? plan.rollbackScenarios.flatMap((s) => s.steps ?? []).find((s) => s.id === stepId);
}
