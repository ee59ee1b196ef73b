import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { etlCopyAction } from '../../engine/actions/etl-copy.js';
import { schemaApplyAction } from '../../engine/actions/schema-apply.js';
import { validateAggregatesAction } from '../../engine/actions/validate-aggregates.js';
import { validateCountsAction } from '../../engine/actions/validate-counts.js';
import { validateIntegrityAction } from '../../engine/actions/validate-integrity.js';
import { validateRulesAction } from '../../engine/actions/validate-rules.js';
import { validateTotalsAction } from '../../engine/actions/validate-totals.js';
import type { TableMapping } from '../../engine/etl/contracts.js';
import type { SchemaModel } from '../../engine/schema/model.js';
import { postgresAggregateSql } from '../../engine/validate/aggregate-sql.js';
import type { ValidationSource } from '../../engine/validate/contracts.js';
import { asText } from '../../engine/validate/mssql-validation-source.js';
import { ACTIONS } from '../../runbook/action-catalog.js';
import { actionContext, TEST_DATABASE_URL, thrown } from '../support/engine-context.js';
import { column, table } from '../support/fixtures/kgv-schema.js';
import { MemoryRowSource, type RowObject } from '../support/memory-row-source.js';

/**
 * SQL Server cannot run here. The source is stood in for by a second
 * PostgreSQL schema (SRC) loaded from the same memory rows by the real
 * schema.apply + etl.copy; the ValidationSource double counts and queries in
 * it, and the source side of validate.aggregates uses the PostgreSQL SQL over
 * SRC. The SQL Server SQL itself is unit-tested (test/unit/aggregate-sql.test.ts)
 * and runs against SQL Server in test/integration/mssql-source.test.ts.
 */
const SUFFIX = `${process.pid}`;
const SRC = `val_src_${SUFFIX}`;
const TGT = `val_tgt_${SUFFIX}`;
const BOOKS = `val_etl_${SUFFIX}`;
const RUN = `val-${SUFFIX}`;
const db = new pg.Pool({ connectionString: TEST_DATABASE_URL });
const CI = 'Latin1_General_CI_AS';

const model: SchemaModel = {
  sourceKind: 'mssql',
  database: 'kgv',
  serverVersion: 'test',
  collation: CI,
  others: [],
  tables: [
    table('Bezirk', [column('bez_ID', { nullable: false }), column('bez_Name', { type: 'nvarchar', maxLength: 50, collation: CI, nullable: false })], {
      primaryKey: { name: 'PK_Bezirk', columns: ['bez_ID'] },
      rowCount: 5,
    }),
    table(
      'Antrag',
      [
        column('an_ID', { nullable: false }),
        column('an_Bezirk', { nullable: false }),
        column('an_Email', { type: 'nvarchar', maxLength: 100, collation: CI }),
        column('an_Betrag', { type: 'decimal', precision: 19, scale: 4 }),
        column('an_Datum', { type: 'datetime2', scale: 7 }),
        column('an_Aktiv', { type: 'bit', nullable: false }),
        column('an_GUID', { type: 'uniqueidentifier' }),
      ],
      {
        primaryKey: { name: 'PK_Antrag', columns: ['an_ID'] },
        foreignKeys: [{ name: 'FK_Antrag_Bezirk', columns: ['an_Bezirk'], refSchema: 'dbo', refTable: 'Bezirk', refColumns: ['bez_ID'], onDelete: 'NO ACTION', onUpdate: 'NO ACTION', trusted: true }],
        rowCount: 200,
      },
    ),
  ],
};

const bezirke: RowObject[] = Array.from({ length: 5 }, (_, i) => ({ bez_ID: i + 1, bez_Name: `Bezirk ${i + 1}` }));
const antraege: RowObject[] = Array.from({ length: 200 }, (_, i) => ({
  an_ID: i + 1,
  an_Bezirk: (i % 5) + 1,
  // 6 of 200 (3 %) have no valid e-mail address.
  an_Email: i % 34 === 0 ? `broken-${i}` : `user${i}@example.org`,
  an_Betrag: `${i}.${String(i * 7 % 10000).padStart(4, '0')}`,
  an_Datum: `2004-0${(i % 9) + 1}-15 10:20:30.1234567`,
  an_Aktiv: i % 3 === 0,
  an_GUID: i % 4 === 0 ? null : `6F9619FF-8B86-D011-B42D-00C04FC9${String(i).padStart(4, '0')}`,
}));

const rows = () => new MemoryRowSource(model, { Bezirk: bezirke, Antrag: antraege });

/** The source double: SQL Server's role played by the SRC schema. */
class PgSchemaSource implements ValidationSource {
  async introspect(): Promise<SchemaModel> {
    return structuredClone(model);
  }
  async count(t: TableMapping): Promise<number> {
    return Number((await db.query<{ n: string }>(`SELECT count(*) AS n FROM "${SRC}"."${t.target.name}"`)).rows[0]?.n);
  }
  async query(sql: string): Promise<Array<Record<string, string | null>>> {
    return (await db.query(sql)).rows.map(asText);
  }
  async close(): Promise<void> {}
}
const open = async () => new PgSchemaSource();
const srcAggregates = (t: TableMapping, plan: Parameters<typeof postgresAggregateSql>[1]) => postgresAggregateSql({ ...t, target: { schema: SRC, name: t.target.name } }, plan, { zone: null });

const ctxFor = (stepId: string, dryRun = false) => actionContext({ runId: RUN, stepId, dryRun });
const params = (id: string, p: Record<string, unknown>) => ACTIONS[id]?.params.parse(p);
const counts = (p: Record<string, unknown> = {}) => validateCountsAction(open).run(ctxFor('counts'), params('validate.counts', { source: 'src', target: 'target', target_schema: TGT, bookkeeping_schema: BOOKS, ...p }));
const aggregates = (p: Record<string, unknown> = {}) =>
  validateAggregatesAction(open, srcAggregates).run(ctxFor('aggregates'), params('validate.aggregates', { source: 'src', target: 'target', target_schema: TGT, ...p }));

beforeAll(async () => {
  for (const [schema, step] of [[SRC, 'src'], [TGT, 'copy']] as const) {
    await schemaApplyAction(async () => rows()).run(ctxFor(`${step}-pre`), params('schema.apply', { source: 'src', target: 'target', phase: 'pre-load', target_schema: schema }));
    await etlCopyAction(async () => rows()).run(ctxFor(step), params('etl.copy', { source: 'src', target: 'target', target_schema: schema, bookkeeping_schema: BOOKS, chunk_rows: 1000 }));
  }
});

afterAll(async () => {
  for (const s of [SRC, TGT, BOOKS]) await db.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
  await db.end();
});

describe('validate.* actions against PostgreSQL (source stood in for by a second schema)', () => {
  it('validate.counts is green per table, with and without the load bookkeeping, and says dry run', async () => {
    const plain = await counts();
    expect(plain.summary).toBe('counts: 2/2 tables green');
    expect(plain.details?.['validation']).toMatchObject({ check: 'counts', verdict: 'green', items: [{ subject: `${TGT}.bezirk`, verdict: 'green' }, { subject: `${TGT}.antrag`, figures: { source: 200, target: 200 } }] });
    const booked = await validateCountsAction(open).run(ctxFor('counts', true), params('validate.counts', { source: 'src', target: 'target', target_schema: TGT, bookkeeping_schema: BOOKS, load_step: 'copy' }));
    expect(booked.summary).toContain('dry run');
    expect(String(booked.details?.['report'])).toContain('source 200 = loaded 200 + quarantined 0');
  });

  it('a deleted target row turns validate.counts red, naming the table; the step fails with the same details', async () => {
    await db.query(`DELETE FROM ${TGT}.antrag WHERE an_id = 17`);
    try {
      const err = await thrown(() => counts({ load_step: 'copy' }));
      expect(err.code).toBe('validate.counts_red');
      expect(err.userMessage).toContain(`${TGT}.antrag`);
      expect(err.userMessage).toContain('target holds 199, the load booked 200');
      expect(err.details?.['validation']).toMatchObject({ verdict: 'red' });
      expect(String(err.details?.['report'])).toMatch(new RegExp(`🔴 \`${TGT}.antrag\``));
      expect((await thrown(() => counts())).userMessage).toContain('source 200 ≠ target 199 (-1)');
    } finally {
      await db.query(`INSERT INTO ${TGT}.antrag SELECT * FROM ${SRC}.antrag WHERE an_id = 17`);
    }
  });

  it('validate.aggregates is green; one changed value turns it red naming the column; strict makes not-comparable amber', async () => {
    const ok = await aggregates();
    expect(ok.summary).toBe('aggregates: 2/2 tables green');
    expect(String(ok.details?.['report'])).toContain('not comparable: uniqueidentifier');
    expect((await aggregates({ strict: true })).summary).toContain('warning');
    await db.query(`UPDATE ${TGT}.antrag SET an_betrag = an_betrag + 0.0001 WHERE an_id = 50`);
    try {
      const err = await thrown(() => aggregates());
      expect(err.code).toBe('validate.aggregates_red');
      expect(err.userMessage).toContain('an_betrag sum');
      expect(err.userMessage).not.toContain('an_datum');
      // Filtered to other columns, the change is not looked at.
      expect((await aggregates({ columns: { 'dbo.Antrag': ['an_ID', 'an_Datum'] } })).summary).toBe('aggregates: 1/1 tables green');
    } finally {
      await db.query(`UPDATE ${TGT}.antrag SET an_betrag = an_betrag - 0.0001 WHERE an_id = 50`);
    }
  });

  it('validate.totals matches and mismatches with seed 002 key_totals', async () => {
    const total = (target_sql: string) =>
      validateTotalsAction(open).run(ctxFor('totals'), params('validate.totals', {
        source: 'src',
        target: 'target',
        totals: [{ name: 'antrag', source_sql: `SELECT sum(an_betrag) FROM ${SRC}.antrag`, target_sql }],
      }));
    const ok = await total(`SELECT sum(an_betrag)::numeric(30,8) FROM ${TGT}.antrag`);
    expect(ok.details?.['key_totals']).toEqual({ antrag: { source_count: expect.any(String), target_count: expect.any(String), match: true } });
    const err = await thrown(() => total(`SELECT sum(an_betrag) + 1 FROM ${TGT}.antrag`));
    expect(err.code).toBe('validate.totals_red');
    expect(err.details?.['key_totals']).toMatchObject({ antrag: { match: false } });
  });

  it('validate.totals reads a PostgreSQL source in a read-only transaction (staged legacy rows against the transformed tables)', async () => {
    const both = { kind: 'postgres' as const, url: TEST_DATABASE_URL };
    const ctx = actionContext({ runId: RUN, stepId: 'totals-pg', connectionSpecs: { target: both, staging: both } });
    const total = (source_sql: string) =>
      validateTotalsAction().run(ctx, params('validate.totals', { source: 'staging', target: 'target', totals: [{ name: 'betrag', source_sql, target_sql: `SELECT sum(an_betrag) FROM ${TGT}.antrag` }] }));
    try {
      const ok = await total(`SELECT sum(an_betrag) FROM ${SRC}.antrag`);
      expect(ok.details?.['key_totals']).toEqual({ betrag: { source_count: expect.any(String), target_count: expect.any(String), match: true } });
      const red = await thrown(() => total(`SELECT sum(an_betrag) - 1 FROM ${SRC}.antrag`));
      expect(red.code).toBe('validate.totals_red');
      // The source side cannot write, even by mistake.
      const writes = await thrown(() => total(`UPDATE ${SRC}.antrag SET an_betrag = 0 RETURNING an_betrag`));
      expect(writes.message).toMatch(/read-only transaction/);
      expect(Number((await db.query(`SELECT count(*) FROM ${SRC}.antrag WHERE an_betrag = 0`)).rows[0].count)).toBe(1);
    } finally {
      await ctx.connections.close();
    }
  });

  it('validate.rules: WARNING under 5 % is amber with masked examples; over the threshold or any ERROR is red', async () => {
    const rules = (list: unknown[]) => validateRulesAction(open).run(ctxFor('rules'), params('validate.rules', { target: 'target', personal: ['an_email'], rules: list }));
    const email = { name: 'email_format', sql: `SELECT an_id, an_email FROM ${TGT}.antrag WHERE an_email NOT LIKE '%@%'`, severity: 'WARNING', of: `SELECT count(*) FROM ${TGT}.antrag` };
    const amber = await rules([email, { name: 'no_negative', sql: `SELECT an_id FROM ${TGT}.antrag WHERE an_betrag < 0`, severity: 'ERROR' }]);
    expect(amber.summary).toContain('rules: 1/2 rules green — warning: email_format');
    const item = (amber.details?.['validation'] as { items: Array<{ figures: { violations: number; examples: Array<Record<string, string>> } }> }).items[0];
    expect(item?.figures.violations).toBe(6);
    expect(item?.figures.examples).toHaveLength(5);
    expect(item?.figures.examples[0]).toEqual({ an_id: expect.any(String), an_email: '***' });
    expect(JSON.stringify(amber.details)).not.toContain('broken-');
    expect((await thrown(() => rules([{ ...email, threshold: '2%' }]))).code).toBe('validate.rules_red');
    const error = await thrown(() => rules([{ name: 'bezirk_1', sql: `SELECT an_id FROM ${TGT}.antrag WHERE an_id = 1`, severity: 'ERROR' }]));
    expect(error.userMessage).toContain('RED: bezirk_1: ERROR: 1 violation(s)');
  });

  it('validate.integrity finds an orphan inserted before post-load (FK left NOT VALID) with its key; green without it', async () => {
    await db.query(`INSERT INTO ${TGT}.antrag (an_id, an_bezirk, an_aktiv) VALUES (9001, 99, true)`);
    await thrown(() => schemaApplyAction(async () => rows()).run(ctxFor('post'), params('schema.apply', { source: 'src', target: 'target', phase: 'post-load', target_schema: TGT })));
    const fk = await db.query(`SELECT convalidated FROM pg_constraint WHERE conname ILIKE 'fk_antrag_bezirk' AND connamespace = '${TGT}'::regnamespace`);
    expect(fk.rows).toEqual([{ convalidated: false }]);
    const integrity = () => validateIntegrityAction(open).run(ctxFor('integrity'), params('validate.integrity', { target: 'target', schema: TGT, source: 'src' }));
    const err = await thrown(integrity);
    expect(err.code).toBe('validate.integrity_red');
    expect(err.userMessage).toContain('1 orphaned row(s) without bezirk (an_bezirk); e.g. (an_id=9001)');
    await db.query(`DELETE FROM ${TGT}.antrag WHERE an_id = 9001`);
    await db.query(`ALTER TABLE ${TGT}.antrag ADD CONSTRAINT betrag_small CHECK (an_betrag < 150) NOT VALID`);
    const check = await thrown(integrity);
    expect(check.userMessage).toContain('betrag_small');
    expect(check.userMessage).toMatch(/50 row\(s\) violating CHECK .*e\.g\. \(an_id=\d+\)/);
    await db.query(`ALTER TABLE ${TGT}.antrag DROP CONSTRAINT betrag_small`);
    const green = await integrity();
    expect(green.summary).toMatch(/^integrity: (\d+)\/\1 constraints green$/);
  });
});
