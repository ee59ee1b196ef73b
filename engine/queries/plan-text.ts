/**
 * A PostgreSQL plan from EXPLAIN (FORMAT JSON) as the text EXPLAIN prints
 * (what psql shows and a DBA reads): one line per node with its costs and,
 * after ANALYZE, its actual time, rows and loops; children under "->" six
 * columns further in; the node's conditions, sort keys and buffers below it;
 * planning and execution time last. Pure; the subset of PostgreSQL's
 * explain.c a DBA looks at (no VERBOSE output lists, no JIT or trigger lines).
 */

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
const fixed = (v: unknown, digits: number): string => (num(v) ?? 0).toFixed(digits);

/** The lines of the plan, or null when the value is not EXPLAIN's JSON (`[{ "Plan": { "Node Type": … } }]`). */
export function pgPlanText(explain: unknown): string[] | null {
  const root = Array.isArray(explain) ? explain[0] : explain;
  if (!isRecord(root) || !isRecord(root['Plan']) || !str(root['Plan']['Node Type'])) return null;
  const lines: string[] = [];
  node(root['Plan'], 0, 0, lines);
  const planningBuffers = isRecord(root['Planning']) ? bufferLine(root['Planning']) : null;
  if (planningBuffers) lines.push('Planning:', `  ${planningBuffers}`);
  const planning = num(root['Planning Time']);
  const execution = num(root['Execution Time']);
  if (planning !== null) lines.push(`Planning Time: ${planning.toFixed(3)} ms`);
  if (execution !== null) lines.push(`Execution Time: ${execution.toFixed(3)} ms`);
  return lines;
}

/** "Hash Left Join", "Parallel Seq Scan on applications a", "Index Scan Backward using pk on t", "HashAggregate". */
function label(n: Record<string, unknown>): string {
  const type = str(n['Node Type']) ?? '?';
  let name = type;
  const join = str(n['Join Type']);
  if (type === 'Aggregate') name = { Sorted: 'GroupAggregate', Hashed: 'HashAggregate', Mixed: 'MixedAggregate' }[str(n['Strategy']) ?? ''] ?? 'Aggregate';
  if (join && join !== 'Inner' && ['Nested Loop', 'Hash Join', 'Merge Join'].includes(type)) name = `${type.replace(/ Join$/, '')} ${join} Join`;
  if (type === 'ModifyTable') name = str(n['Operation']) ?? type;
  const partial = str(n['Partial Mode']);
  if (partial && partial !== 'Simple') name = `${partial} ${name}`;
  if (n['Parallel Aware'] === true) name = `Parallel ${name}`;
  if (str(n['Scan Direction']) === 'Backward') name += ' Backward';
  const index = str(n['Index Name']);
  // A bitmap index scan names only its index, "on" it.
  if (index) name += type === 'Bitmap Index Scan' ? ` on ${index}` : ` using ${index}`;
  const relation = str(n['Relation Name']) ?? str(n['CTE Name']) ?? str(n['Function Name']) ?? (type === 'Subquery Scan' ? str(n['Alias']) : null);
  const alias = str(n['Alias']);
  if (relation) name += ` on ${relation}${alias && alias !== relation ? ` ${alias}` : ''}`;
  const cost = n['Total Cost'] !== undefined ? `  (cost=${fixed(n['Startup Cost'], 2)}..${fixed(n['Total Cost'], 2)} rows=${num(n['Plan Rows']) ?? 0} width=${num(n['Plan Width']) ?? 0})` : '';
  return name + cost + actual(n);
}

function actual(n: Record<string, unknown>): string {
  const loops = num(n['Actual Loops']);
  if (loops === null) return '';
  if (loops === 0) return ' (never executed)';
  const rows = num(n['Actual Rows']) ?? 0;
  const time = n['Actual Startup Time'] !== undefined ? `time=${fixed(n['Actual Startup Time'], 3)}..${fixed(n['Actual Total Time'], 3)} ` : '';
  return ` (actual ${time}rows=${rows} loops=${loops})`;
}

/** What explain.c prints under a node, in its order. */
function details(n: Record<string, unknown>): string[] {
  const out: string[] = [];
  const list = (key: string, name = key): void => {
    const v = n[key];
    if (Array.isArray(v) && v.length) out.push(`${name}: ${v.map(String).join(', ')}`);
  };
  const text = (key: string): void => {
    const v = str(n[key]);
    if (v) out.push(`${key}: ${v}`);
  };
  const count = (key: string): void => {
    const v = num(n[key]);
    if (v !== null && v > 0) out.push(`${key}: ${v}`);
  };
  list('Sort Key');
  list('Presorted Key');
  list('Group Key');
  for (const key of ['Hash Cond', 'Merge Cond', 'Index Cond', 'Recheck Cond', 'Join Filter']) text(key);
  count('Rows Removed by Join Filter');
  text('One-Time Filter');
  text('Filter');
  count('Rows Removed by Filter');
  count('Rows Removed by Index Recheck');
  if (str(n['Sort Method'])) out.push(`Sort Method: ${String(n['Sort Method'])}  ${str(n['Sort Space Type']) ?? 'Memory'}: ${num(n['Sort Space Used']) ?? 0}kB`);
  if (num(n['HashAgg Batches']) !== null) {
    const disk = num(n['Disk Usage']) ?? 0;
    out.push(`Batches: ${num(n['HashAgg Batches'])}  Memory Usage: ${num(n['Peak Memory Usage']) ?? 0}kB${disk > 0 ? `  Disk Usage: ${disk}kB` : ''}`);
  }
  if (num(n['Hash Buckets']) !== null) out.push(`Buckets: ${num(n['Hash Buckets'])}  Batches: ${num(n['Hash Batches']) ?? 1}  Memory Usage: ${num(n['Peak Memory Usage']) ?? 0}kB`);
  const heap = [['exact', num(n['Exact Heap Blocks'])], ['lossy', num(n['Lossy Heap Blocks'])]].filter(([, v]) => typeof v === 'number' && v > 0);
  if (heap.length) out.push(`Heap Blocks: ${heap.map(([k, v]) => `${k}=${v}`).join(' ')}`);
  if (n['Node Type'] === 'Index Only Scan' && num(n['Heap Fetches']) !== null) out.push(`Heap Fetches: ${num(n['Heap Fetches'])}`);
  if (num(n['Workers Planned']) !== null) out.push(`Workers Planned: ${num(n['Workers Planned'])}`);
  if (num(n['Workers Launched']) !== null) out.push(`Workers Launched: ${num(n['Workers Launched'])}`);
  const buffers = bufferLine(n);
  if (buffers) out.push(buffers);
  return out;
}

/** "Buffers: shared hit=120 read=3, temp written=4"; null when every figure is 0 (as explain.c leaves it out). */
function bufferLine(n: Record<string, unknown>): string | null {
  const part = (kind: string, keys: Array<[string, string]>): string | null => {
    const figures = keys.map(([key, name]) => [name, num(n[`${kind} ${key} Blocks`]) ?? 0] as const).filter(([, v]) => v > 0);
    return figures.length ? `${kind.toLowerCase()} ${figures.map(([name, v]) => `${name}=${v}`).join(' ')}` : null;
  };
  const parts = [
    part('Shared', [['Hit', 'hit'], ['Read', 'read'], ['Dirtied', 'dirtied'], ['Written', 'written']]),
    part('Local', [['Hit', 'hit'], ['Read', 'read'], ['Dirtied', 'dirtied'], ['Written', 'written']]),
    part('Temp', [['Read', 'read'], ['Written', 'written']]),
  ].filter(Boolean);
  return parts.length ? `Buffers: ${parts.join(', ')}` : null;
}

/**
 * One node and its subtree. psql's layout: the root at column 0, its details
 * at 2; a child's "->  " at 6·depth − 4 and its details at 6·depth + 2; an
 * InitPlan/SubPlan's name on its own line at the parent's detail column,
 * its node two columns further in.
 */
function node(n: Record<string, unknown>, depth: number, shift: number, lines: string[]): void {
  const at = depth === 0 ? 0 : 6 * depth - 4 + shift;
  const detailAt = depth === 0 ? 2 : 6 * depth + 2 + shift;
  lines.push(`${' '.repeat(at)}${depth === 0 ? '' : '->  '}${label(n)}`);
  for (const d of details(n)) lines.push(`${' '.repeat(detailAt)}${d}`);
  const children = Array.isArray(n['Plans']) ? n['Plans'].filter(isRecord) : [];
  for (const child of children) {
    const subplan = str(child['Subplan Name']);
    if (subplan) lines.push(`${' '.repeat(detailAt)}${subplan}`);
    node(child, depth + 1, shift + (subplan ? 2 : 0), lines);
  }
}
