import { z } from 'zod';
import type { ActionSpec } from './actions/spec.js';
import { connectionName } from './actions/common-params.js';
import { sqlSpec } from './actions/sql.js';
import { shellSpec } from './actions/shell.js';
import { httpSpec } from './actions/http.js';
import { manualSpec } from './actions/manual.js';
import { schemaConvertSpec } from './actions/schema-convert.js';
import { schemaApplySpec } from './actions/schema-apply.js';
import { etlCopySpec } from './actions/etl-copy.js';
import { etlSyncSpec } from './actions/etl-sync.js';
import { extractSpec } from './actions/extract.js';
import { loadSpec } from './actions/load.js';
import { snapshotVerifySpec } from './actions/snapshot-verify.js';
import { validateCountsSpec } from './actions/validate-counts.js';
import { validateAggregatesSpec } from './actions/validate-aggregates.js';
import { validateIntegritySpec } from './actions/validate-integrity.js';
import { validateRulesSpec } from './actions/validate-rules.js';
import { validateTotalsSpec } from './actions/validate-totals.js';
import { validateChecksumsSpec } from './actions/validate-checksums.js';
import { backupPostgresSpec } from './actions/backup-postgres.js';
import { backupMssqlSpec } from './actions/backup-mssql.js';
import { switchSpec } from './actions/switch.js';
import { rollbackTruncateLoadedSpec } from './actions/rollback-truncate-loaded.js';
import { rollbackVerifySourceSpec } from './actions/rollback-verify-source.js';
import { rollbackExportSinceGoliveSpec } from './actions/rollback-export-since-golive.js';
import { restorePostgresSpec } from './actions/restore-postgres.js';
import { freezeSourceSpec } from './actions/freeze-source.js';
import { unfreezeSourceSpec } from './actions/unfreeze-source.js';
import { baselineQueriesSpec } from './actions/baseline-queries.js';
import { validateQueriesSpec } from './actions/validate-queries.js';

export type { ActionSpec, CrashRecovery, SnapshotRef } from './actions/spec.js';

/**
 * The vocabulary of actions a runbook may name, assembled from one file per
 * action (runbook/actions/<id>.ts: its params schema and spec). Pure, so a
 * runbook is fully validated at load time, by the bot as well as the worker.
 */
const SPECS = [
  sqlSpec,
  shellSpec,
  httpSpec,
  manualSpec,
  schemaConvertSpec,
  schemaApplySpec,
  etlCopySpec,
  etlSyncSpec,
  extractSpec,
  loadSpec,
  snapshotVerifySpec,
  validateCountsSpec,
  validateAggregatesSpec,
  validateIntegritySpec,
  validateRulesSpec,
  validateTotalsSpec,
  validateChecksumsSpec,
  backupPostgresSpec,
  backupMssqlSpec,
  switchSpec,
  rollbackTruncateLoadedSpec,
  rollbackVerifySourceSpec,
  rollbackExportSinceGoliveSpec,
  restorePostgresSpec,
  freezeSourceSpec,
  unfreezeSourceSpec,
  baselineQueriesSpec,
  validateQueriesSpec,
] as const;

type CatalogSpec = (typeof SPECS)[number];
/** Every action id of the catalog. */
export type ActionId = CatalogSpec['id'];
/** The params of an action once its schema parsed them (defaults filled in): what its engine implementation receives. */
export type ParamsOf<Id extends ActionId> = z.output<Extract<CatalogSpec, { id: Id }>['params']>;

/** The catalog by id, for runbooks: ids come from YAML, so a lookup takes any string (with Object.hasOwn). */
export const ACTIONS: Readonly<Record<string, ActionSpec<any>>> = Object.fromEntries(SPECS.map((spec) => [spec.id, spec]));

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
