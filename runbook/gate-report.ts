import { gateEvidence } from './gate.js';
import { allSteps, type PlanStep } from './plan.js';
import type { RunState, StepState } from './state.js';
import { isValidationAction, VERDICT_ICON, type EvidenceResult } from './validation-result.js';

/**
 * When the full reconciliation report is posted (pure): once, with the
 * go/no-go gate — the first `gate: validation` step asking for approval on a
 * finished set of validations — and again only when the evidence a gate asks
 * on has changed since (a validation re-run, or checks that ran between two
 * gates). The evidence's fingerprint names the version, so the second gate
 * of a night whose validations did not change posts nothing new.
 */
export interface GateReportDue {
  /** The validation results the gate asks on, as the approval will record them. */
  results: EvidenceResult[];
  /** Equal for equal evidence: the report's version. */
  fingerprint: string;
}

/**
 * The report due with this gated step's message, or null. `messagePosted`: the
 * gate's message is already in the thread (then only a gate still waiting for
 * approval gets a report: one already decided is history).
 */
export function gateReportDue(state: RunState, planStep: PlanStep, step: StepState, messagePosted: boolean): GateReportDue | null {
  if (planStep.gate !== 'validation' || step.status === 'pending') return null;
  if (messagePosted && step.status !== 'awaiting_approval' && step.status !== 'held') return null;
  // A runbook without validations has no reconciliation to report (and no "red" to show for it).
  if (!allSteps(state.plan).some((s) => isValidationAction(s.action))) return null;
  const { evidence, pending } = gateEvidence(state, planStep.id);
  // A validation re-running: the gate says it waits, and the report follows its result.
  if (pending.length > 0 || evidence.results.length === 0) return null;
  return { results: evidence.results, fingerprint: evidence.results.map((r) => `${r.stepId}@${r.attempt}:${r.verdict}`).join(',') };
}

type Said = Pick<EvidenceResult, 'stepId' | 'attempt' | 'verdict'>;

/** What changed between the evidence of an earlier report and this one, in words: re-runs, checks added, verdicts changed. */
export function reportChanges(state: RunState, before: readonly Said[], after: readonly Said[]): string[] {
  const title = (id: string): string => allSteps(state.plan).find((s) => s.id === id)?.title ?? id;
  const badge = (r: Said): string => `${VERDICT_ICON[r.verdict]} ${r.verdict}`;
  const out: string[] = [];
  for (const r of after) {
    const was = before.find((b) => b.stepId === r.stepId);
    if (!was) out.push(`"${title(r.stepId)}" added (${badge(r)})`);
    else if (was.attempt !== r.attempt) out.push(`"${title(r.stepId)}" re-run (attempt ${r.attempt}): ${badge(was)} → ${badge(r)}`);
    else if (was.verdict !== r.verdict) out.push(`"${title(r.stepId)}": ${badge(was)} → ${badge(r)}`);
  }
  return out;
}
