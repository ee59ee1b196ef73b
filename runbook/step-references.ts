import type { ActionSpec } from './action-catalog.js';
import type { RunbookDoc, StepDoc } from './schema.js';

type Path = Array<string | number>;
export interface StepProblem {
  path: Path;
  message: string;
}

interface Located {
  step: StepDoc;
  path: Path;
  /** Index in the forward order; null for a rollback step. */
  order: number | null;
  scenario: string | null;
}

function locate(doc: RunbookDoc): Located[] {
  const out: Located[] = [];
  let order = 0;
  doc.phases.forEach((ph, i) => ph.steps.forEach((step, j) => out.push({ step, path: ['phases', i, 'steps', j], order: order++, scenario: null })));
  for (const [id, scenario] of Object.entries(doc.rollback)) scenario.steps.forEach((step, j) => out.push({ step, path: ['rollback', id, 'steps', j], order: null, scenario: id }));
  return out;
}

/**
 * Load-time checks between steps (pure): a step that names another one
 * (unfreeze.source → its freeze, validate.queries → its baseline) names one
 * that exists and fits; and a forward step that changes something outside
 * the target (freeze.source with set_read_only) is undone by every rollback
 * scenario. A missing undo is a load error rather than something added at
 * run time: the runbook stays the whole, reviewed account of the night — the
 * DBA sees each unfreeze, its approver and its place in the scenario (before
 * the rows written since go-live are replayed, before the application is
 * pointed back) weeks before the window, not in the middle of a rollback.
 */
export function stepReferenceProblems(doc: RunbookDoc, params: Record<string, unknown>, actions: Record<string, ActionSpec<unknown>>): StepProblem[] {
  const steps = locate(doc);
  const byId = new Map(steps.map((s) => [s.step.id, s]));
  const out: StepProblem[] = [];
  for (const s of steps) {
    const spec = actions[s.step.action];
    if (!spec?.stepRefs || !Object.hasOwn(params, s.step.id)) continue;
    for (const ref of spec.stepRefs(params[s.step.id])) {
      const problem = refProblem(s, ref, byId.get(ref.stepId));
      if (problem) out.push({ path: [...s.path, 'params', ref.field], message: problem });
    }
  }
  out.push(...compensationProblems(doc, steps, params, actions));
  return out;
}

function refProblem(from: Located, ref: { stepId: string; actions: string[]; earlier: boolean }, to: Located | undefined): string | null {
  const wanted = ref.actions.join(' or ');
  if (!to) return `step "${ref.stepId}" does not exist in this runbook (expected the id of a ${wanted} step)`;
  if (!ref.actions.includes(to.step.action)) return `step "${ref.stepId}" runs ${to.step.action}, expected a ${wanted} step`;
  if (to.order === null) return `step "${ref.stepId}" is a rollback step; expected a step of the forward phases`;
  if (ref.earlier && (from.order === null || to.order >= from.order)) return `step "${ref.stepId}" must come before "${from.step.id}" in the phases`;
  return null;
}

function compensationProblems(doc: RunbookDoc, steps: Located[], params: Record<string, unknown>, actions: Record<string, ActionSpec<unknown>>): StepProblem[] {
  const out: StepProblem[] = [];
  const scenarios = Object.keys(doc.rollback);
  for (const s of steps.filter((x) => x.order !== null)) {
    const compensation = Object.hasOwn(params, s.step.id) ? actions[s.step.action]?.compensation?.(params[s.step.id]) : null;
    if (!compensation) continue;
    const undo = compensation.action;
    const hint = `add a step with action: ${undo} and params: { ${compensation.field}: ${s.step.id} }`;
    if (scenarios.length === 0) {
      out.push({ path: [...s.path, 'action'], message: `${s.step.action} changes the source, and this runbook declares no rollback scenario that would undo it; declare the scenarios under rollback: and in each ${hint}` });
      continue;
    }
    for (const scenario of scenarios) {
      const undone = steps.some((r) => r.scenario === scenario && r.step.action === undo && (actions[undo]?.stepRefs?.(params[r.step.id]) ?? []).some((ref) => ref.stepId === s.step.id));
      if (!undone) {
        out.push({ path: ['rollback', scenario, 'steps'], message: `rollback scenario "${scenario}" does not undo step "${s.step.id}" (${s.step.action} changes the source): ${hint}, placed before the source is used again` });
      }
    }
  }
  return out;
}
