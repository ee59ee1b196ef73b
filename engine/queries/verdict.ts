import type { ValidationItem } from '../validate/contracts.js';
import type { QueryTiming } from './measure.js';
import { planLine } from './plan-summary.js';

export type BaselineEntry = { timing: QueryTiming; engine: 'postgres' | 'mssql' } | { missing: string };
export type TargetEntry = { timing: QueryTiming } | { error: string };

const ENGINE = { postgres: 'PostgreSQL (source)', mssql: 'SQL Server' } as const;
const ms = (v: number): string => (v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0)) + ' ms';
const pct = (f: number): string => `${f >= 0 ? '+' : '−'}${Math.abs(Math.round(f * 100))} %`;

/**
 * One critical query's verdict (pure). Red: it fails on PostgreSQL. Amber:
 * slower than baseline × (1 + tolerance) by more than the noise floor (both
 * plans summarised), a different number of rows than at the source (the
 * timings would compare different work), or no baseline to compare with.
 */
export function queryItem(name: string, o: { tolerance: number; noiseMs: number; baseline: BaselineEntry; target: TargetEntry }): ValidationItem {
  if ('error' in o.target) return { subject: name, verdict: 'red', message: `fails on PostgreSQL: ${o.target.error}`, figures: { error: o.target.error } };
  const t = o.target.timing;
  const targetFigures = { target_ms: t.medianMs, target_runs_ms: t.runsMs, target_rows: t.rows, target_plan: t.plan, ...(t.planNote ? { target_plan_note: t.planNote } : {}) };
  if ('missing' in o.baseline) {
    return { subject: name, verdict: 'amber', message: `${ms(t.medianMs)} on PostgreSQL, but no baseline to compare with: ${o.baseline.missing}`, figures: { ...targetFigures, baseline_missing: o.baseline.missing } };
  }
  const b = o.baseline.timing;
  const source = ENGINE[o.baseline.engine];
  const change = b.medianMs > 0 ? t.medianMs / b.medianMs - 1 : 0;
  const figures = { ...targetFigures, source_ms: b.medianMs, source_runs_ms: b.runsMs, source_rows: b.rows, source_plan: b.plan, change: Math.round(change * 1000) / 1000, tolerance: o.tolerance };
  const plans = `PostgreSQL: ${planLine(t.plan)}; ${source}: ${planLine(b.plan)}${b.planNote ? ` (${b.planNote})` : ''}`;
  if (t.rows !== b.rows) {
    return { subject: name, verdict: 'amber', message: `returns ${t.rows} rows on PostgreSQL but ${b.rows} on ${source}: the two forms do not return the same result, so their timings are not comparable (${ms(t.medianMs)} vs ${ms(b.medianMs)})`, figures };
  }
  const slower = t.medianMs > b.medianMs * (1 + o.tolerance) && t.medianMs - b.medianMs > o.noiseMs;
  const head = `${ms(t.medianMs)} on PostgreSQL vs ${ms(b.medianMs)} on ${source} (${pct(change)}`;
  if (slower) return { subject: name, verdict: 'amber', message: `${head}, tolerance ${Math.round(o.tolerance * 100)} %) — ${plans}`, figures };
  return { subject: name, verdict: 'green', message: `${head}), within ${Math.round(o.tolerance * 100)} %`, figures };
}
