import { z } from 'zod';
import { connectionName, httpParams, shellParams, sqlParams, type HttpParams, type ShellParams, type SqlParams } from './command-action-params.js';

export { httpParams, shellParams, sqlParams, type HttpParams, type ShellParams, type SqlParams };
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
   * What the worker does with a step this action was running when a worker
   * died (or lost the job's lock): docs/crash-recovery.md has the table.
   */
  recovery: (params: P) => CrashRecovery;
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
   * The snapshot directory the params read (`snapshot:`) or hold (the `dir:`
   * of extract, load and snapshot.verify). Checked at load: every directory
   * read is one a step of the runbook holds, so a typo is not found mid-night.
   */
  snapshot?: (params: P) => SnapshotRef | null;
  /**
   * The action that undoes this step, when these params change something
   * outside the target (freeze.source → unfreeze.source). Every rollback
   * scenario must then hold a step of that action naming this step, or the
   * runbook does not load.
   */
  compensation?: (params: P) => { action: string; field: string } | null;
}

/**
 * Whether a step found "running" after a crash may run again, and why.
 * - ledger: the effect commits in one transaction with its row in the effect
 *   ledger on `connection`; the worker asks the ledger, and a committed effect
 *   is reported, never run again.
 * - resumes: the action keeps its own ledger (chunk checkpoints, sync marks, a
 *   committed switch flip) and a re-run continues where the first stopped.
 * - rerun: running it again is harmless (it only reads, or writes a new file).
 * - ask: a re-run could do it twice; only the step's done_when probe may
 *   decide, otherwise the step stops for a person (Retry or Skip) with `why`.
 */
export type CrashRecovery =
  | { kind: 'ledger'; connection: string }
  | { kind: 'resumes'; why: string }
  | { kind: 'rerun'; why: string }
  | { kind: 'ask'; why: string };

const rerun = (why: string) => (): CrashRecovery => ({ kind: 'rerun', why });
const READS_ONLY = rerun('it only reads');

/** A snapshot directory named in a step's params: `holds` for the step that writes, loads or verifies it. */
export interface SnapshotRef {
  field: string;
  dir: string;
  holds: boolean;
}

const readsSnapshot = (p: { snapshot?: string | undefined }): SnapshotRef | null => (p.snapshot === undefined ? null : { field: 'snapshot', dir: p.snapshot, holds: false });
const holdsSnapshot = (p: { dir: string }): SnapshotRef => ({ field: 'dir', dir: p.dir, holds: true });

/** A step named in another step's params. */
export interface StepRef {
  /** The params field holding the id, for the problem's path. */
  field: string;
  stepId: string;
  actions: string[];
  /** The named step must be a forward step before the referring one. */
  earlier: boolean;
  /** Instead: the named step must come before the referring one in the same rollback scenario. */
  inScenario?: boolean;
}

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
    recovery: (p: SqlParams): CrashRecovery =>
      p.transaction
        ? { kind: 'ledger', connection: p.connection }
        : { kind: 'ask', why: 'it runs without a transaction (transaction: false), so a re-run could apply part of it twice' },
    connections: (p: SqlParams) => [p.connection],
  } satisfies ActionSpec<SqlParams>,
  shell: {
    id: 'shell',
    summary: 'run a program with arguments from the runbook (never from chat)',
    params: shellParams,
    recovery: (p: ShellParams): CrashRecovery =>
      p.idempotent ? { kind: 'rerun', why: 'the runbook marks the command idempotent' } : { kind: 'ask', why: 'a command may have taken effect before the worker stopped, and it is not marked idempotent' },
    connections: () => [],
  } satisfies ActionSpec<ShellParams>,
  http: {
    id: 'http',
    summary: 'make an HTTP request and check its status',
    params: httpParams,
    recovery: (p: HttpParams): CrashRecovery =>
      p.method === 'GET' || p.method === 'HEAD' ? { kind: 'rerun', why: `${p.method} changes nothing` } : { kind: 'ask', why: `a ${p.method} request may have taken effect before the worker stopped` },
    connections: () => [],
  } satisfies ActionSpec<HttpParams>,
  manual: {
    id: 'manual',
    summary: 'a checklist item: its approval is its completion',
    params: manualParams,
    recovery: rerun('a checklist item has no effect of its own'),
    connections: () => [],
  } satisfies ActionSpec<ManualParams>,
  'schema.convert': {
    id: 'schema.convert',
    summary: 'introspect SQL Server and report the PostgreSQL schema it converts to (writes nothing)',
    params: schemaConvertParams,
    recovery: READS_ONLY,
    connections: (p: SchemaConvertParams) => [p.source],
  } satisfies ActionSpec<SchemaConvertParams>,
  'schema.apply': {
    id: 'schema.apply',
    summary: 'create the converted tables (pre-load) or their keys, indexes, checks and foreign keys (post-load)',
    params: schemaApplyParams,
    // pre-load commits in one transaction (with its ledger row); post-load builds indexes on several connections, each statement committing alone.
    recovery: (p: SchemaApplyParams): CrashRecovery =>
      p.phase === 'pre-load'
        ? { kind: 'ledger', connection: p.target }
        : { kind: 'ask', why: 'post-load statements commit one by one on several connections, so a re-run would meet the keys and indexes the first run built' },
    connections: (p: SchemaApplyParams) => [p.target, ...(p.source ? [p.source] : [])],
    snapshot: readsSnapshot,
  } satisfies ActionSpec<SchemaApplyParams>,
  'etl.copy': {
    id: 'etl.copy',
    watchHealth: true,
    summary: 'stream tables from SQL Server into PostgreSQL with COPY, checkpointed per chunk',
    params: etlCopyParams,
    recovery: () => ({ kind: 'resumes', why: 'each chunk commits with its checkpoint; a re-run skips the booked chunks' }),
    connections: (p: EtlCopyParams) => [p.source, p.target],
  } satisfies ActionSpec<EtlCopyParams>,
  'etl.sync': {
    id: 'etl.sync',
    watchHealth: true,
    summary: 'copy rows changed since the last high-water mark (upsert by key) and remove rows deleted at the source',
    params: etlSyncParams,
    recovery: () => ({ kind: 'resumes', why: 'each table\'s window commits with its high-water mark; a re-run replays an uncommitted window (upserts), never skips one' }),
    connections: (p: EtlSyncParams) => [p.source, p.target],
  } satisfies ActionSpec<EtlSyncParams>,
  extract: {
    id: 'extract',
    watchHealth: true,
    summary: 'write a verified snapshot of SQL Server tables to a directory (first hop of a two-hop load)',
    params: extractParams,
    recovery: rerun('it only reads the source; each snapshot file is written under a temporary name and renamed once complete'),
    connections: (p: ExtractParams) => [p.source],
    snapshot: holdsSnapshot,
  } satisfies ActionSpec<ExtractParams>,
  load: {
    id: 'load',
    watchHealth: true,
    summary: 'verify a snapshot directory and load it into PostgreSQL, checkpointed per chunk',
    params: loadParams,
    recovery: () => ({ kind: 'resumes', why: 'each chunk commits with its checkpoint; a re-run skips the booked chunks' }),
    connections: (p: LoadParams) => [p.target],
    snapshot: holdsSnapshot,
  } satisfies ActionSpec<LoadParams>,
  'snapshot.verify': {
    id: 'snapshot.verify',
    summary: 'check every file of a snapshot directory against its manifest (sha256, and row counts and row hashes)',
    params: snapshotVerifyParams,
    recovery: READS_ONLY,
    connections: () => [],
    snapshot: holdsSnapshot,
  } satisfies ActionSpec<SnapshotVerifyParams>,
  'validate.counts': {
    id: 'validate.counts',
    watchHealth: true,
    summary: 'exact row counts per mapped table, source against target, the load\'s quarantine counted',
    params: validateCountsParams,
    recovery: READS_ONLY,
    connections: (p: ValidateCountsParams) => [p.target, ...(p.source ? [p.source] : [])],
    snapshot: readsSnapshot,
    // The step whose chunk bookkeeping holds loaded + quarantined: a load of a missing or later step would count nothing.
    stepRefs: (p: ValidateCountsParams) => (p.load_step === undefined ? [] : [{ field: 'load_step', stepId: p.load_step, actions: ['etl.copy', 'load'], earlier: true }]),
  } satisfies ActionSpec<ValidateCountsParams>,
  'validate.aggregates': {
    id: 'validate.aggregates',
    watchHealth: true,
    summary: 'per column non-null count, min, max and sum computed in both databases and compared',
    params: validateAggregatesParams,
    recovery: READS_ONLY,
    connections: (p: ValidateAggregatesParams) => [p.source, p.target],
  } satisfies ActionSpec<ValidateAggregatesParams>,
  'validate.integrity': {
    id: 'validate.integrity',
    watchHealth: true,
    summary: 'orphaned foreign keys, duplicate keys, NOT NULL and CHECK violations in the target',
    params: validateIntegrityParams,
    recovery: READS_ONLY,
    connections: (p: ValidateIntegrityParams) => [p.target, ...(p.source ? [p.source] : [])],
    snapshot: readsSnapshot,
  } satisfies ActionSpec<ValidateIntegrityParams>,
  'validate.rules': {
    id: 'validate.rules',
    watchHealth: true,
    summary: 'data-quality rules (ERROR / WARNING with thresholds) with counts and masked examples',
    params: validateRulesParams,
    recovery: READS_ONLY,
    connections: (p: ValidateRulesParams) => [...(p.target ? [p.target] : []), ...(p.source ? [p.source] : [])],
  } satisfies ActionSpec<ValidateRulesParams>,
  'validate.totals': {
    id: 'validate.totals',
    watchHealth: true,
    summary: 'named business totals, one query per side, compared exactly',
    params: validateTotalsParams,
    recovery: READS_ONLY,
    connections: (p: ValidateTotalsParams) => [p.source, p.target],
  } satisfies ActionSpec<ValidateTotalsParams>,
  'validate.checksums': {
    id: 'validate.checksums',
    watchHealth: true,
    summary: 'row hashes over canonical text per key segment in both databases, bisected down to the differing keys',
    params: checksumParams,
    recovery: READS_ONLY,
    connections: (p: ChecksumParams) => [p.target, ...(p.source ? [p.source] : [])],
    snapshot: readsSnapshot,
  } satisfies ActionSpec<ChecksumParams>,
  'backup.postgres': {
    id: 'backup.postgres',
    watchHealth: true,
    summary: 'pg_dump -Fc of the target (database or schemas) to a file with its sha256, verified with pg_restore --list',
    params: backupPostgresParams,
    recovery: rerun('a re-run writes another dump under a new name; a file is listed only once verified'),
    connections: (p: BackupPostgresParams) => [p.connection],
  } satisfies ActionSpec<BackupPostgresParams>,
  'backup.mssql': {
    id: 'backup.mssql',
    watchHealth: true,
    summary: 'BACKUP DATABASE … WITH COPY_ONLY, CHECKSUM, then RESTORE VERIFYONLY; reports the log-chain check',
    params: backupMssqlParams,
    recovery: rerun('a re-run writes another COPY_ONLY backup under a new name, which leaves the log chain alone'),
    connections: (p: BackupMssqlParams) => [p.connection],
  } satisfies ActionSpec<BackupMssqlParams>,
  switch: {
    id: 'switch',
    summary: 'flip the application to PostgreSQL (shell, http or sql), record the go-live time, run the smoke checks',
    params: switchParams,
    // A transactional sql flip commits with its ledger row: the action skips a committed flip. Any other flip only a done_when probe can judge.
    recovery: (p: SwitchParams): CrashRecovery =>
      p.flip.action === 'sql' && p.flip.params.transaction
        ? { kind: 'resumes', why: 'the flip commits with its row in the effect ledger; a re-run skips a committed flip and runs the smoke checks again' }
        : { kind: 'ask', why: `the ${p.flip.action} flip may have happened before the worker stopped` },
    connections: (p: SwitchParams) => switchConnections(p),
  } satisfies ActionSpec<SwitchParams>,
  'rollback.truncate_loaded': {
    id: 'rollback.truncate_loaded',
    summary: 'pre-go-live rollback: truncate exactly the tables this run loaded, keeping the schema',
    params: truncateLoadedParams,
    recovery: (p: TruncateLoadedParams): CrashRecovery => ({ kind: 'ledger', connection: p.target }),
    connections: (p: TruncateLoadedParams) => [p.target],
  } satisfies ActionSpec<TruncateLoadedParams>,
  'rollback.verify_source': {
    id: 'rollback.verify_source',
    summary: 'check that the source database still answers a query (and, after a replay, holds the rows the target held)',
    params: verifySourceParams,
    recovery: READS_ONLY,
    connections: (p: VerifySourceParams) => [p.source],
    stepRefs: (p: VerifySourceParams) => (p.export_step ? [{ field: 'export_step', stepId: p.export_step, actions: ['rollback.export_since_golive'], earlier: false, inScenario: true }] : []),
  } satisfies ActionSpec<VerifySourceParams>,
  'rollback.export_since_golive': {
    id: 'rollback.export_since_golive',
    summary: 'post-go-live rollback: export rows written in PostgreSQL since go-live as a T-SQL replay script and CSVs',
    params: exportSinceGoliveParams,
    recovery: rerun('it only reads the target; each file is written under a temporary name and renamed once complete, so a re-run rewrites the same files'),
    connections: (p: ExportSinceGoliveParams) => [p.target, ...(p.source ? [p.source] : [])],
  } satisfies ActionSpec<ExportSinceGoliveParams>,
  'restore.postgres': {
    id: 'restore.postgres',
    watchHealth: true,
    summary: 'emergency rollback: verify a pg_dump backup, restore it with pg_restore --clean, count the restored rows',
    params: restorePostgresParams,
    recovery: () => ({ kind: 'ask', why: 'pg_restore --clean replaces what it restores: a second restore would drop anything written since the first' }),
    connections: (p: RestorePostgresParams) => [p.target],
  } satisfies ActionSpec<RestorePostgresParams>,
  'freeze.source': {
    id: 'freeze.source',
    summary: 'list the sessions on the source; with set_read_only: true freeze it (READ_ONLY, or the runbook\'s statements) and prove it with a write probe',
    params: freezeSourceParams,
    // Nothing "adopts" a freeze: a re-run applies it again. The built-in freeze sets the same settings again; the runbook's own statements may not bear that.
    recovery: (p: FreezeSourceParams): CrashRecovery =>
      p.statements !== undefined || p.file !== undefined
        ? { kind: 'ask', why: 'it runs the runbook\'s own freeze statements, which may not be safe to run twice (a done_when probe such as its verify_sql lets a re-run skip a freeze that happened)' }
        : { kind: 'rerun', why: p.set_read_only ? 'a re-run sets the same read-only settings and disabled logins again, ends the sessions opened since, and proves the freeze again' : 'it only lists the sessions' },
    connections: (p: FreezeSourceParams) => [p.connection],
    compensation: (p: FreezeSourceParams) => (freezeChangesSource(p) ? { action: 'unfreeze.source', field: 'freeze_step' } : null),
  } satisfies ActionSpec<FreezeSourceParams>,
  'unfreeze.source': {
    id: 'unfreeze.source',
    summary: 'undo a freeze.source step: the source database read-write and its application logins enabled again, proven by a write probe',
    params: unfreezeSourceParams,
    // A rollback must get the source back without waiting for a person; the runbook's undo statements are therefore required to bear a second run (docs/crash-recovery.md).
    recovery: rerun('a re-run puts the source back in service again: the built-in undo sets the same settings again, the runbook\'s undo statements run again, and the result is proven again'),
    // The connection is the freeze step's, checked there.
    connections: () => [],
    stepRefs: (p: UnfreezeSourceParams) => [{ field: 'freeze_step', stepId: p.freeze_step, actions: ['freeze.source'], earlier: false }],
  } satisfies ActionSpec<UnfreezeSourceParams>,
  // Not health-watched: a few timed reads on the source before the window, not long database work.
  'baseline.queries': {
    id: 'baseline.queries',
    summary: 'time the runbook\'s critical queries on the source (warm-up, median of several runs) and record their plans as the baseline',
    params: baselineQueriesParams,
    recovery: READS_ONLY,
    connections: (p: BaselineQueriesParams) => [p.source],
  } satisfies ActionSpec<BaselineQueriesParams>,
  'validate.queries': {
    id: 'validate.queries',
    summary: 'time the critical queries on PostgreSQL with EXPLAIN (ANALYZE, BUFFERS) and compare with the source baseline (amber beyond the tolerance)',
    params: validateQueriesParams,
    recovery: rerun('each timed query runs in a READ ONLY transaction that is rolled back'),
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
