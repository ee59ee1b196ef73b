import { describe, expect, it } from 'vitest';
import type { ColumnMapping, TableMapping } from '../../engine/etl/contracts.js';
import { compareAggregates, floatsAgree, normaliseNumber } from '../../engine/validate/aggregate-compare.js';
import { mssqlAggregateSql, planAggregates, postgresAggregateSql } from '../../engine/validate/aggregate-sql.js';

const col = (source: string, sourceType: string, targetType: string, over: Partial<ColumnMapping> = {}): ColumnMapping => ({
  source,
  target: source.toLowerCase(),
  sourceType,
  targetType,
  kind: 'text',
  nullable: true,
  maxChars: null,
  ...over,
});

const table = (columns: ColumnMapping[]): TableMapping => ({
  source: { schema: 'dbo', name: 'Antrag' },
  target: { schema: 'kgv', name: 'antrag' },
  columns,
  key: null,
  rowCount: 0,
});

const t = table([
  col('an_ID', 'int', 'integer', { kind: 'int' }),
  col('an_Betrag', 'money', 'numeric(19,4)', { kind: 'exact' }),
  col('an_Aktiv', 'bit', 'boolean', { kind: 'bool' }),
  col('an_Datum', 'datetime2', 'timestamp(6)', { kind: 'timestamp' }),
  col('an_GUID', 'uniqueidentifier', 'uuid', { kind: 'uuid' }),
  col('an_Name', 'nvarchar', 'varchar(50)'),
  col('an_Quote', 'float', 'double precision', { kind: 'float' }),
  col('an_Notiz', 'ntext', 'text'),
]);
const CI = { an_Name: 'Latin1_General_CI_AS', an_Notiz: 'Latin1_General_CI_AS' };

describe('aggregate SQL for both sides', () => {
  const plan = planAggregates(t, CI, { zone: null });

  it('SQL Server: exact sums as decimal(38,s) text, bit summed as a number, datetimes in style 121, every CONVERT with a length', () => {
    const sql = mssqlAggregateSql(t, plan);
    expect(sql).toContain('CONVERT(varchar(60), SUM(CONVERT(decimal(38,4), [an_Betrag]))) AS c1_sum');
    expect(sql).toContain('CONVERT(varchar(60), SUM(CONVERT(decimal(38,0), [an_ID]))) AS c0_sum');
    expect(sql).toContain('SUM(CAST([an_Aktiv] AS bigint))) AS c2_sum');
    expect(sql).toContain('MIN(CAST([an_Aktiv] AS int))');
    expect(sql).toContain('CONVERT(varchar(27), MIN([an_Datum]), 121) AS c3_min');
    expect(sql).toContain('COUNT_BIG(CASE WHEN [an_Notiz] IS NOT NULL THEN 1 END)');
    expect(sql).toMatch(/ FROM \[dbo\]\.\[Antrag\]$/);
    expect(sql).not.toMatch(/varchar,|varchar\)/i);
  });

  it('GUIDs, LOBs and linguistically collated text get no min/max, with the reason', () => {
    const sql = mssqlAggregateSql(t, plan);
    expect(sql).not.toContain('c4_min');
    expect(sql).not.toContain('c5_min');
    expect(sql).not.toContain('c7_min');
    expect(plan[4]?.ordered).toEqual({ reason: expect.stringContaining('uniqueidentifier') });
    expect(plan[5]?.ordered).toEqual({ reason: 'not comparable: collations order differently' });
  });

  it('binary collations are compared, in PostgreSQL under COLLATE "C"', () => {
    const bin = planAggregates(t, { an_Name: 'Latin1_General_100_BIN2' }, { zone: null });
    expect(bin[5]?.ordered).toBe(true);
    expect(postgresAggregateSql(t, bin, { zone: null })).toContain('min("an_name" COLLATE "C") AS c5_min');
    expect(mssqlAggregateSql(t, bin)).toContain('MIN([an_Name]) AS c5_min');
  });

  it('PostgreSQL: numeric sums as text, timestamps with 6 digits, in the runbook zone for timestamptz targets', () => {
    const sql = postgresAggregateSql(t, plan, { zone: null });
    expect(sql).toContain('sum("an_betrag"::numeric)::text AS c1_sum');
    expect(sql).toContain(`to_char(min("an_datum"), 'YYYY-MM-DD HH24:MI:SS.US') AS c3_min`);
    expect(sql).toContain('sum("an_aktiv"::int)::text AS c2_sum');
    expect(sql).toMatch(/ FROM "kgv"\."antrag"$/);
    const zoned = table([col('d', 'datetime2', 'timestamptz(6)', { kind: 'timestamp' })]);
    expect(postgresAggregateSql(zoned, planAggregates(zoned, {}, { zone: 'Europe/Berlin' }), { zone: 'Europe/Berlin' })).toContain(`AT TIME ZONE 'Europe/Berlin'`);
  });
});

describe('comparing aggregates', () => {
  const plan = planAggregates(t, CI, { zone: null });
  const base = {
    c0_n: '3', c0_min: '1', c0_max: '3', c0_sum: '6',
    c1_n: '3', c1_min: '0.5000', c1_max: '2.0000', c1_sum: '3.5000',
    c2_n: '3', c2_min: '0', c2_max: '1', c2_sum: '2',
    c3_n: '3', c3_min: '2004-01-15 10:20:30.1234565', c3_max: '2004-12-31 23:59:59.9999999',
    c4_n: '2', c5_n: '3', c6_n: '3', c6_min: '0.1', c6_max: '0.3', c6_sum: '0.6000000000000001', c7_n: '1',
  };
  const target = {
    ...base,
    c1_min: '0.5', c1_max: '2', c1_sum: '3.50',
    c3_min: '2004-01-15 10:20:30.123457', c3_max: '2005-01-01 00:00:00.000000',
    c6_sum: '0.6',
  };

  it('agrees after decimal normalisation, datetime2(7) rounding like the ETL, and float tolerance', () => {
    const r = compareAggregates(plan, base, target);
    expect(r.differences).toEqual([]);
    expect(r.notComparable).toHaveLength(3);
  });

  it('names the column and figure that differ', () => {
    const r = compareAggregates(plan, base, { ...target, c1_sum: '3.5001', c0_n: '2' });
    expect(r.differences).toEqual([
      { column: 'an_id', stat: 'count', source: '3', target: '2' },
      { column: 'an_betrag', stat: 'sum', source: '3.5000', target: '3.5001' },
    ]);
  });

  it('a datetime off by one microsecond after rounding differs; NULL against a value differs', () => {
    const r = compareAggregates(plan, base, { ...target, c3_min: '2004-01-15 10:20:30.123456', c0_max: null });
    expect(r.differences.map((d) => `${d.column}.${d.stat}`)).toEqual(['an_id.max', 'an_datum.min']);
  });

  it('number text normalises trailing zeros, leading zeros, signs; floats compare within relative tolerance', () => {
    expect(normaliseNumber('0012.3400')).toBe('12.34');
    expect(normaliseNumber('-0.000')).toBe('0');
    expect(normaliseNumber('+5.')).toBe('5');
    expect(normaliseNumber('-.5')).toBe('-0.5');
    expect(normaliseNumber('abc ')).toBe('abc');
    expect(floatsAgree('1e10', '1.00000000001e10', 1e-12)).toBe(false);
    expect(floatsAgree('1e10', '1.000000000000001e10', 1e-12)).toBe(true);
    expect(floatsAgree('1.0000001', '1.0000002', 1e-6)).toBe(true);
  });
});
