import { placeholder } from '../../runbook/placeholders.js';
import { FIXED_SECONDS, workSeconds } from './durations.js';
import { DBA, OWNER, type PlanContext, type Step } from './plan-context.js';

/** Seed 000 phases 6–7: a backup of what was validated, the gated switch, functional testing, the go-live checkpoint. */

export function goLive(ctx: PlanContext): Step[] {
  const schemas = [ctx.inv.targetSchema];
  const backupSeconds = workSeconds.backup(ctx.inv.tables, ctx.rates);
  return [
    ctx.step(
      {
        '#': 'The restore point of the emergency rollback until the go-live backup exists; the switch cannot be approved without it.',
        id: 'pre-switch-backup',
        title: `PostgreSQL backup of ${ctx.inv.targetSchema} as loaded and validated (pg_dump, verified)`,
        approve: DBA,
        action: 'backup.postgres',
        params: { connection: 'target', dir: ctx.backupDir(), schemas },
      },
      backupSeconds,
      { timeout: true },
    ),
    ctx.step(
      {
        '#': 'Only a person knows how the application is pointed at PostgreSQL and how to tell it works.',
        id: 'switch',
        title: 'Switch the application to PostgreSQL',
        approve: OWNER,
        action: 'switch',
        gate: 'validation',
        requires: ctx.snapshot ? ['backup.pre-switch-backup'] : ['backup.source-backup', 'backup.pre-switch-backup'],
        confirm: 'The application uses PostgreSQL from now on. The way back after this is the post-go-live rollback.',
        params: {
          flip: placeholder('the action that points the application at PostgreSQL: { action: sql | shell | http, params: … }'),
          smoke: [placeholder('smoke checks that prove the application works on PostgreSQL: a list of { action: sql | http, params: … }')],
          track_deletes: { connection: 'target', tables: placeholder('the tables rb2-export replays (schema.table): their rows deleted after go-live are kept for it') },
        },
        timeout: '15m',
      },
      FIXED_SECONDS.switch,
    ),
    ctx.step(
      { id: 'functional', title: 'Functional and performance testing', approve: OWNER, action: 'manual', params: { checklist: ['Users can log in and do their daily work', 'Reports generate correctly', 'Response times within 10 % of the baseline'] } },
      FIXED_SECONDS.functional,
    ),
    ctx.step(
      {
        id: 'golive-backup',
        title: 'Go-live checkpoint: PostgreSQL backup with the WAL position',
        approve: DBA,
        action: 'backup.postgres',
        params: { connection: 'target', dir: ctx.backupDir(), schemas, checkpoint: true },
      },
      backupSeconds,
      { timeout: true },
    ),
  ];
}
