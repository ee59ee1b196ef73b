import { ACTIONS, type ActionId, type ParamsOf } from '../../runbook/action-catalog.js';
import { CutoverError } from '../../runbook/errors.js';
import type { ActionImpl } from '../action.js';
import type { ConnectionOpener } from '../connections.js';
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
 * One implementation per catalog id, taking the params its spec's schema
 * parses: a spec without an implementation, or an implementation of an id the
 * catalog lacks, fails tsc (and catalogMismatches, at boot).
 */
type CatalogImpls = { readonly [Id in ActionId]: ActionImpl<ParamsOf<Id>> };

/** Implementations by action id as the step runner looks them up: ids come from runbooks, and tests hand in a few fakes. */
export type ActionImpls = Readonly<Record<string, ActionImpl<unknown>>>;

/** What the process that runs steps (app/, local/, cli/) builds the engine's actions with. */
export interface ActionDeps {
  /** How a step job opens its runbook's connections: the production opener, or in tests one that never connects. */
  connections: ConnectionOpener;
}

/** The engine's actions and the connections they are handed: what the step runner needs besides the run. */
export interface EngineActions {
  impls: ActionImpls;
  connections: ConnectionOpener;
}

/**
 * Builds the engine's actions, once per process, and checks them against the
 * catalog: a runbook validated against the catalog must never name an action
 * the engine lacks, so a mismatch stops the process at boot.
 */
export function createActions(deps: ActionDeps): EngineActions {
  const impls = buildImpls();
  const problems = catalogMismatches(impls);
  if (problems.length > 0) throw new CutoverError('engine.catalog', `engine actions out of sync with the catalog: ${problems.join('; ')}`);
  return { impls, connections: deps.connections };
}

function buildImpls(): CatalogImpls {
  return {
    sql: sqlAction,
    shell: shellAction,
    http: httpAction,
    manual: manualAction,
    'schema.convert': schemaConvertAction(),
    'schema.apply': schemaApplyAction(),
    'etl.copy': etlCopyAction(),
    'etl.sync': etlSyncAction(),
    extract: extractAction(),
    load: loadAction,
    'snapshot.verify': snapshotVerifyAction,
    'validate.counts': validateCountsAction(),
    'validate.aggregates': validateAggregatesAction(),
    'validate.integrity': validateIntegrityAction(),
    'validate.rules': validateRulesAction(),
    'validate.totals': validateTotalsAction(),
    'validate.checksums': validateChecksumsAction(),
    'backup.postgres': backupPostgresAction,
    'backup.mssql': backupMssqlAction,
    switch: switchAction(),
    'rollback.truncate_loaded': rollbackTruncateAction,
    'rollback.verify_source': rollbackVerifySourceAction,
    'rollback.export_since_golive': rollbackExportAction({ goLiveAt: async (ctx) => ctx.goLiveAt }),
    'restore.postgres': restorePostgresAction,
    'freeze.source': freezeSourceAction(),
    'unfreeze.source': unfreezeSourceAction(),
    'baseline.queries': baselineQueriesAction(),
    'validate.queries': validateQueriesAction(),
  };
}

/** Catalog ids that have no implementation (and implementations the catalog does not know); empty when in sync. */
export function catalogMismatches(impls: ActionImpls): string[] {
  const missing = Object.keys(ACTIONS).filter((id) => !Object.hasOwn(impls, id)).map((id) => `no implementation for "${id}"`);
  const extra = Object.keys(impls).filter((id) => !Object.hasOwn(ACTIONS, id)).map((id) => `"${id}" is not in the catalog`);
  return [...missing, ...extra];
}

/** The implementation for an action id, or null: ids come from runbooks, so `toString` must not count as one. */
export function actionImplOf(impls: ActionImpls, id: string): ActionImpl<unknown> | null {
  return Object.hasOwn(impls, id) ? (impls[id] ?? null) : null;
}
