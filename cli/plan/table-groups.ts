/** What grouping needs of a table. */
export interface Sized {
  rows: number;
  bytes: number;
}

interface GroupingOptions {
  rowsPerSecond: number;
  bytesPerSecond: number;
  /** A load step should take about this long: long enough to be worth an approval, short enough to watch and retry. */
  targetSeconds: number;
  /** At most this many tables per step, so its message and report stay readable. */
  maxTables: number;
}

export const GROUPING: Omit<GroupingOptions, 'rowsPerSecond' | 'bytesPerSecond'> = { targetSeconds: 30 * 60, maxTables: 40 };

/** Seconds a table's load takes: rows or bytes, whichever binds. */
export const loadSeconds = (t: Sized, o: Pick<GroupingOptions, 'rowsPerSecond' | 'bytesPerSecond'>): number => Math.max(t.rows / o.rowsPerSecond, t.bytes / o.bytesPerSecond);

/**
 * Splits tables into load steps of about equal duration: as many groups as the
 * total needs at targetSeconds each (and maxTables), filled largest table
 * first into the group with the least work so far. A table larger than a group
 * gets one of its own. Groups come back largest first, their tables in their
 * original order. Pure and deterministic.
 */
export function tableGroups<T extends Sized>(tables: readonly T[], o: GroupingOptions): T[][] {
  if (tables.length === 0) return [];
  const cost = tables.map((t) => loadSeconds(t, o));
  const total = cost.reduce((a, b) => a + b, 0);
  const count = Math.min(tables.length, Math.max(1, Math.ceil(total / o.targetSeconds), Math.ceil(tables.length / o.maxTables)));
  const groups = Array.from({ length: count }, () => ({ seconds: 0, members: [] as number[] }));
  const order = tables.map((_, i) => i).sort((a, b) => (cost[b] ?? 0) - (cost[a] ?? 0) || a - b);
  for (const i of order) {
    const open = groups.filter((g) => g.members.length < o.maxTables);
    const lightest = (open.length > 0 ? open : groups).reduce((best, g) => (g.seconds < best.seconds || (g.seconds === best.seconds && g.members.length < best.members.length) ? g : best));
    lightest.seconds += cost[i] ?? 0;
    lightest.members.push(i);
  }
  return groups
    .filter((g) => g.members.length > 0)
    .sort((a, b) => b.seconds - a.seconds)
    .map((g) => g.members.sort((a, b) => a - b).map((i) => tables[i] as T));
}
