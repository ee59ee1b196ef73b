import { placeholder } from '../../runbook/placeholders.js';
import type { PlannedTable } from './inventory.js';
import { DBA, LEAD, OWNER, PlanContext, ROLLBACK, type PlanInput, type Yamlish } from './plan-context.js';
import { rowsText } from './sizes-text.js';
import { backups, checks, freeze, schema } from './steps-before-load.js';
import { goLive } from './steps-go-live.js';
import { loads } from './steps-load.js';
import { rollback } from './steps-rollback.js';
import { validations } from './steps-validation.js';

export interface PlannedRunbook {
  doc: Yamlish;
  /** Σ planned of the forward steps. */
  forwardSeconds: number;
  /** The longest rollback scenario, which the window must leave room for. */
  rollbackSeconds: number;
  /** forward + longest rollback ≤ window; null without --window. */
  fits: boolean | null;
  /** The load groups, largest first: one load step (and one counts and checksums step) each. */
  groups: PlannedTable[][];
}

/** Everything `cutover plan` writes, as data. Pure: the inventory and the target's facts come in, nothing is read here. */
export function buildRunbook(input: PlanInput): PlannedRunbook {
  const ctx = new PlanContext(input);
  const { inv } = ctx;
  const phases = [
    { id: 'checks', title: 'Pre-migration checks', steps: checks(ctx) },
    ...backups(ctx),
    { id: 'freeze', title: 'Freeze the source', steps: [freeze(ctx)] },
    { id: 'schema', title: 'Schema conversion and apply', steps: schema(ctx) },
    { id: 'load', title: 'Load', steps: loads(ctx) },
    { id: 'validation', title: 'Validation and sign-off', steps: validations(ctx) },
    { id: 'go-live', title: 'Go-live', steps: goLive(ctx) },
  ].map((p, i) => ({ ...p, title: `${i + 1}. ${String(p.title)}` }));
  const scenarios = rollback(ctx);
  const total = ctx.forwardSeconds + ctx.rollbackSeconds;
  const doc: Yamlish = {
    title: `${inv.database} cutover — ${ctx.snapshot ? 'snapshot' : 'SQL Server'} → PostgreSQL (planned by cutover plan)`,
    description: `Seed 000's phases for ${inv.tables.length} tables (${rowsText(inv.tables)}) in ${ctx.groups.length} load group${ctx.groups.length === 1 ? '' : 's'}, and the three rollback scenarios.`,
    window: { start: ctx.env('WINDOW_START', ''), end: ctx.env('WINDOW_END', '') },
    connections: {
      '#': 'The URLs come from the environment: no secret is written here.',
      ...(ctx.snapshot ? {} : { source: { kind: 'mssql', url: ctx.env('SOURCE_URL') } }),
      target: { kind: 'postgres', url: ctx.env('TARGET_URL') },
    },
    roles: roles(),
    permissions: { start: [LEAD], pause: [LEAD, DBA, OWNER, ROLLBACK], abort: [LEAD, ROLLBACK], rollback: [ROLLBACK, LEAD] },
    escalation: { '#': "Seed 000's emergency contacts are chased: reminders, then the lead.", remind_after: '10m', escalate_after: '20m', next_tier: [LEAD], go_no_go: LEAD },
    health: { '#': 'Waits and blocking watched while the load, validation, backup and restore steps run.', interval: '15s', block_threshold: '60s', lock_wait_threshold: '60s', long_statement: '10m' },
    'x-conversion': {
      '#': `The conversion every schema, load and validation step shares (merged with <<: *conversion).${ctx.snapshot ? " It must be the extract's: the snapshot was written with it." : ''}`,
      target_schema: inv.targetSchema,
      naming: inv.naming,
      ...(inv.selection ? { tables: inv.selection } : {}),
      overrides: {},
    },
    phases,
    rollback: scenarios,
  };
  return { doc, forwardSeconds: ctx.forwardSeconds, rollbackSeconds: ctx.rollbackSeconds, fits: input.windowSeconds === null ? null : total <= input.windowSeconds, groups: ctx.groups };
}

function roles(): Yamlish {
  const role = (title: string, who: string, extra: Yamlish = {}) => ({ title, members: [placeholder(`Slack user ids (U…) of ${who}`)], ...extra });
  return {
    '#': 'Who approves what. Only a person knows the members: each FILL IN keeps the runbook from starting until it is replaced.',
    [LEAD]: role('Migration lead', 'the migration lead, who starts the run and signs off', { requester_may_approve: true }),
    [DBA]: role('Database administrator', 'the database administrators (two, so one may start a run the other approves)'),
    [OWNER]: role('Application owner', 'the application owner, who approves the switch'),
    [ROLLBACK]: role('Rollback authority', 'the rollback authority, who approves rollbacks and alone may override the gate'),
  };
}
