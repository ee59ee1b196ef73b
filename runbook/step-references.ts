import type { ActionSpec, SnapshotRef } from './action-catalog.js';
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
      const to = byId.get(ref.stepId);
      const problem = refProblem(s, ref, to) ?? (to ? snapshotMismatch(s, to, params, actions) : null);
      if (problem) out.push({ path: [...s.path, 'params', ref.field], message: problem });
    }
  }
  out.push(...snapshotProblems(steps, params, actions));
  out.push(...compensationProblems(doc, steps, params, actions));
  return out;
}

const sameDir = (a: string, b: string): boolean => a.replace(/\/+$/, '') === b.replace(/\/+$/, '');

function snapshotOf(s: Located, params: Record<string, unknown>, actions: Record<string, ActionSpec<unknown>>): SnapshotRef | null {
  if (!Object.hasOwn(params, s.step.id)) return null;
  return actions[s.step.action]?.snapshot?.(params[s.step.id]) ?? null;
}

/** Every snapshot a step reads is the `dir` of an extract, load or snapshot.verify step of the runbook. */
function snapshotProblems(steps: Located[], params: Record<string, unknown>, actions: Record<string, ActionSpec<unknown>>): StepProblem[] {
  const held = steps.map((s) => snapshotOf(s, params, actions)).filter((r): r is SnapshotRef => r?.holds === true).map((r) => r.dir);
  const out: StepProblem[] = [];
  for (const s of steps) {
    const ref = snapshotOf(s, params, actions);
    if (!ref || ref.holds || held.some((dir) => sameDir(dir, ref.dir))) continue;
    const expected = held.length ? `expected one of ${[...new Set(held)].map((d) => `"${d}"`).join(', ')}` : 'the runbook has no extract, load or snapshot.verify step';
    out.push({ path: [...s.path, 'params', ref.field], message: `snapshot "${ref.dir}" is not the dir of an extract, load or snapshot.verify step of this runbook (${expected})` });
  }
  return out;
}

/** A step reading a snapshot and naming the load of one (validate.counts' load_step) must mean the same snapshot. */
function snapshotMismatch(from: Located, to: Located, params: Record<string, unknown>, actions: Record<string, ActionSpec<unknown>>): string | null {
  const read = snapshotOf(from, params, actions);
  const loaded = snapshotOf(to, params, actions);
  if (!read || read.holds || !loaded?.holds || sameDir(read.dir, loaded.dir)) return null;
  return `step "${to.step.id}" loads snapshot "${loaded.dir}", but this step reads snapshot "${read.dir}"; name the load of the same snapshot`;
}

function refProblem(from: Located, ref: { stepId: string; actions: string[]; earlier: boolean; inScenario?: boolean }, to: Located | undefined): string | null {
  const wanted = ref.actions.join(' or ');
  if (!to) return `step "${ref.stepId}" does not exist in this runbook (expected the id of a ${wanted} step)`;
  if (!ref.actions.includes(to.step.action)) return `step "${ref.stepId}" runs ${to.step.action}, expected a ${wanted} step`;
  if (ref.inScenario) {
    const before = to.scenario !== null && to.scenario === from.scenario && Number(to.path[3]) < Number(from.path[3]);
    return before ? null : `step "${ref.stepId}" must come before "${from.step.id}" in the same rollback scenario`;
  }
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
