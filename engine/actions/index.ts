import { ACTIONS } from '../../runbook/action-catalog.js';
import { CutoverError } from '../../runbook/errors.js';
import type { ActionImpl } from '../action.js';
import { httpAction } from './http.js';
import { manualAction } from './manual.js';
import { shellAction } from './shell.js';
import { sqlAction } from './sql.js';
import { etlCopyAction } from './etl-copy.js';
import { etlSyncAction } from './etl-sync.js';
import { extractAction } from './extract.js';
import { loadAction } from './load.js';
import { snapshotVerifyAction } from './snapshot-verify.js';
import { schemaApplyAction } from './schema-apply.js';
import { schemaConvertAction } from './schema-convert.js';
import { validateAggregatesAction } from './validate-aggregates.js';
import { validateChecksumsAction } from './validate-checksums.js';
import { validateCountsAction } from './validate-counts.js';
import { validateIntegrityAction } from './validate-integrity.js';
import { validateRulesAction } from './validate-rules.js';
import { validateTotalsAction } from './validate-totals.js';
import { backupMssqlAction } from './backup-mssql.js';
import { backupPostgresAction } from './backup-postgres.js';
import { restorePostgresAction } from './restore-postgres.js';
import { rollbackExportAction } from './rollback-export.js';
import { rollbackTruncateAction } from './rollback-truncate.js';
import { rollbackVerifySourceAction } from './rollback-verify-source.js';
import { switchAction } from './switch.js';
import { freezeSourceAction } from './freeze-source.js';
import { unfreezeSourceAction } from './unfreeze-source.js';
import { baselineQueriesAction } from './baseline-queries.js';
import { validateQueriesAction } from './validate-queries.js';

/**
 * Engine implementations keyed by the action ids of runbook/action-catalog.ts.
 * Typed `any` like the catalog: params are parsed by the catalog schema of the same id before run.
 */
export const ACTION_IMPLS: Record<string, ActionImpl<any>> = {
  [sqlAction.id]: sqlAction,
  [shellAction.id]: shellAction,
  [httpAction.id]: httpAction,
  [manualAction.id]: manualAction,
  'schema.convert': schemaConvertAction(),
  'schema.apply': schemaApplyAction(),
  'etl.copy': etlCopyAction(),
  'etl.sync': etlSyncAction(),
  extract: extractAction(),
  [loadAction.id]: loadAction,
  [snapshotVerifyAction.id]: snapshotVerifyAction,
  'validate.counts': validateCountsAction(),
  'validate.aggregates': validateAggregatesAction(),
  'validate.integrity': validateIntegrityAction(),
  'validate.rules': validateRulesAction(),
  'validate.totals': validateTotalsAction(),
  'validate.checksums': validateChecksumsAction(),
  [backupPostgresAction.id]: backupPostgresAction,
  [backupMssqlAction.id]: backupMssqlAction,
  switch: switchAction(),
  [rollbackTruncateAction.id]: rollbackTruncateAction,
  [rollbackVerifySourceAction.id]: rollbackVerifySourceAction,
  'rollback.export_since_golive': rollbackExportAction({ goLiveAt: async (ctx) => ctx.goLiveAt }),
  [restorePostgresAction.id]: restorePostgresAction,
  'freeze.source': freezeSourceAction(),
  'unfreeze.source': unfreezeSourceAction(),
  'baseline.queries': baselineQueriesAction(),
  'validate.queries': validateQueriesAction(),
};

/** Catalog ids that have no implementation (and implementations the catalog does not know); empty when in sync. */
export function catalogMismatches(): string[] {
  const missing = Object.keys(ACTIONS).filter((id) => !Object.hasOwn(ACTION_IMPLS, id)).map((id) => `no implementation for "${id}"`);
  const extra = Object.keys(ACTION_IMPLS).filter((id) => !Object.hasOwn(ACTIONS, id)).map((id) => `"${id}" is not in the catalog`);
  return [...missing, ...extra];
}

/** Called once at worker boot: a runbook validated against the catalog must never name an action the engine lacks. */
export function assertCatalogImplemented(): void {
  const problems = catalogMismatches();
  if (problems.length > 0) throw new CutoverError('engine.catalog', `engine actions out of sync with the catalog: ${problems.join('; ')}`);
}

/** The implementation for an action id, or a CutoverError naming the id. */
export function actionImpl(id: string): ActionImpl<unknown> {
  const impl = Object.hasOwn(ACTION_IMPLS, id) ? ACTION_IMPLS[id] : undefined;
  if (!impl) throw new CutoverError('engine.unknown_action', `the engine has no action "${id}"`);
  return impl;
}
