import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { DecimalSum } from '../../cli/plan/decimal-sum.js';
import { planned } from '../../cli/plan/durations.js';
import type { Inventory, PlannedTable } from '../../cli/plan/inventory.js';
import { DEFAULT_RATES, ratesFor } from '../../cli/plan/rates.js';
import { buildRunbook } from '../../cli/plan/runbook-builder.js';
import { renderRunbook } from '../../cli/plan/runbook-yaml.js';
import { loadSeconds, tableGroups } from '../../cli/plan/table-groups.js';
import { catalogRowsToModel } from '../../engine/mssql/catalog.js';
import { KGV_CATALOG_ROWS } from '../../engine/sample/kgv/catalog-rows.js';
import { convertSchema } from '../../engine/schema/convert.js';
import { parseDuration } from '../../runbook/duration.js';
import { loadRunbook } from '../../runbook/load.js';

describe('tableGroups: load steps of about equal length, by rows and bytes', () => {
  const rates = { rowsPerSecond: 10_000, bytesPerSecond: 10_000_000 };
  const opts = { ...rates, targetSeconds: 1800, maxTables: 40 };

  it('keeps a small database in one group, in its order', () => {
    const tables = [{ rows: 100, bytes: 1000, n: 'a' }, { rows: 5000, bytes: 1000, n: 'b' }];
    expect(tableGroups(tables, opts).map((g) => g.map((t) => t.n))).toEqual([['a', 'b']]);
    expect(tableGroups([], opts)).toEqual([]);
  });

  it('splits an ERP of 300 skewed tables into groups of at most 40 tables and about 30 minutes, each table once, largest group first', () => {
    // A few huge tables and a long tail, as seed 002's ERP: 60M rows in all.
    const tables = Array.from({ length: 300 }, (_, i) => ({ i, rows: i < 3 ? 10_000_000 : Math.round(30_000_000 / (i + 1) ** 1.2), bytes: i * 1000 }));
    const groups = tableGroups(tables, opts);
    const total = tables.reduce((n, t) => n + loadSeconds(t, opts), 0);
    expect(groups.length).toBe(Math.max(Math.ceil(total / 1800), Math.ceil(300 / 40)));
    expect(groups.flat().map((t) => t.i).sort((a, b) => a - b)).toEqual(tables.map((t) => t.i));
    for (const g of groups) expect(g.length).toBeLessThanOrEqual(40);
    const seconds = groups.map((g) => g.reduce((n, t) => n + loadSeconds(t, opts), 0));
    expect(seconds).toEqual([...seconds].sort((a, b) => b - a));
    // Balanced: no group beyond the larger of its largest table and 1.5 × the average.
    const largest = Math.max(...tables.map((t) => loadSeconds(t, opts)));
    expect(Math.max(...seconds)).toBeLessThanOrEqual(Math.max(largest, 1.5 * (total / groups.length)));
    expect(tableGroups(tables, opts)).toEqual(groups);
  });

  it('sizes by bytes when they bind: a wide table with few rows is a long load', () => {
    expect(loadSeconds({ rows: 1000, bytes: 36_000_000_000 }, opts)).toBe(3600);
    expect(tableGroups([{ rows: 1000, bytes: 36_000_000_000 }, { rows: 1000, bytes: 1000 }], opts)).toHaveLength(2);
  });
});

describe('DecimalSum: exact sums of decimal text, as sum(numeric)', () => {
  it('adds at the largest scale, with signs, beyond JavaScript numbers', () => {
    const s = new DecimalSum();
    for (const v of ['922337203685477.5807', '922337203685477.5807', '-0.0014', '10', '.5']) s.add(v);
    expect(s.text()).toBe('1844674407370965.6600'); // 2 × 922337203685477.5807 − 0.0014 + 10 + 0.5
    const whole = new DecimalSum();
    whole.add('999999999999999999');
    whole.add('1');
    expect(whole.text()).toBe('1000000000000000000');
    const negative = new DecimalSum();
    negative.add('-0.25');
    expect(negative.text()).toBe('-0.25');
  });

  it('stays exact past 2^53 in the running sum, for short and long values and a scale that grows midway', () => {
    const s = new DecimalSum();
    for (let i = 0; i < 100; i++) s.add('999999999999999'); // 15 digits: the fast path, carried before 2^52
    expect(s.text()).toBe('99999999999999900');
    const mixed = new DecimalSum();
    mixed.add('12345678901234567890123456789012345678'); // 38 digits: the limb path
    mixed.add('-2345678901234567890123456789012345678');
    mixed.add('0.5'); // the scale grows: everything before is shifted
    mixed.add('-10000000000000000000000000000000000000.25');
    expect(mixed.text()).toBe('0.25');
    let reference = 0n;
    const many = new DecimalSum();
    for (let i = 1; i <= 2000; i++) {
      const v = BigInt(i) * 123456789012345678901n * (i % 3 === 0 ? -1n : 1n);
      reference += v;
      many.add(`${v}`);
    }
    expect(many.text()).toBe(`${reference}`);
  });

  it('is NULL when nothing was added, and refuses text that is no number', () => {
    expect(new DecimalSum().text()).toBeNull();
    expect(() => new DecimalSum().add('12,5')).toThrow(/not a decimal number/);
    expect(() => new DecimalSum().add('-')).toThrow(/not a decimal number/);
  });
});

describe('planned durations', () => {
  it('are whole minutes, at least one, in a form the runbook format reads back', () => {
    expect(planned(0)).toEqual({ seconds: 60, text: '1m' });
    expect(planned(61)).toEqual({ seconds: 120, text: '2m' });
    expect(planned(5400)).toEqual({ seconds: 5400, text: '1h30m' });
    expect(parseDuration(planned(5401).text)).toBe(5460);
  });

  it('use the measured load rate when the target has earlier loads, the documented default otherwise', () => {
    expect(ratesFor(null).loadRowsPerSecond).toBe(DEFAULT_RATES.loadRowsPerSecond);
    const measured = ratesFor({ loads: 2, rows: 1_000_000, seconds: 10, rowsPerSecond: 100_000 });
    expect(measured.loadRowsPerSecond).toBe(100_000);
    expect(measured.loadBasis).toContain('measured 100,000 rows/s over the last 2 loads');
  });
});

/** The KGV catalog as a live SQL Server would give it, scaled up so the load needs several groups. */
function mssqlInventory(): Inventory {
  const model = catalogRowsToModel(KGV_CATALOG_ROWS);
  const conversion = convertSchema(model, { targetSchema: 'kgv', naming: 'lower' });
  const tables = conversion.mappings.map((mapping, i): PlannedTable => ({ mapping, rows: (i + 1) * 4_000_000, bytes: (i + 1) * 400_000_000, bytesEstimated: i % 2 === 0 }));
  return {
    source: { kind: 'mssql', url: 'mssql://cutover:pw@legacy:1433/kgv' },
    database: 'kgv',
    serverVersion: 'Microsoft SQL Server 2019',
    targetSchema: 'kgv',
    naming: 'lower',
    selection: null,
    tables,
    report: conversion.report,
    totals: null,
    notes: [],
  };
}

describe('a runbook planned from SQL Server (no server needed: the catalog as data)', () => {
  const built = buildRunbook({
    name: 'kgv',
    envPrefix: 'KGV',
    inventory: mssqlInventory(),
    target: { unreachable: null, serverVersion: '16.4', tables: 0, measured: null },
    rates: ratesFor(null),
    windowSeconds: 8 * 3600,
    reportFile: 'kgv.conversion.md',
  });
  const text = renderRunbook(built.doc, 'kgv: planned for a test');
  const env = { KGV_TARGET_URL: 'postgres://app@pg/kgv', KGV_SOURCE_URL: 'mssql://app@legacy/kgv', KGV_MSSQL_BACKUP_DIR: 'D:\\Backups' };
  const loaded = loadRunbook({ name: 'kgv', file: 'kgv.yaml', text, env });
  const problems = loaded.ok ? [] : loaded.problems;

  it('loads, apart from its placeholders, with the shared conversion merged from one anchor', () => {
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.filter((p) => !p.message.startsWith('placeholder not filled in'))).toEqual([]);
    expect(text).toContain('x-conversion: &conversion');
    expect(text).toMatch(/<<: \*conversion/);
    expect(text).toMatch(/^# kgv: planned for a test/);
  });

  const raw = parseDocument(text, { merge: true }).toJS() as { phases: Array<{ steps: Array<Record<string, any>> }>; rollback: Record<string, { steps: Array<Record<string, any>> }> };
  const steps = raw.phases.flatMap((p) => p.steps);
  const byId = (id: string) => steps.find((s) => s.id === id);

  it('backs up and freezes SQL Server first, and every rollback scenario unfreezes it first', () => {
    expect(steps.slice(0, 6).map((s) => s.action)).toEqual(['manual', 'sql', 'sql', 'backup.mssql', 'freeze.source', 'schema.convert']);
    expect(byId('source-backup')?.params.dir).toBe('${KGV_MSSQL_BACKUP_DIR}');
    for (const scenario of Object.values(raw.rollback)) expect(scenario.steps[0]).toMatchObject({ action: 'unfreeze.source', params: { freeze_step: 'freeze-source' } });
    expect(byId('switch')).toMatchObject({ gate: 'validation', requires: ['backup.source-backup', 'backup.pre-switch-backup'] });
  });

  it('loads in several etl.copy groups, each counted and checksummed with its own load step', () => {
    const loads = steps.filter((s) => s.action === 'etl.copy');
    expect(loads.length).toBe(built.groups.length);
    expect(loads.length).toBeGreaterThan(1);
    const loadedTables = loads.flatMap((s) => s.params.tables as string[]).sort();
    expect(loadedTables).toEqual(mssqlInventory().tables.map((t) => `${t.mapping.source.schema}.${t.mapping.source.name}`).sort());
    loads.forEach((load, i) => {
      expect(byId(`counts-${i + 1}`)?.params).toMatchObject({ tables: load.params.tables, load_step: load.id, source: 'source', target_schema: 'kgv' });
      expect(byId(`checksums-${i + 1}`)?.params.tables).toEqual(load.params.tables);
    });
  });

  it('totals every money/decimal column on both sides, SQL Server summing in decimal(38, s) returned as text', () => {
    const totals = byId('totals')?.params.totals as Array<{ name: string; source_sql: string; target_sql: string }>;
    expect(totals.map((t) => t.name)).toContain('dbo.Eingangsnummer.en_Gebuehr');
    expect(totals.find((t) => t.name === 'dbo.Eingangsnummer.en_Gebuehr')).toEqual({
      name: 'dbo.Eingangsnummer.en_Gebuehr',
      source_sql: 'SELECT CONVERT(varchar(50), SUM(CONVERT(decimal(38, 4), [en_Gebuehr]))) FROM [dbo].[Eingangsnummer]',
      target_sql: 'SELECT sum("en_gebuehr")::text FROM "kgv"."eingangsnummer"',
    });
  });

  it('plans durations from rows and bytes, and says whether go-live plus the longest rollback fits the window', () => {
    const seconds = (s: Record<string, any>) => parseDuration(String(s.planned)) ?? 0;
    expect(built.forwardSeconds).toBe(steps.reduce((n, s) => n + seconds(s), 0));
    const biggest = steps.filter((s) => s.action === 'etl.copy').map(seconds);
    expect(Math.max(...biggest)).toBeGreaterThan(30 * 60);
    expect(built.fits).toBe(built.forwardSeconds + built.rollbackSeconds <= 8 * 3600);
  });
});
