import { FIXED_SECONDS, workSeconds } from './durations.js';
import { bytesText } from './sizes-text.js';
import { DBA, LEAD, MERGE, type PlanContext, type Step, type Yamlish } from './plan-context.js';

/** Seed 000 phases 1–4: the checks, the backups before anything changes, the freeze, the schema. */

export function checks(ctx: PlanContext): Step[] {
  const r = ctx.inv.report;
  const steps: Step[] = [
    ctx.step(
      {
        id: 'checklist',
        title: 'Pre-migration checklist complete',
        approve: LEAD,
        action: 'manual',
        params: {
          checklist: [
            `Disk space on the PostgreSQL host ≥ 3× the source (${ctx.snapshot ? 'the snapshot holds' : 'SQL Server uses'} ${bytesText(ctx.inv.tables)}${ctx.snapshot ? ' compressed' : ''})`,
            'Team assembled, rollback decision authority identified, stakeholders notified',
            `Conversion report ${ctx.reportFile} reviewed: ${r.notConverted.length} object(s) to port by hand, ${r.risks.length} risk(s), ${r.warnings.length} warning(s)`,
            'The application is in maintenance mode for the window',
          ],
        },
      },
      FIXED_SECONDS.checklist,
    ),
    ctx.step(
      {
        id: 'target-ready',
        title: 'PostgreSQL 15 or newer answers, and we may create schemas',
        approve: DBA,
        action: 'sql',
        params: {
          connection: 'target',
          sql: "SELECT current_setting('server_version') AS server_version, current_database() AS database\nWHERE current_setting('server_version_num')::int >= 150000\n  AND has_database_privilege(current_database(), 'CREATE')\n",
          expect: { rows: 1 },
        },
      },
      FIXED_SECONDS.check,
    ),
  ];
  if (ctx.snapshot) {
    steps.push(
      ctx.step(
        { id: 'verify-snapshot', title: 'The snapshot is complete and unchanged (sha256 of every file, row counts and row hashes)', approve: DBA, action: 'snapshot.verify', params: { dir: ctx.snapshotDir() } },
        workSeconds.verify(ctx.inv.tables, ctx.rates),
        { timeout: true },
      ),
    );
  } else {
    steps.push(
      ctx.step(
        {
          id: 'source-ready',
          title: 'SQL Server answers',
          approve: DBA,
          action: 'sql',
          params: { connection: 'source', sql: "SELECT DB_NAME() AS database_name, CONVERT(varchar(128), SERVERPROPERTY('ProductVersion')) AS version", expect: { rows: 1 } },
        },
        FIXED_SECONDS.check,
      ),
    );
  }
  return steps;
}

export function backups(ctx: PlanContext): Yamlish[] {
  const steps: Step[] = [];
  if (!ctx.snapshot) {
    steps.push(
      ctx.step(
        {
          id: 'source-backup',
          title: 'Full SQL Server backup (COPY_ONLY, CHECKSUM), verified; log backup chain checked',
          approve: DBA,
          action: 'backup.mssql',
          params: { connection: 'source', dir: ctx.env('MSSQL_BACKUP_DIR'), compression: true, max_log_backup_age: '1h' },
        },
        workSeconds.backup(ctx.inv.tables, ctx.rates),
        { timeout: true },
      ),
    );
  }
  if (ctx.target.tables > 0 || ctx.target.unreachable !== null) {
    steps.push(
      ctx.step(
        {
          '#': ctx.target.unreachable !== null ? 'The target could not be asked when planned: remove this step if it holds no tables (a dump of nothing does not verify).' : undefined,
          id: 'target-backup',
          title: 'PostgreSQL backup before anything is migrated (the target already holds tables)',
          approve: DBA,
          action: 'backup.postgres',
          params: { connection: 'target', dir: ctx.backupDir() },
        },
        60 + FIXED_SECONDS.check,
        { timeout: true },
      ),
    );
  }
  if (steps.length === 0) return [];
  return [{ '#': ctx.snapshot ? undefined : 'The switch requires the SQL Server backup.', id: 'backups', title: 'Backups', steps }];
}

export function freeze(ctx: PlanContext): Step {
  if (ctx.snapshot) {
    const created = ctx.inv.source.kind === 'snapshot' ? ctx.inv.source.createdAt : '';
    return ctx.step(
      {
        '#': 'The snapshot stands in for the extract: the source was frozen before it was written. (From a live source, plan writes freeze.source here and unfreeze.source in every rollback.)',
        id: 'source-frozen',
        title: 'The source was frozen before the snapshot was written',
        approve: LEAD,
        action: 'manual',
        params: { checklist: [`No writes reached the source after the snapshot was written (${created})`, 'The application stays in maintenance mode until the switch'] },
      },
      FIXED_SECONDS.check,
    );
  }
  return ctx.step(
    {
      '#': 'Seed 002 step 1: nothing written after this is lost, because nothing can be written. Every rollback scenario unfreezes first.',
      id: 'freeze-source',
      title: 'Freeze the source: sessions listed, database read-only, write probe refused',
      approve: DBA,
      action: 'freeze.source',
      confirm: 'This sets the SQL Server database READ_ONLY WITH ROLLBACK IMMEDIATE: open transactions are rolled back and sessions disconnected. The application cannot write until a rollback unfreezes it.',
      params: { connection: 'source', set_read_only: true },
    },
    FIXED_SECONDS.freeze,
    { timeout: true },
  );
}

export function schema(ctx: PlanContext): Step[] {
  const steps: Step[] = [];
  if (!ctx.snapshot) {
    steps.push(
      ctx.step(
        { id: 'convert-report', title: 'Conversion report (types, keys, what must be ported by hand)', approve: DBA, action: 'schema.convert', params: { ...MERGE, source: 'source' } },
        FIXED_SECONDS.convertReport,
      ),
    );
  }
  steps.push(
    ctx.step(
      {
        '#': 'replace: true recreates existing tables empty (a repeated rehearsal); the real night refuses to touch tables that exist.',
        id: 'target-tables',
        title: `Create the ${ctx.inv.tables.length} tables in ${ctx.inv.targetSchema} (bare, no indexes)`,
        approve: DBA,
        action: 'schema.apply',
        params: { ...MERGE, ...ctx.from(), target: 'target', phase: 'pre-load', replace: false },
      },
      workSeconds.schema(ctx.inv.tables),
    ),
  );
  return steps;
}
