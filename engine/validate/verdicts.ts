import { SECRET_NAME } from '../secrets.js';
import { normaliseNumber } from './aggregate-compare.js';
import type { Verdict } from './contracts.js';

/**
 * Seed 000's acceptance rule, per rule: any ERROR violation is red; WARNING
 * violations at or above the threshold (5 % of the records by default) are
 * red, fewer but some are amber. Pure.
 */
export function ruleVerdict(r: { severity: 'ERROR' | 'WARNING'; violations: number; threshold?: string | number; denominator?: number | null }): { verdict: Verdict; limit: string } {
  if (r.severity === 'ERROR') return { verdict: r.violations > 0 ? 'red' : 'green', limit: '0 (ERROR)' };
  if (r.violations === 0) return { verdict: 'green', limit: describe(r.threshold) };
  if (typeof r.threshold === 'number') return { verdict: r.violations >= r.threshold ? 'red' : 'amber', limit: `${r.threshold} rows` };
  const percent = Number((r.threshold ?? '5%').replace('%', '').trim());
  // No records to relate to: any violation is at least the whole.
  if (!r.denominator) return { verdict: 'red', limit: `${percent}% of 0 records` };
  return { verdict: (r.violations / r.denominator) * 100 >= percent ? 'red' : 'amber', limit: `${percent}% of ${r.denominator} records` };
}

const describe = (t: string | number | undefined): string => (typeof t === 'number' ? `${t} rows` : (t ?? '5%'));

/** A total as compared: numeric text normalised (trailing fractional zeros, leading zeros, '+'), anything else trimmed. */
export const normaliseTotal = (value: string | null): string | null => (value === null ? null : normaliseNumber(value));

/** Seed 002's key_totals figures: numbers where they are safe integers, exact text otherwise. */
export function totalFigures(source: string | null, target: string | null): { source_count: number | string | null; target_count: number | string | null; match: boolean } {
  const s = normaliseTotal(source);
  const t = normaliseTotal(target);
  const figure = (v: string | null) => (v !== null && /^-?\d+$/.test(v) && Number.isSafeInteger(Number(v)) ? Number(v) : v);
  return { source_count: figure(s), target_count: figure(t), match: s === t };
}

/** Example rows with personal (and secret-looking) columns shown as ***. */
export function maskRow(row: Record<string, string | null>, personal: readonly string[]): Record<string, string | null> {
  const names = new Set(personal.map((p) => p.toLowerCase()));
  return Object.fromEntries(Object.entries(row).map(([k, v]) => [k, v !== null && (names.has(k.toLowerCase()) || SECRET_NAME.test(k)) ? '***' : v]));
}
