import { gateEvidence } from './gate.js';
import { allSteps } from './plan.js';
import type { RunState } from './state.js';
import { isValidationAction, readValidation, worstVerdict, type ValidationCheck, type ValidationItem, type Verdict } from './validation-result.js';

/**
 * The reconciliation report of a run: seed 002's `key_totals` document,
 * extended with every validate.* check the run has finished (the latest
 * attempt of each step). Pure: built from the run's state alone, so the bot,
 * `/migrate report` and tests all get the same JSON.
 */
export interface KeyTotal {
  source_count: number | string | null;
  target_count: number | string | null;
  match: boolean;
}

export interface CheckEntry {
  verdict: Verdict;
  message: string;
  figures?: Record<string, unknown>;
}

export interface TableEntry {
  verdict: Verdict;
  counts?: CheckEntry;
  aggregates?: CheckEntry;
  /** Verdict and message only: the differing keys are in the report's `checksums` list. */
  checksums?: CheckEntry;
}

export interface ListedItem extends CheckEntry {
  subject: string;
}

export interface ValidationRun {
  step: string;
  title: string;
  action: string;
  attempt: number;
  status: string;
  check: ValidationCheck | null;
  verdict: Verdict;
  at: string | null;
  seconds: number | null;
}

export interface GateOverride {
  step: string;
  by: string;
  at: string;
  reason: string;
  verdict: Verdict;
}

export interface ReconciliationReport {
  run: string;
  runbook: string;
  title: string;
  dry_run: boolean;
  generated_at: string;
  /** Worst verdict of every finished validation; red when none has run (as the gate reads it). */
  verdict: Verdict;
  failing: string[];
  key_totals: Record<string, KeyTotal>;
  tables: Record<string, TableEntry>;
  rules: ListedItem[];
  checksums: ListedItem[];
  integrity: ListedItem[];
  /** Critical queries (validate.queries): PostgreSQL against the source baseline. */
  queries: ListedItem[];
  validations: ValidationRun[];
  gate_overrides: GateOverride[];
}

const iso = (ms: number): string => new Date(ms).toISOString();
const scalar = (v: unknown): number | string | null => (typeof v === 'number' || typeof v === 'string' ? v : null);

function figure(figures: Record<string, unknown> | undefined, side: 'source' | 'target'): number | string | null {
  for (const name of [`${side}_count`, side, `${side}_value`, `${side}_total`]) {
    const v = scalar(figures?.[name]);
    if (v !== null) return v;
  }
  return null;
}

function keyTotal(item: ValidationItem): KeyTotal {
  const match = item.figures?.['match'];
  return { source_count: figure(item.figures, 'source'), target_count: figure(item.figures, 'target'), match: typeof match === 'boolean' ? match : item.verdict === 'green' };
}

const entry = (item: ValidationItem, withFigures: boolean): CheckEntry => ({
  verdict: item.verdict,
  message: item.message,
  ...(withFigures && item.figures ? { figures: item.figures } : {}),
});

/** Builds the report; `generatedAt` comes from the caller so the result is deterministic. */
export function reconciliationReport(state: RunState, generatedAt: number): ReconciliationReport {
  const report: ReconciliationReport = {
    run: state.runId,
    runbook: state.plan.runbook,
    title: state.plan.title,
    dry_run: state.dryRun,
    generated_at: iso(generatedAt),
    verdict: 'red',
    failing: [],
    key_totals: {},
    tables: {},
    rules: [],
    checksums: [],
    integrity: [],
    queries: [],
    validations: [],
    gate_overrides: [],
  };
  for (const planStep of allSteps(state.plan)) {
    const step = state.steps[planStep.id];
    if (!step) continue;
    if (step.override) report.gate_overrides.push({ step: step.id, by: step.override.by, at: iso(step.override.at), reason: step.override.reason, verdict: step.override.verdict });
    if (!isValidationAction(planStep.action) || !['succeeded', 'failed', 'skipped'].includes(step.status)) continue;
    const v = readValidation(step.result?.details ?? step.error?.details);
    // As the gate reads it: a failed check is red even when skipped afterwards; one skipped without running is amber.
    const verdict: Verdict = step.error ? 'red' : step.status === 'skipped' ? 'amber' : (v?.verdict ?? 'red');
    report.validations.push({ step: step.id, title: planStep.title, action: planStep.action, attempt: step.attempt, status: step.status, check: v?.check ?? null, verdict, at: v ? iso(v.at) : null, seconds: v?.seconds ?? null });
    if (v) for (const item of v.items) place(report, v.check, item);
  }
  const { evidence } = gateEvidence(state, null);
  report.verdict = evidence.verdict;
  report.failing = evidence.failing;
  for (const table of Object.values(report.tables)) table.verdict = worstVerdict([table.counts, table.aggregates, table.checksums].flatMap((c) => (c ? [c.verdict] : [])));
  return report;
}

/** Later steps (in plan order) replace what earlier ones said about the same table and check: they are the fresher evidence. */
function place(report: ReconciliationReport, check: ValidationCheck, item: ValidationItem): void {
  const replace = (list: ListedItem[]): void => {
    const listed: ListedItem = { subject: item.subject, ...entry(item, true) };
    const i = list.findIndex((x) => x.subject === item.subject);
    if (i >= 0) list[i] = listed;
    else list.push(listed);
  };
  switch (check) {
    case 'totals':
      report.key_totals[item.subject] = keyTotal(item);
      return;
    case 'counts':
    case 'aggregates':
    case 'checksums': {
      const table = (report.tables[item.subject] ??= { verdict: item.verdict });
      table[check] = entry(item, check !== 'checksums');
      if (check === 'checksums') replace(report.checksums);
      return;
    }
    case 'rules':
      return replace(report.rules);
    case 'integrity':
      return replace(report.integrity);
    case 'queries':
      return replace(report.queries);
  }
}
