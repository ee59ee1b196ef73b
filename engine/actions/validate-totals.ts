import type { ValidateTotalsParams } from '../../runbook/actions/validate-totals.js';
import type { ActionImpl } from '../action.js';
import type { ValidationItem } from '../validate/contracts.js';
import { asText } from '../validate/mssql-validation-source.js';
import { finishValidation } from '../validate/outcome.js';
import { totalFigures } from '../validate/verdicts.js';
import { firstValue, openMssqlValidationSource, readOnly, withSource, type ValidationSourceFactory } from './validate-sources.js';

/**
 * Named business totals (seed 002's key_totals): one query per side, each
 * returning one value, compared exactly after numeric normalisation. The
 * item figures are seed 002's { source_count, target_count, match }. The
 * source is SQL Server, or a PostgreSQL connection (read-only transaction).
 */
export function validateTotalsAction(open: ValidationSourceFactory = openMssqlValidationSource): ActionImpl<ValidateTotalsParams> {
  return {
    id: 'validate.totals',
    async run(ctx, params) {
      const startedAt = Date.now();
      const pool = ctx.connections.postgres(params.target);
      const targetQuery = async (sql: string) => readOnly(pool, async (q) => (await q(sql)).map(asText));
      const compare = async (sourceQuery: (sql: string) => Promise<Array<Record<string, string | null>>>): Promise<ValidationItem[]> => {
        const out: ValidationItem[] = [];
        for (const t of params.totals) {
          ctx.progress(`total ${t.name}`);
          const f = totalFigures(firstValue(await sourceQuery(t.source_sql)), firstValue(await targetQuery(t.target_sql)));
          out.push({
            subject: t.name,
            verdict: f.match ? 'green' : 'red',
            message: f.match ? `source ${f.source_count} = target ${f.target_count}` : `source ${f.source_count ?? 'NULL'} ≠ target ${f.target_count ?? 'NULL'}`,
            figures: f,
          });
        }
        return out;
      };
      // A PostgreSQL source is the legacy data as staged there (seed 000: staging against the transformed tables).
      const items =
        ctx.connections.names().includes(params.source) && ctx.connections.kind(params.source) === 'postgres'
          ? await compare((sql) => readOnly(ctx.connections.postgres(params.source), async (q) => (await q(sql)).map(asText)))
          : await withSource(ctx, open, params.source, (source) => compare((sql) => source.query(sql, { exact: true })));
      const key_totals = Object.fromEntries(items.map((i) => [i.subject, i.figures]));
      return finishValidation(ctx, { check: 'totals', noun: 'totals', items, startedAt, extra: { key_totals } });
    },
  };
}
