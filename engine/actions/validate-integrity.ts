import type { ValidateIntegrityParams } from '../../runbook/actions/validate-integrity.js';
import type { ActionContext, ActionImpl } from '../action.js';
import type { TableMapping } from '../etl/contracts.js';
import type { SchemaModel } from '../schema/model.js';
import { SnapshotSource } from '../snapshot/reader.js';
import { constraintItems, mappingItems } from '../validate/integrity-checks.js';
import { finishValidation } from '../validate/outcome.js';
import { mappingsOf, openMssqlValidationSource, readOnly, withSource, type ValidationSourceFactory } from './validate-sources.js';

/**
 * Orphaned foreign keys, CHECK violations (NOT VALID constraints included),
 * and — given the source catalog — duplicate keys and NULLs where the target
 * could not create the key or NOT NULL the source had. Red on any violation.
 */
export function validateIntegrityAction(open: ValidationSourceFactory = openMssqlValidationSource): ActionImpl<ValidateIntegrityParams> {
  return {
    id: 'validate.integrity',
    async run(ctx, params) {
      const startedAt = Date.now();
      const model = await sourceModel(ctx, params, open);
      const tables = model ? mappingsOf(model, { ...params, target_schema: params.schema }) : [];
      const items = await readOnly(ctx.connections.postgres(params.target), async (q) => {
        ctx.progress(`checking foreign keys and checks in ${params.schema}`);
        const constraints = await constraintItems(q, params.schema);
        ctx.progress(`checking mapped keys and NOT NULL columns of ${tables.length} tables`);
        return [...constraints, ...(model ? await mappingItems(q, tables, (t) => uniquesOf(model, t)) : [])];
      });
      return finishValidation(ctx, { check: 'integrity', noun: 'constraints', items, startedAt });
    },
  };
}

async function sourceModel(ctx: ActionContext, params: ValidateIntegrityParams, open: ValidationSourceFactory): Promise<SchemaModel | null> {
  if (params.snapshot) return (await SnapshotSource.open(params.snapshot)).introspect();
  if (params.source) return withSource(ctx, open, params.source, (s) => s.introspect());
  return null;
}

/** Unique constraints of the source table other than its mapped key (source column names). */
function uniquesOf(model: SchemaModel, t: TableMapping): string[][] {
  const table = model.tables.find((x) => x.schema === t.source.schema && x.name === t.source.name);
  const key = (t.key?.columns ?? []).join('\u0000');
  return (table?.uniques ?? []).map((u) => u.columns).filter((cols) => cols.join('\u0000') !== key);
}
