import type { ValidateAggregatesParams } from '../../runbook/actions/validate-aggregates.js';
import type { ActionImpl } from '../action.js';
import type { TableMapping } from '../etl/contracts.js';
import { sessionZone } from '../etl/conversion-options.js';
import type { SchemaModel } from '../schema/model.js';
import { compareAggregates, type AggregateRow } from '../validate/aggregate-compare.js';
import { mssqlAggregateSql, planAggregates, postgresAggregateSql, type ColumnAggregatePlan } from '../validate/aggregate-sql.js';
import type { ValidationItem } from '../validate/contracts.js';
import { asText } from '../validate/mssql-validation-source.js';
import { finishValidation } from '../validate/outcome.js';
import { mappingsOf, openMssqlValidationSource, readOnly, subjectOf, withSource, type ValidationSourceFactory } from './validate-sources.js';

/** The source side's aggregate SELECT; SQL Server's by default, replaceable so a test can stand another database in. */
export type SourceAggregateSql = (table: TableMapping, plan: ColumnAggregatePlan[]) => string;

/**
 * Per column, computed inside each database: non-null count, min, max and the
 * sum of numeric columns, compared type-aware (exact decimals, floats within
 * their precision, times after the ETL's rounding and time-zone rule).
 */
export function validateAggregatesAction(open: ValidationSourceFactory = openMssqlValidationSource, sourceSql: SourceAggregateSql = mssqlAggregateSql): ActionImpl<ValidateAggregatesParams> {
  return {
    id: 'validate.aggregates',
    async run(ctx, params) {
      const startedAt = Date.now();
      const pool = ctx.connections.postgres(params.target);
      const zone = sessionZone(params);
      return withSource(ctx, open, params.source, async (source) => {
        const model = await source.introspect();
        const tables = mappingsOf(model, params).map((t) => selectColumns(t, params.columns)).filter((t) => t.columns.length > 0);
        const items: ValidationItem[] = [];
        for (const [i, t] of tables.entries()) {
          ctx.progress(`aggregating ${subjectOf(t)} (${i + 1}/${tables.length})`);
          const plan = planAggregates(t, collationsOf(model, t), { zone });
          const sourceRow: AggregateRow = (await source.query(sourceSql(t, plan)))[0] ?? {};
          const targetRow = asText((await readOnly(pool, (q) => q(postgresAggregateSql(t, plan, { zone }))))[0] ?? {});
          items.push(itemFor(t, plan, sourceRow, targetRow, params.strict));
        }
        return finishValidation(ctx, { check: 'aggregates', noun: 'tables', items, startedAt });
      });
    },
  };
}

function itemFor(t: TableMapping, plan: ColumnAggregatePlan[], sourceRow: AggregateRow, targetRow: AggregateRow, strict: boolean): ValidationItem {
  const { differences, notComparable, columns } = compareAggregates(plan, sourceRow, targetRow);
  const shown = differences.slice(0, 5).map((d) => `${d.column} ${d.stat}: source ${d.source ?? 'NULL'} ≠ target ${d.target ?? 'NULL'}`);
  const figures = { columns, differences: differences.slice(0, 20), notComparable };
  if (differences.length > 0) {
    return { subject: subjectOf(t), verdict: 'red', message: `${differences.length} differing figure(s): ${shown.join('; ')}`, figures };
  }
  const note = notComparable.length > 0 ? `; min/max not compared for ${notComparable.length} column(s) (${notComparable.slice(0, 2).join('; ')})` : '';
  return { subject: subjectOf(t), verdict: strict && notComparable.length > 0 ? 'amber' : 'green', message: `${columns} columns agree${note}`, figures };
}

/** The runbook's column filter: keys "dbo.Antrag" or "Antrag", values source column names; case-insensitive like SQL Server. */
function selectColumns(t: TableMapping, filter: Record<string, string[]> | undefined): TableMapping {
  if (!filter) return t;
  const lower = (s: string) => s.toLowerCase();
  const wanted = Object.entries(filter).find(([k]) => [lower(`${t.source.schema}.${t.source.name}`), lower(t.source.name)].includes(lower(k)))?.[1];
  if (!wanted) return { ...t, columns: [] };
  const names = new Set(wanted.map(lower));
  return { ...t, columns: t.columns.filter((c) => names.has(lower(c.source))) };
}

function collationsOf(model: SchemaModel, t: TableMapping): Record<string, string | null> {
  const table = model.tables.find((x) => x.schema === t.source.schema && x.name === t.source.name);
  return Object.fromEntries((table?.columns ?? []).map((c) => [c.name, c.collation ?? model.collation]));
}
