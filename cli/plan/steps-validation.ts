import { quoteIdent as quoteMs } from '../../engine/mssql/select-list.js';
import { quoteIdent as quotePg } from '../../engine/schema/naming.js';
import { placeholder } from '../../runbook/placeholders.js';
import { FIXED_SECONDS, workSeconds } from './durations.js';
import type { PlannedTable } from './inventory.js';
import { DBA, LEAD, MERGE, ROLLBACK, type PlanContext, type Step } from './plan-context.js';
import { totalColumns } from './snapshot-totals.js';

/** Per group: counts and checksums; then integrity, the totals of every money/decimal column, the rules, and the gated sign-off. */

export function validations(ctx: PlanContext): Step[] {
  const rates = ctx.rates;
  const steps: Step[] = [];
  ctx.groups.forEach((group, i) => {
    steps.push(
      ctx.step(
        {
          id: ctx.groupId('counts', i),
          title: ctx.groupTitle(i, 'Row counts (source = loaded + quarantined)'),
          approve: DBA,
          action: 'validate.counts',
          params: { ...MERGE, ...ctx.tablesOf(i), ...ctx.from(), target: 'target', load_step: ctx.loadId(i) },
          skippable_by: [ROLLBACK],
        },
        workSeconds.counts(group, rates),
      ),
      ctx.step(
        {
          id: ctx.groupId('checksums', i),
          title: ctx.groupTitle(i, `Row checksums against the ${ctx.snapshot ? 'snapshot' : 'source'}`),
          approve: DBA,
          action: 'validate.checksums',
          params: { ...MERGE, ...ctx.tablesOf(i), ...ctx.from(), target: 'target', personal: personalColumns(group) },
          skippable_by: [ROLLBACK],
        },
        workSeconds.checksums(group, rates),
        { timeout: true },
      ),
    );
  });
  steps.push(
    ctx.step(
      {
        id: 'integrity',
        title: 'Integrity: orphaned foreign keys, duplicate keys, NOT NULL and CHECK violations',
        approve: DBA,
        action: 'validate.integrity',
        params: { naming: ctx.inv.naming, ...(ctx.inv.selection ? { tables: ctx.inv.selection } : {}), target: 'target', schema: ctx.inv.targetSchema, ...ctx.from() },
        skippable_by: [ROLLBACK],
      },
      workSeconds.integrity(ctx.inv.tables, rates),
      { timeout: true },
    ),
  );
  const sums = totals(ctx);
  if (sums) steps.push(sums);
  steps.push(
    ctx.step(
      {
        '#': 'Rules only a person can write (seed 000 4.1, e.g. { name, severity: ERROR, sql: SELECT key, column FROM … WHERE <violation> }; a WARNING needs of: the query counting all rows). Or remove this step.',
        id: 'rules',
        title: 'Data-quality rules (no ERROR, WARNING below 5 %)',
        approve: DBA,
        action: 'validate.rules',
        params: { target: 'target', rules: [placeholder('data-quality rules: name, sql returning the violating rows, severity ERROR or WARNING (and of: for a WARNING)')] },
        skippable_by: [ROLLBACK],
      },
      FIXED_SECONDS.rules,
    ),
    ctx.step(
      {
        id: 'signoff',
        title: 'Acceptance of the validation (quarantined rows reviewed)',
        approve: LEAD,
        action: 'manual',
        gate: 'validation',
        params: {
          checklist: [
            'Every validation above is green',
            'Quarantined rows reviewed (cutover_etl.quarantine)',
            `The objects the conversion report lists as not converted are ported by hand (${ctx.reportFile})`,
          ],
        },
      },
      FIXED_SECONDS.signoff,
    ),
  );
  return steps;
}

/** Seed 002's key totals: the sum of every money/decimal column on both sides, compared exactly. */
function totals(ctx: PlanContext): Step | null {
  const columns = ctx.inv.tables.flatMap((t) => totalColumns(t.mapping).map((c) => ({ table: t, column: c })));
  if (columns.length === 0) return null;
  const summed = columns.reduce((n, c) => n + c.table.rows, 0);
  const target = (t: PlannedTable, column: string) => `SELECT sum(${quotePg(column)})::text FROM ${quotePg(t.mapping.target.schema)}.${quotePg(t.mapping.target.name)}`;
  const totals = columns.map(({ table, column }) => {
    const name = `${table.mapping.source.schema}.${table.mapping.source.name}.${column.source}`;
    const source = ctx.snapshot
      ? `SELECT ${snapshotLiteral(ctx.inv.totals?.get(name) ?? null)} AS snapshot_sum`
      : // decimal(38, s) before summing: money's own SUM overflows sooner, and text keeps every digit (docs/engine.md).
        `SELECT CONVERT(varchar(50), SUM(CONVERT(decimal(38, ${scaleOf(column.targetType)}), ${quoteMs(column.source)}))) FROM ${quoteMs(table.mapping.source.schema)}.${quoteMs(table.mapping.source.name)}`;
    return { name, source_sql: source, target_sql: target(table, column.target) };
  });
  return ctx.step(
    {
      '#': ctx.snapshot
        ? 'The snapshot has no database to ask: its sums were read from the snapshot\'s rows by cutover plan, exactly, and are compared with the target\'s (rows the extract quarantined are in neither).'
        : undefined,
      id: 'totals',
      title: `Totals of every money and decimal column (${columns.length})`,
      approve: DBA,
      action: 'validate.totals',
      params: { source: ctx.snapshot ? 'target' : 'source', target: 'target', totals },
      skippable_by: [ROLLBACK],
    },
    workSeconds.totals(summed, ctx.rates),
    { timeout: true },
  );
}

/** numeric(19,4) → 4; a type without a scale sums at 0 decimals. */
const scaleOf = (targetType: string): number => Number(/\(\s*\d+\s*,\s*(\d+)\s*\)/.exec(targetType)?.[1] ?? 0);

/** A sum read from the snapshot as SQL: digits only (validated by DecimalSum), or NULL for a column with no values. */
const snapshotLiteral = (sum: string | null): string => (sum === null ? 'NULL::numeric' : `${sum}::numeric`);

/** Columns whose values stay out of the checksum report by default: names that say e-mail, phone, birth date, IBAN, tax or passport. */
const PERSONAL = /(e-?mail|phone|telefon|mobil|handy|fax|birth|geburt|iban|bic|tax|steuer|ssn|passport|ausweis)/i;

function personalColumns(tables: readonly PlannedTable[]): string[] {
  return tables.flatMap((t) => t.mapping.columns.filter((c) => PERSONAL.test(c.source)).map((c) => `${t.mapping.source.schema}.${t.mapping.source.name}.${c.source}`));
}
