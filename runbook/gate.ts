import type { ErrorCode } from './error-codes.js';
import { refuse, type Ruling } from './ruling.js';
import type { RunEvent } from './events.js';
import { allSteps, type Plan, type PlanRole, type PlanStep } from './plan.js';
import { describeRole, isMember, mention, type Actor } from './policy.js';
import type { RunState, StepState } from './state.js';
import {
  describeItem,
  isValidationAction,
  readValidation,
  VERDICT_ICON,
  worstVerdict,
  type EvidenceResult,
  type GateEvidence,
} from './validation-result.js';

/**
 * The go/no-go gate. A step with `gate: validation` may be approved only on a
 * green verdict of the validate.* steps before it, unless the rollback
 * authority overrides with a reason; an approval is bound to the evidence it
 * was given on and lapses when a re-run validation changes it. Pure.
 */
export type GateCommand = { type: 'gate.override'; at: number; actor: Actor; stepId: string; reason: string; attempt?: number };

const FAILING_SHOWN = 5;
const done = (s: StepState | undefined): boolean => s?.status === 'succeeded' || s?.status === 'skipped';
const isGated = (planStep: PlanStep): boolean => planStep.gate === 'validation';

/** The evidence a gated step would be approved on now (null: the whole run's), and the validations before it not finished (re-runs). */
export function gateEvidence(state: RunState, stepId: string | null): { evidence: GateEvidence; pending: string[] } {
  const results: EvidenceResult[] = [];
  const failing: string[] = [];
  const pending: string[] = [];
  for (const planStep of allSteps(state.plan)) {
    if (planStep.id === stepId) break;
    const step = state.steps[planStep.id];
    if (!step || !isValidationAction(planStep.action)) continue;
    if (step.status === 'skipped' && !step.error) {
      // Skipping a check must never read as passing it; skipping a failed one keeps its red (below).
      results.push({ stepId: step.id, attempt: step.attempt, check: null, verdict: 'amber' });
      failing.push(`"${planStep.title}" was skipped by ${mention(step.skipped?.by ?? '?')}: ${step.skipped?.reason ?? ''}`);
      continue;
    }
    const failed = step.status === 'failed' || step.status === 'skipped';
    if (step.status !== 'succeeded' && !failed) {
      pending.push(planStep.title);
      continue;
    }
    const validation = readValidation(step.result?.details ?? step.error?.details);
    const verdict = failed ? 'red' : (validation?.verdict ?? 'red');
    results.push({ stepId: step.id, attempt: step.attempt, check: validation?.check ?? null, verdict });
    const items = validation?.items.filter((i) => i.verdict !== 'green').map((i) => describeItem(validation.check, i)) ?? [];
    if (items.length > 0) failing.push(...items);
    else if (failed) failing.push(`"${planStep.title}" failed: ${step.error?.message ?? 'no reason'}`);
    else if (verdict !== 'green') failing.push(validation ? `${validation.check}: ${verdict}` : `"${planStep.title}" left no validation verdict`);
    if (step.status === 'skipped') failing.push(`"${planStep.title}" was skipped after failing, by ${mention(step.skipped?.by ?? '?')}: ${step.skipped?.reason ?? ''}`);
  }
  const ran = results.some((r) => r.check !== null || state.steps[r.stepId]?.error);
  if (!ran) failing.unshift('no validation has run');
  const verdict = ran ? worstVerdict(results.map((r) => r.verdict)) : 'red';
  return { evidence: { verdict, results, failing: failing.slice(0, FAILING_SHOWN) }, pending };
}

/** Two pieces of evidence agree when every validation step said the same verdict in both. */
export function sameVerdicts(a: GateEvidence, b: GateEvidence): boolean {
  const key = (e: GateEvidence) => JSON.stringify([e.verdict, e.results.map((r) => [r.stepId, r.verdict]).sort()]);
  return key(a) === key(b);
}

export const gateLine = (e: GateEvidence): string => `${VERDICT_ICON[e.verdict]} ${e.verdict}${e.failing.length ? ` — ${e.failing.join('; ')}` : ''}`;

/** The rollback authority: the first role of `permissions.rollback`, else a role with id `rollback`. */
export function rollbackAuthority(plan: Plan): PlanRole | null {
  const named = plan.permissions.rollback?.[0];
  return (named ? plan.roles[named] : undefined) ?? plan.roles['rollback'] ?? null;
}

/** An override counts only for the evidence it was given on. */
export function overrideApplies(step: StepState, evidence: GateEvidence): boolean {
  return step.override ? sameVerdicts(step.override.evidence, evidence) : false;
}

/**
 * Null when the step may be approved now, else the refusal. Any step waits for
 * the steps before it (only a validation re-run leaves an earlier one open);
 * a gated step also needs green, or an override of exactly this evidence.
 */
export function approvalRefusal(state: RunState, planStep: PlanStep, step: StepState): { code: ErrorCode; message: string } | null {
  // A rollback step is outside the forward order (index -1): the forward steps before nothing bind it.
  const index = state.order.indexOf(planStep.id);
  const open = index < 0 ? undefined : allSteps(state.plan).slice(0, index).find((s) => !done(state.steps[s.id]));
  if (open) {
    return { code: 'step.earlier_unfinished', message: `"${planStep.title}" must wait: "${open.title}" before it is ${state.steps[open.id]?.status.replace('_', ' ')}; approve once it has finished.` };
  }
  if (!isGated(planStep)) return null;
  const { evidence } = gateEvidence(state, planStep.id);
  if (evidence.verdict === 'green' || overrideApplies(step, evidence)) return null;
  const authority = rollbackAuthority(state.plan);
  const how = authority
    ? `only the rollback authority, ${describeRole(authority)}, can override it with \`/migrate override ${planStep.id} <reason>\``
    : 'this runbook names no rollback authority (permissions.rollback or a role `rollback`), so nobody can override it';
  return {
    code: 'gate.blocked',
    message: `"${planStep.title}" needs a green validation verdict, and it is ${gateLine(evidence)}. Fix and re-run the validation, or ${how}.`,
  };
}

/** The evidence to record on an approval of this step (gated steps only). */
export function approvalEvidence(state: RunState, planStep: PlanStep): GateEvidence | undefined {
  return isGated(planStep) ? gateEvidence(state, planStep.id).evidence : undefined;
}

/** A succeeded validation may be re-run to refresh the evidence, but never while a step is queued or running beside it. */
export function canRetry(state: RunState, planStep: PlanStep, step: StepState): boolean {
  if (step.status === 'failed' || step.status === 'rejected') return true;
  const busy = Object.values(state.steps).some((s) => s.status === 'queued' || s.status === 'running');
  return step.status === 'succeeded' && isValidationAction(planStep.action) && !busy;
}

export function decideOverride(state: RunState, c: GateCommand): Ruling {
  const step = state.steps[c.stepId];
  const planStep = allSteps(state.plan).find((s) => s.id === c.stepId);
  if (!step || !planStep) return refuse('step.not_found', `This run has no step "${c.stepId}".`);
  if (!isGated(planStep)) return refuse('gate.not_gated', `"${planStep.title}" has no validation gate; there is nothing to override.`);
  const authority = rollbackAuthority(state.plan);
  if (!authority) return refuse('gate.no_authority', 'This runbook names no rollback authority (permissions.rollback or a role `rollback`), so the gate cannot be overridden.');
  if (!isMember(authority, c.actor)) return refuse('role.not_member', `Only the rollback authority, ${describeRole(authority)}, may override the validation gate of "${planStep.title}".`);
  const reason = c.reason.trim();
  if (!reason || reason === 'no reason given') return refuse('gate.reason_required', `An override needs a written reason: \`/migrate override ${planStep.id} <reason>\`.`);
  if (c.attempt !== undefined && c.attempt !== step.attempt) return refuse('step.stale_attempt', `That button belongs to attempt ${c.attempt}; "${planStep.title}" is at attempt ${step.attempt}.`);
  if (step.status !== 'awaiting_approval' && step.status !== 'held') return refuse('step.not_waiting', `"${planStep.title}" is ${step.status.replace('_', ' ')}; a gate is overridden only while the step waits for approval.`);
  const blocked = approvalRefusal(state, planStep, { ...step, override: null });
  if (!blocked) return refuse('gate.green', `The validation verdict for "${planStep.title}" is green; it needs no override.`);
  if (blocked.code !== 'gate.blocked') return refuse(blocked.code, blocked.message);
  const { evidence } = gateEvidence(state, planStep.id);
  if (overrideApplies(step, evidence)) return refuse('gate.already_overridden', `${mention(step.override?.by ?? '?')} already overrode this verdict: ${step.override?.reason ?? ''}`);
  return { ok: true, events: [{ type: 'gate.overridden', at: c.at, stepId: step.id, attempt: step.attempt, by: c.actor.id, reason, verdict: evidence.verdict, evidence }] };
}

/**
 * After a validation finished (again): gated steps whose approvals or override
 * rest on a verdict that no longer holds lose them and are asked again.
 * Nothing is decided while another validation before the step is still open.
 */
export function lapsedApprovals(state: RunState, at: number): RunEvent[] {
  const events: RunEvent[] = [];
  for (const planStep of allSteps(state.plan).filter(isGated)) {
    const step = state.steps[planStep.id];
    if (!step || (step.status !== 'awaiting_approval' && step.status !== 'held')) continue;
    const { evidence, pending } = gateEvidence(state, planStep.id);
    if (pending.length > 0) continue;
    const bases = [...step.approvals.map((a) => a.evidence), step.override?.evidence].filter((e): e is GateEvidence => e !== undefined);
    const stale = bases.find((e) => !sameVerdicts(e, evidence));
    if (!stale) continue;
    const reason = `the validation verdict changed from ${VERDICT_ICON[stale.verdict]} ${stale.verdict} to ${gateLine(evidence)} after it was approved`;
    events.push({ type: 'step.approvals_lapsed', at, stepId: step.id, attempt: step.attempt, reason });
    // A fresh attempt restarts reminders and makes old buttons stale; a held step is asked again on release.
    if (step.status === 'awaiting_approval') events.push({ type: 'step.approval_requested', at, stepId: step.id, attempt: step.attempt + 1 });
  }
  return events;
}
