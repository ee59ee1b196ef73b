import { mkdtemp, readdir, rm, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { etlCopyAction } from '../../engine/actions/etl-copy.js';
import { extractAction } from '../../engine/actions/extract.js';
import { loadAction } from '../../engine/actions/load.js';
import { schemaApplyAction } from '../../engine/actions/schema-apply.js';
import { schemaConvertAction } from '../../engine/actions/schema-convert.js';
import type { SchemaModel } from '../../engine/schema/model.js';
import { ACTIONS } from '../../runbook/action-catalog.js';
import { actionContext, TEST_DATABASE_URL, thrown } from '../support/engine-context.js';
import { column, table } from '../support/fixtures/kgv-schema.js';
import { MemoryRowSource, type RowObject } from '../support/memory-row-source.js';

const SUFFIX = `${process.pid}`;
const db = new pg.Pool({ connectionString: TEST_DATABASE_URL });
const CI = 'Latin1_General_CI_AS';

const model: SchemaModel = {
  sourceKind: 'mssql',
  database: 'kgv',
  serverVersion: 'test',
  collation: CI,
  others: [{ schema: 'dbo', name: 'trg_Antrag_Audit', kind: 'trigger', parent: 'Antrag' }],
  tables: [
    table('Bezirk', [column('bez_ID', { nullable: false, identity: { seed: '1', increment: '1' } }), column('bez_Name', { type: 'nvarchar', maxLength: 50, collation: CI, nullable: false })], {
      primaryKey: { name: 'PK_Bezirk', columns: ['bez_ID'] },
      rowCount: 25,
    }),
    table(
      'Antrag',
      [
        column('an_ID', { nullable: false, identity: { seed: '1', increment: '1' } }),
        column('an_Bezirk', { nullable: false }),
        column('an_Nachname', { type: 'nvarchar', maxLength: 50, collation: CI }),
        column('an_Betrag', { type: 'decimal', precision: 19, scale: 4 }),
        column('an_Bewerbungsdatum', { type: 'datetime2', scale: 7 }),
        column('an_Aktiv', { type: 'bit', nullable: false }),
        column('an_GUID', { type: 'uniqueidentifier' }),
        column('an_Vermerk', { type: 'nvarchar', maxLength: -1, collation: CI }),
      ],
      {
        primaryKey: { name: 'PK_Antrag', columns: ['an_ID'] },
        foreignKeys: [{ name: 'FK_Antrag_Bezirk', columns: ['an_Bezirk'], refSchema: 'dbo', refTable: 'Bezirk', refColumns: ['bez_ID'], onDelete: 'NO ACTION', onUpdate: 'NO ACTION', trusted: true }],
        rowCount: 5000,
      },
    ),
  ],
};

const bezirke: RowObject[] = Array.from({ length: 25 }, (_, i) => ({ bez_ID: i + 1, bez_Name: `Bezirk ${i + 1} – Köpenick` }));
const antraege: RowObject[] = Array.from({ length: 5000 }, (_, i) => ({
  an_ID: i + 1,
  an_Bezirk: (i % 25) + 1,
  an_Nachname: i === 41 ? 'Nul\u0000Byte' : i === 42 ? 'Tab\there\nnew "line" \\ back' : `Müller-${i} 😀`,
  an_Betrag: i === 7 ? '999999999999999.9999' : `${i}.${String(i % 10000).padStart(4, '0')}`,
  an_Bewerbungsdatum: `2004-0${(i % 9) + 1}-15 10:20:30.1234567`,
  an_Aktiv: i % 2 === 0,
  an_GUID: i % 3 === 0 ? null : `6F9619FF-8B86-D011-B42D-00C04FC9${String(i).padStart(4, '0')}`,
  an_Vermerk: i % 5 === 0 ? null : 'x'.repeat(i % 300),
}));

const source = () => new MemoryRowSource(model, { Bezirk: bezirke, Antrag: antraege });
const ctxFor = (stepId: string, extra: Partial<Parameters<typeof actionContext>[0]> = {}) => actionContext({ runId: `etl-${SUFFIX}`, stepId, ...extra });
const params = (id: string, p: Record<string, unknown>) => ACTIONS[id]?.params.parse(p);
const count = async (sql: string) => Number((await db.query<{ n: string }>(sql)).rows[0]?.n);

const LIVE = `etl_live_${SUFFIX}`;
const SNAP = `etl_snap_${SUFFIX}`;
const GROUPS = `etl_groups_${SUFFIX}`;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cutover-snapshot-'));
});

afterAll(async () => {
  for (const s of [LIVE, SNAP, GROUPS, 'cutover_etl']) await db.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
  await db.end();
  await rm(dir, { recursive: true, force: true });
});

describe('schema and ETL actions against PostgreSQL (SQL Server stood in for by memory rows)', () => {
  it('schema.convert reports the conversion, including what it cannot convert, and writes nothing', async () => {
    const result = await schemaConvertAction(async () => source()).run(ctxFor('convert'), params('schema.convert', { source: 'src', target_schema: LIVE }));
    expect(result.summary).toContain('2 tables');
    expect(String(result.details?.['report'])).toContain('trg_Antrag_Audit');
    expect(await count(`SELECT count(*) AS n FROM pg_namespace WHERE nspname = '${LIVE}'`)).toBe(0);
  });

  it('pre-load → etl.copy → post-load: every row arrives once, the NUL row is quarantined, keys and sequences follow', async () => {
    const apply = schemaApplyAction(async () => source());
    await apply.run(ctxFor('pre'), params('schema.apply', { source: 'src', target: 'target', phase: 'pre-load', target_schema: LIVE }));
    const copyCtx = ctxFor('copy');
    const copied = await etlCopyAction(async () => source()).run(copyCtx, params('etl.copy', { source: 'src', target: 'target', target_schema: LIVE, chunk_rows: 1000, parallel: 2 }));
    expect(copied.summary).toContain('5,024 rows');
    expect(copied.details?.['quarantined']).toBe(1);
    expect(copyCtx.progressed.length).toBeGreaterThan(0);
    expect(await count(`SELECT count(*) AS n FROM ${LIVE}.antrag`)).toBe(4999);
    const q = await db.query(`SELECT key, column_name, reason FROM cutover_etl.quarantine WHERE load_id = $1`, [`etl-${SUFFIX}/copy`]);
    expect(q.rows).toEqual([expect.objectContaining({ key: { an_ID: '42' }, column_name: 'an_Nachname', reason: expect.stringContaining('NUL') })]);
    // The step result carries the first rows for the thread message and the query that lists them all (issue 16).
    const sample = copied.details?.['quarantine'] as { rows: unknown[]; all: string };
    expect(sample.rows).toEqual([{ table: expect.any(String), key: { an_ID: '42' }, column: 'an_Nachname', reason: expect.stringContaining('NUL') }]);
    expect((await db.query(sample.all)).rows).toEqual([expect.objectContaining({ key: { an_ID: '42' }, column_name: 'an_Nachname' })]);
    const tricky = await db.query(`SELECT an_nachname, an_betrag::text, an_bewerbungsdatum::text, an_guid::text FROM ${LIVE}.antrag WHERE an_id IN (8, 43) ORDER BY an_id`);
    expect(tricky.rows[0]).toMatchObject({ an_betrag: '999999999999999.9999' });
    expect(tricky.rows[1]).toMatchObject({ an_nachname: 'Tab\there\nnew "line" \\ back', an_bewerbungsdatum: '2004-07-15 10:20:30.123457' });

    // A retry of the same step resumes: every chunk is already booked, nothing is copied twice.
    const again = await etlCopyAction(async () => source()).run(copyCtx, params('etl.copy', { source: 'src', target: 'target', target_schema: LIVE, chunk_rows: 1000, parallel: 2 }));
    expect(again.summary).toContain('reconciles');
    expect(await count(`SELECT count(*) AS n FROM ${LIVE}.antrag`)).toBe(4999);

    const post = await apply.run(ctxFor('post'), params('schema.apply', { source: 'src', target: 'target', phase: 'post-load', target_schema: LIVE }));
    expect(post.summary).toContain('post-load');
    const fk = await db.query(`SELECT convalidated FROM pg_constraint WHERE conname ILIKE 'fk_antrag_bezirk' AND connamespace = '${LIVE}'::regnamespace`);
    expect(fk.rows).toEqual([{ convalidated: true }]);
    const next = await db.query<{ an_id: number }>(`INSERT INTO ${LIVE}.antrag (an_bezirk, an_aktiv) VALUES (1, true) RETURNING an_id`);
    expect(next.rows[0]?.an_id).toBeGreaterThan(5000);
  });

  it('the runbook time-zone rule reads wall-clock times as instants in that zone (timestamptz)', async () => {
    const ZONED = `etl_zone_${SUFFIX}`;
    try {
      const conv = { target_schema: ZONED, timezone: { zone: 'Europe/Berlin' }, tables: ['Bezirk', 'Antrag'] };
      await schemaApplyAction(async () => source()).run(ctxFor('zone-pre'), params('schema.apply', { source: 'src', target: 'target', phase: 'pre-load', ...conv }));
      await etlCopyAction(async () => source()).run(ctxFor('zone-copy'), params('etl.copy', { source: 'src', target: 'target', chunk_rows: 5000, ...conv }));
      const row = await db.query(`SELECT (an_bewerbungsdatum AT TIME ZONE 'UTC')::text AS utc FROM ${ZONED}.antrag WHERE an_id = 43`);
      // 2004-07-15 10:20:30 in Berlin (CEST, +02:00) is 08:20:30 UTC.
      expect(row.rows[0]).toEqual({ utc: '2004-07-15 08:20:30.123457' });
    } finally {
      await db.query(`DROP SCHEMA IF EXISTS ${ZONED} CASCADE`);
    }
  });

  it('pre-load refuses to overwrite existing tables unless told to replace them', async () => {
    const err = await thrown(() => schemaApplyAction(async () => source()).run(ctxFor('pre2'), params('schema.apply', { source: 'src', target: 'target', phase: 'pre-load', target_schema: LIVE })));
    expect(err.code).toBe('schema.tables_exist');
  });

  it('a dry run of etl.copy estimates from a measured sample and writes nothing', async () => {
    const result = await etlCopyAction(async () => source()).run(
      ctxFor('dry', { dryRun: true }),
      params('etl.copy', { source: 'src', target: 'target', target_schema: 'etl_never_created', chunk_rows: 1000 }),
    );
    expect(result.summary).toMatch(/Dry run: 2 tables, about 5,025 rows; estimated copy time .+ rows of Antrag read and encoded at/);
    expect(await count(`SELECT count(*) AS n FROM pg_namespace WHERE nspname = 'etl_never_created'`)).toBe(0);
  });

  it('extract → load through a verified snapshot; a flipped byte is refused before anything loads', async () => {
    const extracted = await extractAction(async () => source()).run(ctxFor('extract'), params('extract', { source: 'src', dir, target_schema: SNAP, chunk_rows: 1000 }));
    expect(extracted.summary).toContain('5,024 rows');
    await schemaApplyAction().run(ctxFor('snap-pre'), params('schema.apply', { snapshot: dir, target: 'target', phase: 'pre-load', target_schema: SNAP }));
    const loaded = await loadAction.run(ctxFor('load'), params('load', { dir, target: 'target' }));
    expect(loaded.summary).toContain('every table reconciles');
    expect(await count(`SELECT count(*) AS n FROM ${SNAP}.antrag`)).toBe(4999);

    const file = (await readdir(dir)).find((f) => f.includes('Antrag') && f.endsWith('.copy.gz'));
    if (!file) throw new Error('no chunk file');
    const bytes = await readFile(join(dir, file));
    const middle = bytes.length >> 1;
    bytes.writeUInt8((bytes.readUInt8(middle) ^ 0xff), middle);
    await writeFile(join(dir, file), bytes);
    const err = await thrown(() => loadAction.run(ctxFor('load2'), params('load', { dir, target: 'target' })));
    expect(err.code).toBe('snapshot.verify_failed');
    expect(err.message).toContain(file);
  });

  it('load in groups (issue 18): each step loads and verifies only its tables; a damaged file of another group does not stop it; an unknown table loads nothing', async () => {
    const groups = await mkdtemp(join(tmpdir(), 'cutover-snapshot-groups-'));
    try {
      await extractAction(async () => source()).run(ctxFor('g-extract'), params('extract', { source: 'src', dir: groups, target_schema: GROUPS, chunk_rows: 1000 }));
      await schemaApplyAction().run(ctxFor('g-pre'), params('schema.apply', { snapshot: groups, target: 'target', phase: 'pre-load', target_schema: GROUPS }));
      const antragFile = (await readdir(groups)).find((f) => f.includes('Antrag') && f.endsWith('.copy.gz'));
      if (!antragFile) throw new Error('no chunk file');
      const bytes = await readFile(join(groups, antragFile));
      await writeFile(join(groups, antragFile), Buffer.concat([bytes, Buffer.from([0])]));

      const bezirk = await loadAction.run(ctxFor('g-load-1'), params('load', { dir: groups, target: 'target', tables: ['dbo.Bezirk'] }));
      expect(bezirk.summary).toMatch(/^Loaded 25 rows into 1 tables/);
      expect(await count(`SELECT count(*) AS n FROM ${GROUPS}.bezirk`)).toBe(25);
      expect(await count(`SELECT count(*) AS n FROM ${GROUPS}.antrag`)).toBe(0);

      const antrag = await thrown(() => loadAction.run(ctxFor('g-load-2'), params('load', { dir: groups, target: 'target', tables: ['Antrag'] })));
      expect(antrag.code).toBe('snapshot.verify_failed');
      const unknown = await thrown(() => loadAction.run(ctxFor('g-load-3'), params('load', { dir: groups, target: 'target', tables: ['dbo.Antraege'] })));
      expect(unknown).toMatchObject({ code: 'load.unknown_tables', message: expect.stringContaining('dbo.Antraege') });
    } finally {
      await rm(groups, { recursive: true, force: true });
    }
  });
});
