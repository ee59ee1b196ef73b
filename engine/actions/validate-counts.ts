import type pg from 'pg';
import type { ValidateCountsParams } from '../../runbook/actions/validate-counts.js';
import type { ActionImpl } from '../action.js';
import type { TableMapping } from '../etl/contracts.js';
import { reconcileCounts } from '../etl/load-tables.js';
import { quoteQualified } from '../schema/naming.js';
import { SnapshotSource } from '../snapshot/reader.js';
import type { ValidationItem } from '../validate/contracts.js';
import { finishValidation } from '../validate/outcome.js';
import { mappingsOf, openMssqlValidationSource, subjectOf, withSource, type ValidationSourceFactory } from './validate-sources.js';

interface SourceCounts {
  tables: TableMapping[];
  count: (t: TableMapping) => Promise<number>;
}

/**
 * Exact row counts per mapped table, source against target. With load_step,
 * the load's bookkeeping must account for every source row:
 * source = loaded + quarantined, and the target holds exactly the loaded rows.
 */
export function validateCountsAction(open: ValidationSourceFactory = openMssqlValidationSource): ActionImpl<ValidateCountsParams> {
  return {
    id: 'validate.counts',
    async run(ctx, params) {
      const startedAt = Date.now();
      const pool = ctx.connections.postgres(params.target);
      const check = async (source: SourceCounts) => {
        const items: ValidationItem[] = [];
        const books = params.load_step ? await reconcileCounts(pool, source.tables, `${ctx.runId}/${params.load_step}`, params.bookkeeping_schema) : null;
        for (const [i, t] of source.tables.entries()) {
          ctx.progress(`counting ${subjectOf(t)} (${i + 1}/${source.tables.length})`);
          const sourceRows = await source.count(t);
          items.push(books ? booked(t, sourceRows, books[i]) : await plain(pool, t, sourceRows));
        }
        return finishValidation(ctx, { check: 'counts', noun: 'tables', items, startedAt });
      };
      if (params.snapshot) {
        const snap = await SnapshotSource.open(params.snapshot);
        // `tables` as checksums reads it: a load split over steps is counted per group, each against its own load_step.
        const wanted = params.tables?.map((t) => t.toLowerCase());
        const tables = snap.tables().filter((t) => !wanted || wanted.includes(t.source.name.toLowerCase()) || wanted.includes(`${t.source.schema}.${t.source.name}`.toLowerCase()));
        return check({ tables, count: async (t) => snap.sourceRows(t) });
      }
      return withSource(ctx, open, params.source as string, async (s) => check({ tables: mappingsOf(await s.introspect(), params), count: (t) => s.count(t) }));
    },
  };
}

async function plain(pool: pg.Pool, t: TableMapping, sourceRows: number): Promise<ValidationItem> {
  const { rows } = await pool.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${quoteQualified(t.target.schema, t.target.name)}`);
  const targetRows = Number(rows[0]?.n ?? 0);
  const ok = targetRows === sourceRows;
  return {
    subject: subjectOf(t),
    verdict: ok ? 'green' : 'red',
    message: ok ? `source ${sourceRows} = target ${targetRows}` : `source ${sourceRows} ≠ target ${targetRows} (${signed(targetRows - sourceRows)})`,
    figures: { source: sourceRows, target: targetRows },
  };
}

type Books = Awaited<ReturnType<typeof reconcileCounts>>[number];

function booked(t: TableMapping, sourceRows: number, b: Books | undefined): ValidationItem {
  const loaded = b?.loadedRows ?? 0;
  const quarantined = b?.quarantined ?? 0;
  const targetRows = b?.targetRows ?? 0;
  const accounted = loaded + quarantined === sourceRows;
  const ok = accounted && targetRows === loaded;
  const problems = [
    ...(accounted ? [] : [`source ${sourceRows} ≠ loaded ${loaded} + quarantined ${quarantined}`]),
    ...(targetRows === loaded ? [] : [`target holds ${targetRows}, the load booked ${loaded} (${signed(targetRows - loaded)})`]),
  ];
  return {
    subject: subjectOf(t),
    verdict: ok ? 'green' : 'red',
    message: ok ? `source ${sourceRows} = loaded ${loaded} + quarantined ${quarantined}` : problems.join('; '),
    figures: { source: sourceRows, target: targetRows, loaded, quarantined },
  };
}

const signed = (n: number): string => (n > 0 ? `+${n}` : String(n));
