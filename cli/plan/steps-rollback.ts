import { placeholder } from '../../runbook/placeholders.js';
import { FIXED_SECONDS, planned, workSeconds } from './durations.js';
import { DBA, MERGE, OWNER, ROLLBACK, type PlanContext, type Step, type Yamlish } from './plan-context.js';

/** Seed 000's three rollback scenarios, each unfreezing the source first. */

export function rollback(ctx: PlanContext): Yamlish {
  const schemas = [ctx.inv.targetSchema];
  const scenario = (title: string, steps: Step[]) => {
    ctx.rollbackSeconds = Math.max(ctx.rollbackSeconds, planned(stepsSeconds(steps)).seconds);
    return { title, approve: ROLLBACK, planned: planned(stepsSeconds(steps)).text, steps };
  };
  return {
    '#': "Seed 000's three scenarios. Each puts the source back in service first.",
    'pre-go-live': scenario('Pre-go-live rollback (application not yet switched)', [
      unfreeze(ctx, 'rb1-unfreeze'),
      ctx.step(
        { id: 'rb1-truncate', title: 'Empty the tables this run loaded (schema kept)', approve: ROLLBACK, action: 'rollback.truncate_loaded', confirm: 'This empties the PostgreSQL tables this run loaded.', params: { target: 'target' } },
        FIXED_SECONDS.check,
        { forward: false },
      ),
      verifySource(ctx, 'rb1-verify-source'),
    ]),
    'post-go-live': scenario('Post-go-live rollback (application switched to PostgreSQL)', [
      unfreeze(ctx, 'rb2-unfreeze'),
      ctx.step(
        {
          id: 'rb2-switch-back',
          title: `Point the application back at the ${ctx.snapshot ? 'source database' : 'SQL Server'}`,
          approve: ROLLBACK,
          action: placeholder('the action that undoes the switch (sql, shell or http; manual if a person does it)'),
          confirm: 'This switches the application back to the source database.',
          params: placeholder("its params, as the switch's flip"),
        },
        FIXED_SECONDS.manualRollback,
        { forward: false },
      ),
      ctx.step(
        {
          id: 'rb2-export',
          title: 'Rows written in PostgreSQL since go-live, as a T-SQL replay script and CSVs for the DBA to review and run',
          approve: DBA,
          action: 'rollback.export_since_golive',
          params: {
            ...MERGE,
            ...ctx.from(),
            target: 'target',
            dir: ctx.backupDir('/since-go-live'),
            tables: placeholder('the tables the application writes: a list of { table: schema.table, changed_column: its modified-at column }; a table a transform built also names source_table and columns (each source column → the target column or { sql })'),
          },
        },
        FIXED_SECONDS.manualRollback * 2,
        { forward: false },
      ),
    ]),
    emergency: scenario('Emergency rollback (system failure)', [
      unfreeze(ctx, 'rb3-unfreeze'),
      ctx.step(
        {
          id: 'rb3-restore',
          title: 'Restore PostgreSQL from the last good backup (go-live checkpoint, else the one before the switch)',
          approve: ROLLBACK,
          action: 'restore.postgres',
          confirm: `This replaces ${ctx.inv.targetSchema} with the backup's contents.`,
          params: { target: 'target', from: ['backup.golive-backup', 'backup.pre-switch-backup'], schemas },
        },
        workSeconds.backup(ctx.inv.tables, ctx.rates) * 2,
        { forward: false, timeout: true },
      ),
      ctx.step(
        { id: 'rb3-services', title: 'Application services restored', approve: OWNER, action: 'manual', params: { checklist: ['Disaster recovery procedure executed', 'Data consistency verified', 'Application services restored'] } },
        FIXED_SECONDS.manualRollback,
        { forward: false },
      ),
    ]),
  };
}

function unfreeze(ctx: PlanContext, id: string): Step {
  if (ctx.snapshot) {
    return ctx.step(
      { id, title: 'Put the source back in service (undo the freeze the snapshot was taken under)', approve: DBA, action: 'manual', params: { checklist: ['The source database is read-write again and the application\'s logins are enabled'] } },
      FIXED_SECONDS.check,
      { forward: false },
    );
  }
  return ctx.step({ id, title: 'Put SQL Server back in service (undo the freeze)', approve: DBA, action: 'unfreeze.source', params: { freeze_step: 'freeze-source' } }, FIXED_SECONDS.freeze, { forward: false });
}

function verifySource(ctx: PlanContext, id: string): Step {
  if (ctx.snapshot) {
    return ctx.step({ id, title: 'The application answers on the source database', approve: OWNER, action: 'manual', params: { checklist: ['Application answers', 'Users can log in'] } }, FIXED_SECONDS.check, { forward: false });
  }
  return ctx.step(
    { id, title: 'SQL Server is operational', approve: DBA, action: 'rollback.verify_source', params: { source: 'source', sql: 'SELECT DB_NAME() AS database_name, GETDATE() AS now' } },
    FIXED_SECONDS.check,
    { forward: false },
  );
}

/** Σ planned of steps, from our own texts ("1h30m", "5m"). */
const stepsSeconds = (steps: readonly Step[]): number =>
  steps.reduce((n, s) => {
    const m = /^(?:(\d+)h)?(?:(\d+)m)?$/.exec(s.planned);
    return n + (m ? Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 : 0);
  }, 0);
