import { z } from 'zod';
import { durationSchema } from './duration.js';
import {
  etlCopyParams,
  etlSyncParams,
  extractParams,
  loadParams,
  schemaApplyParams,
  schemaConvertParams,
  snapshotVerifyParams,
  type EtlCopyParams,
  type EtlSyncParams,
  type ExtractParams,
  type LoadParams,
  type SchemaApplyParams,
  type SchemaConvertParams,
  type SnapshotVerifyParams,
} from './etl-action-params.js';
import {
  validateAggregatesParams,
  validateCountsParams,
  validateIntegrityParams,
  validateRulesParams,
  validateTotalsParams,
  type ValidateAggregatesParams,
  type ValidateCountsParams,
  type ValidateIntegrityParams,
  type ValidateRulesParams,
  type ValidateTotalsParams,
} from './validate-action-params.js';
import { checksumParams, type ChecksumParams } from './checksum-action-params.js';
import {
  exportSinceGoliveParams,
  restorePostgresParams,
  switchConnections,
  switchParamsSchema,
  truncateLoadedParams,
  verifySourceParams,
  type ExportSinceGoliveParams,
  type RestorePostgresParams,
  type SwitchParams,
  type TruncateLoadedParams,
  type VerifySourceParams,
} from './rollback-action-params.js';
import { backupMssqlParams, backupPostgresParams, type BackupMssqlParams, type BackupPostgresParams } from './backup-action-params.js';
import { freezeChangesSource, freezeSourceParams, unfreezeSourceParams, type FreezeSourceParams, type UnfreezeSourceParams } from './freeze-action-params.js';
import { baselineQueriesParams, validateQueriesParams, type BaselineQueriesParams, type ValidateQueriesParams } from './query-action-params.js';

/**
 * The vocabulary of actions a runbook may name, with their parameter schemas.
 * It lives here (pure) so a runbook is fully validated at load time, by the
 * bot as well as the worker; engine/ implements each id.
 */
export interface ActionSpec<P = unknown> {
  id: string;
  summary: string;
  params: z.ZodType<P>;
  /**
   * Whether running the action again after a worker died mid-way is safe.
   * A non-idempotent action is re-run after a crash only when its step has a
   * done_when probe, which decides whether the first run took effect.
   */
  idempotent: (params: P) => boolean;
  /** Connections the params refer to, so unknown names fail at load time. */
  connections: (params: P) => string[];
  /**
   * Long database work (ETL, validation, backup, restore): while it runs the
   * worker samples the step's connections for waits and blocking (the
   * runbook's `health:` block) and alerts past its thresholds.
   */
  watchHealth?: true;
  /** Other steps the params name, checked at load: the step exists, runs one of `actions`, and (when `earlier`) comes before this one. */
  stepRefs?: (params: P) => StepRef[];
  /**
   * The action that undoes this step, when these params change something
   * outside the target (freeze.source → unfreeze.source). Every rollback
   * scenario must then hold a step of that action naming this step, or the
   * runbook does not load.
   */
  compensation?: (params: P) => { action: string; field: string } | null;
}

/** A step named in another step's params. */
export interface StepRef {
  /** The params field holding the id, for the problem's path. */
  field: string;
  stepId: string;
  actions: string[];
  /** The named step must be a forward step before the referring one. */
  earlier: boolean;
}

const connectionName = z.string().min(1, 'expected the name of a connection declared under connections');

export const sqlParams = z
  .object({
    connection: connectionName,
    sql: z.string().min(1).optional(),
    file: z
      .string()
      .regex(/^[\w./-]+\.sql$/, 'expected a .sql file name relative to sql/')
      .refine((f) => !f.split('/').includes('..'), 'expected a path inside sql/, without ".."')
      .optional(),
    /** Run every statement in one transaction (PostgreSQL) so a crash leaves nothing half done. */
    transaction: z.boolean().default(true),
    expect: z
      .object({ rows: z.number().int().nonnegative().optional(), min_rows: z.number().int().nonnegative().optional() })
      .strict()
      .optional(),
  })
  .strict()
  .refine((p) => (p.sql === undefined) !== (p.file === undefined), {
    message: 'expected exactly one of "sql" or "file"',
  });
export type SqlParams = z.infer<typeof sqlParams>;

export const shellParams = z
  .object({
    argv: z.array(z.string()).min(1, 'expected an argv array with at least the program'),
    cwd: z.string().optional(),
    env: z.record(z.string(), z.string()).optional(),
    ok_exit_codes: z.array(z.number().int()).default([0]),
    /** Mark true only when running the command twice is harmless. */
    idempotent: z.boolean().default(false),
  })
  .strict();
export type ShellParams = z.infer<typeof shellParams>;

export const httpParams = z
  .object({
    url: z.string().url('expected an absolute http(s) URL'),
    method: z.enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']).default('GET'),
    headers: z.record(z.string(), z.string()).optional(),
    body: z.string().optional(),
    expect_status: z.union([z.number().int(), z.array(z.number().int()).min(1)]).default(200),
    expect_body_contains: z.string().optional(),
    request_timeout: durationSchema.optional(),
  })
  .strict();
export type HttpParams = z.infer<typeof httpParams>;

export const manualParams = z
  .object({ checklist: z.array(z.string()).optional() })
  .strict()
  .default({});
export type ManualParams = z.infer<typeof manualParams>;

/** The go-live switch: its flip and smoke checks are validated with the schemas above, with their paths. */
export const switchParams = switchParamsSchema({ shell: shellParams, http: httpParams, sql: sqlParams });

export const ACTIONS: Record<string, ActionSpec<any>> = {
  sql: {
    id: 'sql',
    summary: 'run SQL statements or a file from sql/ against a named connection',
    params: sqlParams,
    idempotent: (p: SqlParams) => p.transaction,
    connections: (p: SqlParams) => [p.connection],
  } satisfies ActionSpec<SqlParams>,
  shell: {
    id: 'shell',
    summary: 'run a program with arguments from the runbook (never from chat)',
    params: shellParams,
    idempotent: (p: ShellParams) => p.idempotent,
    connections: () => [],
  } satisfies ActionSpec<ShellParams>,
  http: {
    id: 'http',
    summary: 'make an HTTP request and check its status',
    params: httpParams,
    idempotent: (p: HttpParams) => p.method === 'GET' || p.method === 'HEAD',
    connections: () => [],
  } satisfies ActionSpec<HttpParams>,
  manual: {
    id: 'manual',
    summary: 'a checklist item: its approval is its completion',
    params: manualParams,
    idempotent: () => true,
    connections: () => [],
  } satisfies ActionSpec<ManualParams>,
  'schema.convert': {
    id: 'schema.convert',
    summary: 'introspect SQL Server and report the PostgreSQL schema it converts to (writes nothing)',
    params: schemaConvertParams,
    idempotent: () => true,
    connections: (p: SchemaConvertParams) => [p.source],
  } satisfies ActionSpec<SchemaConvertParams>,
  'schema.apply': {
    id: 'schema.apply',
    summary: 'create the converted tables (pre-load) or their keys, indexes, checks and foreign keys (post-load)',
    params: schemaApplyParams,
    // pre-load commits in one transaction; post-load builds indexes on several connections, so a re-run may meet half of them.
    idempotent: (p: SchemaApplyParams) => p.phase === 'pre-load',
    connections: (p: SchemaApplyParams) => [p.target, ...(p.source ? [p.source] : [])],
  } satisfies ActionSpec<SchemaApplyParams>,
  'etl.copy': {
    id: 'etl.copy',
    watchHealth: true,
    summary: 'stream tables from SQL Server into PostgreSQL with COPY, checkpointed per chunk',
    params: etlCopyParams,
    idempotent: () => true,
    connections: (p: EtlCopyParams) => [p.source, p.target],
  } satisfies ActionSpec<EtlCopyParams>,
  'etl.sync': {
    id: 'etl.sync',
    watchHealth: true,
    summary: 'copy rows changed since the last high-water mark (upsert by key) and remove rows deleted at the source',
    params: etlSyncParams,
    // Each table's window commits with its mark; a re-run replays an uncommitted window, never skips one.
    idempotent: () => true,
    connections: (p: EtlSyncParams) => [p.source, p.target],
  } satisfies ActionSpec<EtlSyncParams>,
  extract: {
    id: 'extract',
    watchHealth: true,
    summary: 'write a verified snapshot of SQL Server tables to a directory (first hop of a two-hop load)',
    params: extractParams,
    idempotent: () => true,
    connections: (p: ExtractParams) => [p.source],
  } satisfies ActionSpec<ExtractParams>,
  load: {
    id: 'load',
    watchHealth: true,
    summary: 'verify a snapshot directory and load it into PostgreSQL, checkpointed per chunk',
    params: loadParams,
    idempotent: () => true,
    connections: (p: LoadParams) => [p.target],
  } satisfies ActionSpec<LoadParams>,
  'snapshot.verify': {
    id: 'snapshot.verify',
    summary: 'check every file of a snapshot directory against its manifest (sha256, and row counts and row hashes)',
    params: snapshotVerifyParams,
    idempotent: () => true,
    connections: () => [],
  } satisfies ActionSpec<SnapshotVerifyParams>,
  // Validations only read, so running one again is always safe.
  'validate.counts': {
    id: 'validate.counts',
    watchHealth: true,
    summary: 'exact row counts per mapped table, source against target, the load\'s quarantine counted',
    params: validateCountsParams,
    idempotent: () => true,
    connections: (p: ValidateCountsParams) => [p.target, ...(p.source ? [p.source] : [])],
  } satisfies ActionSpec<ValidateCountsParams>,
  'validate.aggregates': {
    id: 'validate.aggregates',
    watchHealth: true,
    summary: 'per column non-null count, min, max and sum computed in both databases and compared',
    params: validateAggregatesParams,
    idempotent: () => true,
    connections: (p: ValidateAggregatesParams) => [p.source, p.target],
  } satisfies ActionSpec<ValidateAggregatesParams>,
  'validate.integrity': {
    id: 'validate.integrity',
    watchHealth: true,
    summary: 'orphaned foreign keys, duplicate keys, NOT NULL and CHECK violations in the target',
    params: validateIntegrityParams,
    idempotent: () => true,
    connections: (p: ValidateIntegrityParams) => [p.target, ...(p.source ? [p.source] : [])],
  } satisfies ActionSpec<ValidateIntegrityParams>,
  'validate.rules': {
    id: 'validate.rules',
    watchHealth: true,
    summary: 'data-quality rules (ERROR / WARNING with thresholds) with counts and masked examples',
    params: validateRulesParams,
    idempotent: () => true,
    connections: (p: ValidateRulesParams) => [...(p.target ? [p.target] : []), ...(p.source ? [p.source] : [])],
  } satisfies ActionSpec<ValidateRulesParams>,
  'validate.totals': {
    id: 'validate.totals',
    watchHealth: true,
    summary: 'named business totals, one query per side, compared exactly',
    params: validateTotalsParams,
    idempotent: () => true,
    connections: (p: ValidateTotalsParams) => [p.source, p.target],
  } satisfies ActionSpec<ValidateTotalsParams>,
  'validate.checksums': {
    id: 'validate.checksums',
    watchHealth: true,
    summary: 'row hashes over canonical text per key segment in both databases, bisected down to the differing keys',
    params: checksumParams,
    idempotent: () => true,
    connections: (p: ChecksumParams) => [p.target, ...(p.source ? [p.source] : [])],
  } satisfies ActionSpec<ChecksumParams>,
  // A re-run writes another file under a new name; the first one is left, never half-overwritten.
  'backup.postgres': {
    id: 'backup.postgres',
    watchHealth: true,
    summary: 'pg_dump -Fc of the target (database or schemas) to a file with its sha256, verified with pg_restore --list',
    params: backupPostgresParams,
    idempotent: () => true,
    connections: (p: BackupPostgresParams) => [p.connection],
  } satisfies ActionSpec<BackupPostgresParams>,
  'backup.mssql': {
    id: 'backup.mssql',
    watchHealth: true,
    summary: 'BACKUP DATABASE … WITH COPY_ONLY, CHECKSUM, then RESTORE VERIFYONLY; reports the log-chain check',
    params: backupMssqlParams,
    idempotent: () => true,
    connections: (p: BackupMssqlParams) => [p.connection],
  } satisfies ActionSpec<BackupMssqlParams>,
  switch: {
    id: 'switch',
    summary: 'flip the application to PostgreSQL (shell, http or sql), record the go-live time, run the smoke checks',
    params: switchParams,
    // The flip may be a shell command; only a done_when probe can tell whether it already happened.
    idempotent: () => false,
    connections: (p: SwitchParams) => switchConnections(p),
  } satisfies ActionSpec<SwitchParams>,
  'rollback.truncate_loaded': {
    id: 'rollback.truncate_loaded',
    summary: 'pre-go-live rollback: truncate exactly the tables this run loaded, keeping the schema',
    params: truncateLoadedParams,
    idempotent: () => true,
    connections: (p: TruncateLoadedParams) => [p.target],
  } satisfies ActionSpec<TruncateLoadedParams>,
  'rollback.verify_source': {
    id: 'rollback.verify_source',
    summary: 'check that the source database still answers a query',
    params: verifySourceParams,
    idempotent: () => true,
    connections: (p: VerifySourceParams) => [p.source],
  } satisfies ActionSpec<VerifySourceParams>,
  'rollback.export_since_golive': {
    id: 'rollback.export_since_golive',
    summary: 'post-go-live rollback: export rows written in PostgreSQL since go-live as a T-SQL replay script and CSVs',
    params: exportSinceGoliveParams,
    idempotent: () => true,
    connections: (p: ExportSinceGoliveParams) => [p.target],
  } satisfies ActionSpec<ExportSinceGoliveParams>,
  'restore.postgres': {
    id: 'restore.postgres',
    watchHealth: true,
    summary: 'emergency rollback: verify a pg_dump backup, restore it with pg_restore --clean, count the restored rows',
    params: restorePostgresParams,
    // One pg_restore transaction; running it again restores the same backup again.
    idempotent: () => true,
    connections: (p: RestorePostgresParams) => [p.target],
  } satisfies ActionSpec<RestorePostgresParams>,
  // Re-running a freeze finds the source frozen and adopts it; the unfreeze always puts the source back in service.
  'freeze.source': {
    id: 'freeze.source',
    summary: 'list the sessions on the source; with set_read_only: true freeze it (READ_ONLY, or the runbook\'s statements) and prove it with a write probe',
    params: freezeSourceParams,
    idempotent: () => true,
    connections: (p: FreezeSourceParams) => [p.connection],
    compensation: (p: FreezeSourceParams) => (freezeChangesSource(p) ? { action: 'unfreeze.source', field: 'freeze_step' } : null),
  } satisfies ActionSpec<FreezeSourceParams>,
  'unfreeze.source': {
    id: 'unfreeze.source',
    summary: 'undo a freeze.source step: the source database read-write and its application logins enabled again, proven by a write probe',
    params: unfreezeSourceParams,
    idempotent: () => true,
    // The connection is the freeze step's, checked there.
    connections: () => [],
    stepRefs: (p: UnfreezeSourceParams) => [{ field: 'freeze_step', stepId: p.freeze_step, actions: ['freeze.source'], earlier: false }],
  } satisfies ActionSpec<UnfreezeSourceParams>,
  // Not health-watched: a few timed reads on the source before the window, not long database work.
  'baseline.queries': {
    id: 'baseline.queries',
    summary: 'time the runbook\'s critical queries on the source (warm-up, median of several runs) and record their plans as the baseline',
    params: baselineQueriesParams,
    idempotent: () => true,
    connections: (p: BaselineQueriesParams) => [p.source],
  } satisfies ActionSpec<BaselineQueriesParams>,
  'validate.queries': {
    id: 'validate.queries',
    summary: 'time the critical queries on PostgreSQL with EXPLAIN (ANALYZE, BUFFERS) and compare with the source baseline (amber beyond the tolerance)',
    params: validateQueriesParams,
    idempotent: () => true,
    connections: (p: ValidateQueriesParams) => [p.target],
    watchHealth: true,
    stepRefs: (p: ValidateQueriesParams) => [{ field: 'baseline_step', stepId: p.baseline_step, actions: ['baseline.queries'], earlier: true }],
  } satisfies ActionSpec<ValidateQueriesParams>,
};

/** Probe evaluated before executing a step and before re-executing it after a crash. */
export const doneWhenSchema = z.union([
  z.object({ connection: connectionName, sql: z.string().min(1) }).strict(),
  z
    .object({
      http: z.string().url('expected an absolute http(s) URL'),
      status: z.number().int().default(200),
    })
    .strict(),
]);
export type DoneWhen = z.infer<typeof doneWhenSchema>;
