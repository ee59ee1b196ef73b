import { planned, timeoutFor } from './durations.js';
import type { Inventory, PlannedTable } from './inventory.js';
import type { Rates } from './rates.js';
import { GROUPING, tableGroups } from './table-groups.js';
import type { TargetFacts } from './target-facts.js';

/**
 * A YAML-ready runbook. Two conventions the renderer (runbook-yaml.ts) turns
 * into YAML: a key '#' holds the comment written before its mapping, and
 * `'<<': '*conversion'` merges the shared conversion options (an anchor).
 */
export type Yamlish = { [key: string]: unknown };

export interface Step extends Yamlish {
  id: string;
  planned: string;
}

export const DBA = 'dba';
export const LEAD = 'lead';
export const OWNER = 'owner';
export const ROLLBACK = 'rollback';
/** Merges x-conversion into a step's params. */
export const MERGE = { '<<': '*conversion' } as const;

export interface PlanInput {
  /** The runbook's id (its file name). */
  name: string;
  /** Prefix of the environment variables the runbook reads, e.g. KGV → ${KGV_TARGET_URL}. */
  envPrefix: string;
  inventory: Inventory;
  target: TargetFacts;
  rates: Rates;
  /** --window in seconds, null when not given. */
  windowSeconds: number | null;
  /** File name of the conversion report written beside the runbook. */
  reportFile: string;
  /** --load-step: about how long one load step should take (default GROUPING.targetSeconds). */
  groupSeconds?: number;
}

/** What every step builder shares: the inventory, the load groups, the runbook's variables, and the running totals of planned time. */
export class PlanContext {
  readonly inv: Inventory;
  readonly snapshot: boolean;
  readonly groups: PlannedTable[][];
  readonly rates: Rates;
  readonly target: TargetFacts;
  readonly reportFile: string;
  readonly groupSeconds: number;
  forwardSeconds = 0;
  rollbackSeconds = 0;

  constructor(private readonly input: PlanInput) {
    this.inv = input.inventory;
    this.snapshot = this.inv.source.kind === 'snapshot';
    this.rates = input.rates;
    this.target = input.target;
    this.reportFile = input.reportFile;
    this.groupSeconds = input.groupSeconds ?? GROUPING.targetSeconds;
    this.groups = tableGroups(this.inv.tables, { ...GROUPING, targetSeconds: this.groupSeconds, rowsPerSecond: input.rates.loadRowsPerSecond, bytesPerSecond: input.rates.loadBytesPerSecond });
  }

  /** `${PREFIX_NAME}` or `${PREFIX_NAME:-fallback}`: the runbook reads it from the environment. */
  env(name: string, fallback?: string): string {
    return `\${${this.input.envPrefix}_${name}${fallback === undefined ? '' : `:-${fallback}`}}`;
  }

  /** A step with its planned duration (whole minutes) counted into the forward total unless it is a rollback step. */
  step(s: Yamlish & { id: string }, seconds: number, opts: { timeout?: boolean; forward?: boolean } = {}): Step {
    const p = planned(seconds);
    if (opts.forward !== false) this.forwardSeconds += p.seconds;
    return { ...s, planned: p.text, ...(opts.timeout ? { timeout: timeoutFor(p.seconds) } : {}) };
  }

  /** Where the rows come from, for the steps that read the source or the snapshot. */
  from(): Yamlish {
    return this.snapshot ? { snapshot: this.snapshotDir() } : { source: 'source' };
  }

  snapshotDir(): string {
    return this.env('SNAPSHOT_DIR', this.inv.source.kind === 'snapshot' ? this.inv.source.dir : '');
  }

  backupDir(sub = ''): string {
    return `${this.env('BACKUP_DIR', 'var/backups')}${sub}`;
  }

  loadId(i: number): string {
    return this.groupId('load', i);
  }

  /** A step id per group: `counts`, or `counts-2` when there are several groups. */
  groupId(base: string, i: number): string {
    return this.groups.length === 1 ? base : `${base}-${i + 1}`;
  }

  groupTitle(i: number, what: string): string {
    const group = this.groups[i] ?? [];
    const names = group.slice(0, 3).map((t) => t.mapping.source.name).join(', ') + (group.length > 3 ? `, … (${group.length} tables)` : '');
    return this.groups.length === 1 ? `${what}: ${names}` : `${what}, group ${i + 1} of ${this.groups.length}: ${names}`;
  }

  /** The group's tables for its load and validation steps; nothing when one group holds them all (the conversion's selection applies). */
  tablesOf(i: number): Yamlish {
    if (this.groups.length === 1) return {};
    return { tables: (this.groups[i] ?? []).map((t) => `${t.mapping.source.schema}.${t.mapping.source.name}`) };
  }

  /** A snapshot's load takes no conversion options: its tables are the group's, or the selection's when one group holds them all. */
  loadTables(i: number): Yamlish {
    if (this.groups.length > 1) return this.tablesOf(i);
    return this.inv.selection ? { tables: this.inv.selection } : {};
  }
}
