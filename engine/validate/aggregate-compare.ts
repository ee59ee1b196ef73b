import { encodeTemporal, temporalPrecision } from '../etl/encode-temporal.js';
import type { ColumnAggregatePlan } from './aggregate-sql.js';

/** Figures of one side: the aggregate SELECT's single row, values as text. */
export type AggregateRow = Record<string, string | null>;

export interface AggregateDifference {
  column: string;
  stat: 'count' | 'min' | 'max' | 'sum';
  source: string | null;
  target: string | null;
}

export interface TableAggregateComparison {
  differences: AggregateDifference[];
  /** "column: reason" for min/max that were not compared. */
  notComparable: string[];
  /** Columns compared. */
  columns: number;
}

/**
 * Canonical decimal text: no '+', no leading zeros, no trailing fractional
 * zeros, "-0" as "0". Anything that is not a plain decimal is returned trimmed.
 */
export function normaliseNumber(text: string): string {
  const t = text.trim();
  const m = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(t);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return t;
  const int = (m[2] ?? '').replace(/^0+(?=\d)/, '') || '0';
  const frac = (m[3] ?? '').replace(/0+$/, '');
  const body = frac ? `${int}.${frac}` : int;
  return m[1] === '-' && body !== '0' ? `-${body}` : body;
}

/** Relative tolerance of a float comparison: the precision of the type (double ≈ 15.9 digits, real ≈ 7.2). */
export const FLOAT_TOLERANCE = { float: 1e-12, real: 1e-6 } as const;

export function floatsAgree(a: string, b: string, tolerance: number): boolean {
  const x = Number(a);
  const y = Number(b);
  if (Number.isNaN(x) || Number.isNaN(y)) return a.trim() === b.trim();
  if (x === y) return true;
  return Math.abs(x - y) <= tolerance * Math.max(Math.abs(x), Math.abs(y));
}

/** 'YYYY-MM-DD hh:mm:ss[.f…]' or 'hh:mm:ss[.f…]' with exactly `places` digits then padded to 6, as PostgreSQL's .US prints. */
function temporalText(kind: 'time' | 'timestamp', text: string, places: number): string {
  const rounded = encodeTemporal(kind, text.trim(), places);
  if (typeof rounded !== 'string') return text.trim();
  const [whole, frac = ''] = rounded.split('.');
  return `${whole}.${frac.padEnd(6, '0')}`;
}

/** Both figures put in one form for their category; the source side is rounded like the ETL rounded it. */
function canonical(p: ColumnAggregatePlan, stat: AggregateDifference['stat'], source: string, target: string): [string, string] {
  if (stat === 'count') return [normaliseNumber(source), normaliseNumber(target)];
  switch (p.category) {
    case 'integer':
    case 'exact':
    case 'bool':
      return [normaliseNumber(source), normaliseNumber(target)];
    case 'time':
    case 'timestamp':
    case 'instant': {
      const places = temporalPrecision(p.column.targetType);
      const kind = p.category === 'time' ? 'time' : 'timestamp';
      return [temporalText(kind, source, places), temporalText(kind, target, 6)];
    }
    default:
      return [source, target];
  }
}

function agrees(p: ColumnAggregatePlan, stat: AggregateDifference['stat'], source: string | null, target: string | null): boolean {
  if (source === null || target === null) return source === target;
  if (stat !== 'count' && (p.category === 'float' || p.category === 'real')) return floatsAgree(source, target, FLOAT_TOLERANCE[p.category]);
  const [s, t] = canonical(p, stat, source, target);
  return s === t;
}

const STATS = ['count', 'min', 'max', 'sum'] as const;
const suffix = { count: 'n', min: 'min', max: 'max', sum: 'sum' } as const;

/** Pure: compares the two aggregate rows column by column. A missing figure on one side counts as a difference. */
export function compareAggregates(plan: ColumnAggregatePlan[], source: AggregateRow, target: AggregateRow): TableAggregateComparison {
  const differences: AggregateDifference[] = [];
  const notComparable: string[] = [];
  for (const p of plan) {
    if (p.ordered !== true) notComparable.push(`${p.column.target}: ${p.ordered.reason}`);
    for (const stat of STATS) {
      const key = `c${p.index}_${suffix[stat]}`;
      if (!(key in source) && !(key in target)) continue;
      const s = source[key] ?? null;
      const t = target[key] ?? null;
      if (!agrees(p, stat, s, t)) differences.push({ column: p.column.target, stat, source: s, target: t });
    }
  }
  return { differences, notComparable, columns: plan.length };
}
