import type { ValidateTotalsParams } from '../../runbook/validate-action-params.js';
import type { ActionImpl } from '../action.js';
import type { ValidationItem } from '../validate/contracts.js';
import { asText } from '../validate/mssql-validation-source.js';
import { finishValidation } from '../validate/outcome.js';
import { totalFigures } from '../validate/verdicts.js';
import { firstValue, openMssqlValidationSource, readOnly, withSource, type ValidationSourceFactory } from './validate-sources.js';

/**
 * Named business totals (seed 002's key_totals): one query per side, each
 * returning one value, compared exactly after numeric normalisation. The
 * item figures are seed 002's { source_count, target_count, match }.
 */
export function validateTotalsAction(open: ValidationSourceFactory = openMssqlValidationSource): ActionImpl<ValidateTotalsParams> {
  return {
    id: 'validate.totals',
    async run(ctx, params) {
      const startedAt = Date.now();
      const pool = ctx.connections.postgres(params.target);
      const items = await withSource(ctx, open, params.source, async (source) => {
        const out: ValidationItem[] = [];
        for (const t of params.totals) {
          ctx.progress(`total ${t.name}`);
          const s = firstValue(await source.query(t.source_sql));
          const g = firstValue(await readOnly(pool, async (q) => (await q(t.target_sql)).map(asText)));
          const f = totalFigures(s, g);
          out.push({
            subject: t.name,
            verdict: f.match ? 'green' : 'red',
            message: f.match ? `source ${f.source_count} = target ${f.target_count}` : `source ${f.source_count ?? 'NULL'} ≠ target ${f.target_count ?? 'NULL'}`,
            figures: f,
          });
        }
        return out;
      });
      const key_totals = Object.fromEntries(items.map((i) => [i.subject, i.figures]));
      return finishValidation(ctx, { check: 'totals', noun: 'totals', items, startedAt, extra: { key_totals } });
    },
  };
}
