import { XMLParser } from 'fast-xml-parser';
import { z } from 'zod';

/**
 * A query plan in the few figures a DBA compares first: the top nodes, the
 * full scans, rows and buffers. Built from PostgreSQL's EXPLAIN (ANALYZE,
 * BUFFERS, FORMAT JSON) and SQL Server's showplan XML (actual with SET
 * STATISTICS XML, else estimated with SET SHOWPLAN_XML). Pure.
 */
export const planSummarySchema = z.object({
  engine: z.enum(['postgres', 'mssql']),
  kind: z.enum(['actual', 'estimated']),
  /** The first nodes, root first, indented two spaces per level. */
  top: z.array(z.string()),
  /** Full scans of a table or index: Seq Scan (PostgreSQL); Table Scan, Clustered Index Scan, Index Scan (SQL Server). */
  scans: z.array(z.string()),
  rows: z.number().nullable(),
  estimatedRows: z.number().nullable(),
  /** PostgreSQL shared blocks hit/read; SQL Server logical/physical reads. */
  buffers: z.object({ hit: z.number(), read: z.number() }).nullable(),
  executionMs: z.number().nullable(),
  cost: z.number().nullable(),
});
export type PlanSummary = z.infer<typeof planSummarySchema>;

const TOP_NODES = 6;
const num = (v: unknown): number | null => (v === undefined || v === null || v === '' || !Number.isFinite(Number(v)) ? null : Number(v));
const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const record = (v: unknown): Record<string, unknown> => (isRecord(v) ? v : {});
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined || v === null ? [] : [v]);

/** From the value EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) returns: `[{ Plan, "Execution Time", … }]`. */
export function summarisePgPlan(explain: unknown): PlanSummary | null {
  const root = record(list(explain)[0]);
  const plan = record(root['Plan']);
  if (!plan['Node Type']) return null;
  const top: string[] = [];
  const scans: string[] = [];
  const walk = (node: Record<string, unknown>, depth: number): void => {
    const label = pgLabel(node);
    if (top.length < TOP_NODES) top.push(`${'  '.repeat(depth)}${label}`);
    if (node['Node Type'] === 'Seq Scan') scans.push(label);
    for (const child of list(node['Plans'])) walk(record(child), depth + 1);
  };
  walk(plan, 0);
  const hit = num(plan['Shared Hit Blocks']);
  const read = num(plan['Shared Read Blocks']);
  return {
    engine: 'postgres',
    kind: plan['Actual Rows'] === undefined ? 'estimated' : 'actual',
    top,
    scans,
    rows: num(plan['Actual Rows']),
    estimatedRows: num(plan['Plan Rows']),
    buffers: hit === null && read === null ? null : { hit: hit ?? 0, read: read ?? 0 },
    executionMs: num(root['Execution Time']),
    cost: num(plan['Total Cost']),
  };
}

function pgLabel(node: Record<string, unknown>): string {
  const on = node['Relation Name'] ? ` on ${String(node['Relation Name'])}` : '';
  const index = node['Index Name'] ? ` using ${String(node['Index Name'])}` : '';
  const actual = num(node['Actual Rows']);
  const loops = num(node['Actual Loops']);
  const rows = actual !== null ? ` (rows ${actual * (loops ?? 1)}, est. ${num(node['Plan Rows']) ?? '?'})` : ` (est. rows ${num(node['Plan Rows']) ?? '?'})`;
  return `${String(node['Node Type'])}${index}${on}${rows}`;
}

const FULL_SCANS = new Set(['Table Scan', 'Clustered Index Scan', 'Index Scan']);
const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', isArray: (name) => ['RelOp', 'RunTimeCountersPerThread', 'StmtSimple'].includes(name) });

/** From a ShowPlanXML document (actual when it carries run-time counters). */
export function summariseShowplan(xml: string): PlanSummary | null {
  let doc: unknown;
  try {
    doc = parser.parse(xml);
  } catch {
    return null;
  }
  const stmt = findFirst(doc, 'StmtSimple');
  const queryPlan = record(record(stmt)['QueryPlan']);
  const root = list(queryPlan['RelOp'])[0];
  if (!root) return null;
  const top: string[] = [];
  const scans: string[] = [];
  let actual = false;
  const walk = (relop: Record<string, unknown>, depth: number): void => {
    const counters = list(record(relop['RunTimeInformation'])['RunTimeCountersPerThread']).map(record);
    if (counters.length) actual = true;
    const rows = counters.length ? counters.reduce((s, c) => s + (num(c['@ActualRows']) ?? 0), 0) : null;
    const object = record(findFirst(relop, 'Object', 'RelOp'));
    const on = object['@Table'] ? ` on ${[object['@Schema'], object['@Table']].filter(Boolean).join('.')}${object['@Index'] ? ` (${String(object['@Index'])})` : ''}` : '';
    const label = `${String(relop['@PhysicalOp'])}${on} (${rows !== null ? `rows ${rows}, ` : ''}est. ${num(relop['@EstimateRows']) ?? '?'})`;
    if (top.length < TOP_NODES) top.push(`${'  '.repeat(depth)}${label}`);
    if (FULL_SCANS.has(String(relop['@PhysicalOp']))) scans.push(label);
    for (const child of childRelOps(relop)) walk(child, depth + 1);
  };
  walk(record(root), 0);
  const rootCounters = list(record(record(root)['RunTimeInformation'])['RunTimeCountersPerThread']).map(record);
  const reads = allCounters(record(root));
  const time = record(queryPlan['QueryTimeStats']);
  return {
    engine: 'mssql',
    kind: actual ? 'actual' : 'estimated',
    top,
    scans,
    rows: rootCounters.length ? rootCounters.reduce((s, c) => s + (num(c['@ActualRows']) ?? 0), 0) : null,
    estimatedRows: num(record(root)['@EstimateRows']),
    buffers: reads,
    executionMs: num(time['@ElapsedTime']),
    cost: num(record(stmt)['@StatementSubTreeCost']) ?? num(record(root)['@EstimatedTotalSubtreeCost']),
  };
}

/** The RelOps directly below this one (inside its operator element, not inside a deeper RelOp). */
function childRelOps(node: Record<string, unknown>): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  const visit = (value: unknown): void => {
    for (const item of list(value)) {
      if (item === null || typeof item !== 'object') continue;
      for (const [key, child] of Object.entries(item)) {
        if (key === 'RelOp') out.push(...list(child).map(record));
        else if (key !== 'RunTimeInformation' && !key.startsWith('@')) visit(child);
      }
    }
  };
  for (const [key, child] of Object.entries(node)) if (key !== 'RunTimeInformation' && !key.startsWith('@')) visit(child);
  return out;
}

/** Logical and physical reads summed over every operator (SQL Server 2016+ plans carry them per operator). */
function allCounters(root: Record<string, unknown>): { hit: number; read: number } | null {
  let logical = 0;
  let physical = 0;
  let seen = false;
  const walk = (relop: Record<string, unknown>): void => {
    for (const c of list(record(relop['RunTimeInformation'])['RunTimeCountersPerThread']).map(record)) {
      if (c['@ActualLogicalReads'] !== undefined) seen = true;
      logical += num(c['@ActualLogicalReads']) ?? 0;
      physical += num(c['@ActualPhysicalReads']) ?? 0;
    }
    childRelOps(relop).forEach(walk);
  };
  walk(root);
  return seen ? { hit: logical, read: physical } : null;
}

/** Depth-first search for the first element of that name, not descending into `stop`. */
function findFirst(value: unknown, name: string, stop?: string): unknown {
  if (value === null || typeof value !== 'object') return undefined;
  for (const item of list(value)) {
    if (item === null || typeof item !== 'object') continue;
    for (const [key, child] of Object.entries(item)) {
      if (key === name) return list(child)[0];
      if (key === stop || key.startsWith('@')) continue;
      const found = findFirst(child, name, stop);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

const CHAIN = 4;
const bareLabel = (label: string): string => label.trim().replace(/ \([^()]*\)$/, '');

/** One short line: "Limit › Sort › Seq Scan on applications (100 rows, buffers 120 hit / 3 read, full scan of applications)". */
export function planLine(p: PlanSummary | null): string {
  if (!p) return 'no plan';
  const nodes = p.top.map(bareLabel);
  const chain = nodes.slice(0, CHAIN).join(' › ') + (nodes.length > CHAIN ? ' › …' : '');
  const buffers = p.buffers ? (p.engine === 'postgres' ? `buffers ${p.buffers.hit} hit / ${p.buffers.read} read` : `${p.buffers.hit} logical / ${p.buffers.read} physical reads`) : null;
  const scanned = [...new Set(p.scans.map((s) => / on (\S+)/.exec(bareLabel(s))?.[1] ?? bareLabel(s)))];
  const figures = [
    p.rows !== null ? `${p.rows} rows` : `est. ${p.estimatedRows ?? '?'} rows`,
    buffers,
    scanned.length ? `full scan of ${scanned.join(', ')}` : 'no full scan',
    p.kind === 'estimated' ? 'estimated plan' : null,
  ].filter((f): f is string => f !== null);
  return `${chain} (${figures.join(', ')})`;
}
