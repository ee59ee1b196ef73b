import type { PlanStep } from '../../runbook/plan.js';
import type { StepState } from '../../runbook/state.js';
import { readValidation, VERDICT_ICON, type ValidationCheck, type ValidationItem, type ValidationResult, type Verdict } from '../../runbook/validation-result.js';
import { clip } from './format.js';

/** What each check compares, and what its items are when they pass. */
const COMPARED: Record<ValidationCheck, { what: string; noun: string; pass: string }> = {
  counts: { what: 'Row counts, source vs target', noun: 'tables', pass: 'match' },
  aggregates: { what: 'Column aggregates (count, min, max, sum), source vs target', noun: 'tables', pass: 'agree' },
  checksums: { what: 'Row checksums, source vs target', noun: 'tables', pass: 'match' },
  integrity: { what: 'Integrity in PostgreSQL (foreign keys, keys, NOT NULL, CHECK)', noun: 'constraints', pass: 'hold' },
  rules: { what: 'Data-quality rules', noun: 'rules', pass: 'pass' },
  totals: { what: 'Business totals, source vs target', noun: 'totals', pass: 'equal' },
  queries: { what: 'Critical queries on PostgreSQL vs the source baseline', noun: 'queries', pass: 'within tolerance' },
};

/** Longest figure quoted from an item's message: the line stays one line. */
const FIGURE_MAX = 220;
const n = (v: number): string => v.toLocaleString('en-US');
const sum = (items: ValidationItem[], name: string): number | null => {
  const values = items.map((i) => i.figures?.[name]).filter((v): v is number => typeof v === 'number');
  return values.length > 0 ? values.reduce((a, b) => a + b, 0) : null;
};

/** The check an action id names ("validate.counts" → counts), when it is one. */
function checkOf(action: string): ValidationCheck | null {
  const check = action.replace(/^validate\./, '');
  return check in COMPARED ? (check as ValidationCheck) : null;
}

/** The figure a green verdict rests on: what was counted or summed on both sides. */
function greenFigure(v: ValidationResult): string | null {
  const items = v.items;
  switch (v.check) {
    case 'counts': {
      const source = sum(items, 'source');
      const loaded = sum(items, 'loaded');
      const quarantined = sum(items, 'quarantined');
      if (source === null) return null;
      return loaded !== null && quarantined !== null ? `${n(source)} source rows = ${n(loaded)} loaded + ${n(quarantined)} quarantined` : `${n(source)} rows on each side`;
    }
    case 'checksums': {
      const rows = sum(items, 'sourceRows');
      return rows === null ? null : `${n(rows)} rows hashed on each side, none differ`;
    }
    case 'aggregates': {
      const columns = sum(items, 'columns');
      return columns === null ? null : `the figures of ${n(columns)} columns agree`;
    }
    case 'integrity':
      return 'no violation';
    case 'rules': {
      const violations = sum(items, 'violations');
      return violations === null ? null : violations === 0 ? 'no violation' : `${n(violations)} violations, each rule within its limit`;
    }
    case 'totals':
      return items.length === 1 && items[0] ? `${items[0].subject}: ${items[0].message}` : null;
    case 'queries': {
      const changes = items.map((i) => i.figures?.['change']).filter((c): c is number => typeof c === 'number');
      if (changes.length === 0) return null;
      const worst = Math.max(...changes);
      return `slowest ${worst >= 0 ? '+' : '−'}${Math.abs(Math.round(worst * 100))} % against its baseline`;
    }
  }
}

/** The item that decided a non-green verdict, with how many more said the same. */
function decidingItem(v: ValidationResult, verdict: Verdict): string | null {
  const same = v.items.filter((i) => i.verdict === verdict);
  const first = same[0];
  if (!first) return null;
  const text = first.message.startsWith(first.subject) ? first.message : `${first.subject}: ${first.message}`;
  return clip(text, FIGURE_MAX) + (same.length > 1 ? ` (and ${same.length - 1} more)` : '');
}

/**
 * A validation step's verdict in one line: the verdict's emoji, what was
 * compared, and the figure that decided it — "🟢 *green* — Row counts, source
 * vs target: 10/10 tables match · 23,855 source rows = 23,853 loaded + 2
 * quarantined". Null for any other step, and for a validation with no verdict
 * yet (waiting, running). A skipped check reads amber and a failed one red, as
 * the gate reads them.
 */
export function verdictLine(planStep: PlanStep, step: StepState, dryRun = false): string | null {
  const check = checkOf(planStep.action);
  if (!check) return null;
  const compared = COMPARED[check];
  const v = readValidation(step.result?.details ?? step.error?.details);
  const dry = dryRun ? ' (dry run)' : '';
  const badge = (verdict: Verdict): string => `${VERDICT_ICON[verdict]} *${verdict}*${dry} — ${compared.what}`;
  if (step.status === 'skipped' && !step.error) return `${badge('amber')}: not checked, the step was skipped`;
  if (step.status !== 'succeeded' && step.status !== 'failed' && step.status !== 'skipped') return null;
  if (!v) return `${badge('red')}: no verdict — the check did not finish${step.error ? ` (\`${step.error.code}\`)` : ''}`;
  // A failed check is red whatever it found (the gate reads it so).
  const verdict: Verdict = step.error ? 'red' : v.verdict;
  const passed = v.items.filter((i) => i.verdict === 'green').length;
  const ratio = `${passed}/${v.items.length} ${compared.noun} ${compared.pass}`;
  const figure = verdict === 'green' ? greenFigure(v) : (decidingItem(v, verdict) ?? decidingItem(v, 'red'));
  return `${badge(verdict)}: ${ratio}${figure ? ` · ${figure}` : ''}`;
}
