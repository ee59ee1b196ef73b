import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { etlCopyAction } from '../../engine/actions/etl-copy.js';
import { etlSyncAction } from '../../engine/actions/etl-sync.js';
import { schemaApplyAction } from '../../engine/actions/schema-apply.js';
import type { SchemaModel } from '../../engine/schema/model.js';
import { ACTIONS } from '../../runbook/action-catalog.js';
import { actionContext, TEST_DATABASE_URL, thrown } from '../support/engine-context.js';
import { column, table } from '../support/fixtures/kgv-schema.js';
import type { RowObject } from '../support/memory-row-source.js';
import { MemorySyncSource } from '../support/memory-sync-source.js';

const SUFFIX = `${process.pid}`;
const LIVE = `sync_live_${SUFFIX}`;
const BOOKS = `sync_books_${SUFFIX}`;
const db = new pg.Pool({ connectionString: TEST_DATABASE_URL });
const CI = 'Latin1_General_CI_AS';

const model: SchemaModel = {
  sourceKind: 'mssql',
  database: 'kgv',
  serverVersion: 'test',
  collation: CI,
  others: [],
  tables: [
    table('Bezirk', [
      column('bez_ID', { nullable: false }),
      column('bez_Name', { type: 'nvarchar', maxLength: 50, collation: CI, nullable: false }),
      column('bez_Geaendert', { type: 'datetime2', scale: 7, nullable: false }),
    ], { primaryKey: { name: 'PK_Bezirk', columns: ['bez_ID'] }, rowCount: 25 }),
    table('Antrag', [
      column('an_ID', { nullable: false, identity: { seed: '1', increment: '1' } }),
      column('an_Bezirk', { nullable: false }),
      column('an_Nachname', { type: 'nvarchar', maxLength: 50, collation: CI }),
      column('an_Betrag', { type: 'decimal', precision: 19, scale: 4 }),
      column('an_Version', { type: 'rowversion', nullable: false, isRowVersion: true }),
    ], {
      primaryKey: { name: 'PK_Antrag', columns: ['an_ID'] },
      foreignKeys: [{ name: 'FK_Antrag_Bezirk', columns: ['an_Bezirk'], refSchema: 'dbo', refTable: 'Bezirk', refColumns: ['bez_ID'], onDelete: 'NO ACTION', onUpdate: 'NO ACTION', trusted: true }],
      rowCount: 5000,
    }),
    table('Person', [
      column('pe_ID', { type: 'uniqueidentifier', nullable: false }),
      column('pe_Name', { type: 'nvarchar', maxLength: 100, collation: CI }),
      column('pe_Version', { type: 'rowversion', nullable: false, isRowVersion: true }),
    ], { primaryKey: { name: 'PK_Person', columns: ['pe_ID'] }, rowCount: 40 }),
  ],
};

const guid = (i: number): string => `6f9619ff-8b86-d011-b42d-00c04fc9${String(i).padStart(4, '0')}`;
const seed = (): Record<string, RowObject[]> => ({
  Bezirk: Array.from({ length: 25 }, (_, i) => ({ bez_ID: i + 1, bez_Name: `Bezirk ${i + 1} – Köpenick`, bez_Geaendert: `2020-01-01 00:00:${String(i).padStart(2, '0')}.1234567` })),
  Antrag: Array.from({ length: 5000 }, (_, i) => ({ an_ID: i + 1, an_Bezirk: (i % 25) + 1, an_Nachname: `Müller-${i} 😀`, an_Betrag: `${i}.5000` })),
  Person: Array.from({ length: 40 }, (_, i) => ({ pe_ID: guid(i), pe_Name: `Person ${i}` })),
});

const source = new MemorySyncSource(model, seed());
const ctxFor = (stepId: string, extra: Partial<Parameters<typeof actionContext>[0]> = {}) => actionContext({ runId: `sync-${SUFFIX}`, stepId, ...extra });
const conv = { target_schema: LIVE };
const syncParams = (p: Record<string, unknown> = {}) =>
  ACTIONS['etl.sync']?.params.parse({ source: 'src', target: 'target', bookkeeping_schema: BOOKS, chunk_rows: 1000, tables_watermark: { Bezirk: { column: 'bez_Geaendert', overlap: '2s' } }, ...conv, ...p });
const sync = (stepId: string, p: Record<string, unknown> = {}, extra: Partial<Parameters<typeof actionContext>[0]> = {}) =>
  etlSyncAction(async () => source).run(ctxFor(stepId, extra), syncParams(p));
const perTable = (result: { details?: Record<string, unknown> }, name: string) =>
  (result.details?.['tables'] as Array<Record<string, unknown>>).find((t) => t['table'] === `${LIVE}.${name}`);

/** Count and an order-independent hash (sum of 60-bit md5 slices of each row's text) per table. */
async function fingerprint(schema: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const t of ['bezirk', 'antrag', 'person']) {
    const { rows } = await db.query<{ n: string; h: string }>(
      `SELECT count(*)::text AS n, coalesce(sum(('x' || substr(md5(t::text), 1, 15))::bit(60)::bigint::numeric), 0)::text AS h FROM "${schema}"."${t}" t`,
    );
    out[t] = `${rows[0]?.n}/${rows[0]?.h}`;
  }
  return out;
}

let refs = 0;
/** What the source holds now, loaded fresh by etl.copy into a schema of its own: the oracle the synced target must equal. */
async function sourceFingerprint(): Promise<Record<string, string>> {
  const ref = `sync_ref_${SUFFIX}_${++refs}`;
  try {
    const p = { source: 'src', target: 'target', target_schema: ref };
    await schemaApplyAction(async () => source).run(ctxFor(`${ref}-pre`), ACTIONS['schema.apply']?.params.parse({ ...p, phase: 'pre-load' }));
    await etlCopyAction(async () => source).run(ctxFor(`${ref}-copy`), ACTIONS['etl.copy']?.params.parse({ ...p, chunk_rows: 1000, bookkeeping_schema: BOOKS }));
    return await fingerprint(ref);
  } finally {
    await db.query(`DROP SCHEMA IF EXISTS "${ref}" CASCADE`);
  }
}

const markOf = async (name: string) => (await db.query<{ mark: string }>(`SELECT mark FROM "${BOOKS}".sync_marks WHERE target_table = $1`, [`${LIVE}.${name}`])).rows[0]?.mark;

beforeAll(async () => {
  await schemaApplyAction(async () => source).run(ctxFor('pre'), ACTIONS['schema.apply']?.params.parse({ source: 'src', target: 'target', phase: 'pre-load', ...conv }));
});

afterAll(async () => {
  for (const s of [LIVE, BOOKS]) await db.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
  await db.end();
});

describe('etl.sync against PostgreSQL (SQL Server stood in for by a changing memory source)', () => {
  it('refuses a table without a stored mark and says the full copy must run first', async () => {
    const err = await thrown(() => sync('too-early'));
    expect(err.code).toBe('sync.no_mark');
    expect(err.userMessage).toContain('the full copy must run first');
    expect(err.userMessage).toContain('initial: true');
  });

  it('initial run records the marks, the full copy follows; then only changed rows move and the target equals the source', async () => {
    const marked = await sync('initial', { initial: true });
    expect(marked.summary).toContain('Recorded the sync marks of 3 tables');
    expect(await markOf('antrag')).toMatch(/^0x[0-9A-F]{16}$/);
    expect(await markOf('bezirk')).toBe('2020-01-01 00:00:24.1234567');
    await etlCopyAction(async () => source).run(ctxFor('copy'), ACTIONS['etl.copy']?.params.parse({ source: 'src', target: 'target', chunk_rows: 1000, bookkeeping_schema: BOOKS, ...conv }));

    source.update('Antrag', 10, { an_Nachname: 'Geändert' });
    source.update('Antrag', 2500, { an_Betrag: '0.0001' });
    source.insert('Antrag', { an_ID: 5001, an_Bezirk: 3, an_Nachname: 'Neu', an_Betrag: '1.0000' });
    for (const id of [1, 777, 3333, 5000]) source.delete('Antrag', id);
    source.update('Bezirk', 7, { bez_Name: 'Umbenannt', bez_Geaendert: '2020-01-02 08:00:00.0000001' });
    source.delete('Person', guid(5));
    source.update('Person', guid(6), { pe_Name: 'Umbenannt' });

    const synced = await sync('sync-1');
    expect(perTable(synced, 'antrag')).toMatchObject({ read: 3, upserted: 3, deleted: 4, quarantined: 0 });
    expect(perTable(synced, 'person')).toMatchObject({ read: 1, upserted: 1, deleted: 1 });
    // The overlap re-reads the rows near the old mark; equal rows are read but not written.
    expect(perTable(synced, 'bezirk')).toMatchObject({ upserted: 1, deleted: 0 });
    expect(Number(perTable(synced, 'bezirk')?.['read'])).toBeGreaterThan(1);
    expect(synced.summary).toContain('5 rows upserted, 5 deleted');
    expect(await markOf('bezirk')).toBe('2020-01-02 08:00:00.0000001');
    expect(await fingerprint(LIVE)).toEqual(await sourceFingerprint());
  });

  it('a second sync with no changes moves nothing and lists no key range', async () => {
    const before = await markOf('antrag');
    const again = await sync('sync-2');
    expect(again.details).toMatchObject({ upserted: 0, deleted: 0, quarantined: 0 });
    expect(perTable(again, 'antrag')).toMatchObject({ read: 0, ranges: { compared: 5, listed: 0 } });
    expect(await markOf('antrag')).toBe(before);
  });

  it('a dry run counts what would move and writes nothing', async () => {
    source.update('Antrag', 20, { an_Nachname: 'Trocken' });
    source.delete('Antrag', 21);
    const mark = await markOf('antrag');
    const dry = await sync('dry', {}, { dryRun: true });
    expect(dry.summary).toContain('Dry run: would sync 3 tables: 1 rows upserted, 1 deleted');
    expect(await markOf('antrag')).toBe(mark);
    const rows = await db.query(`SELECT an_id, an_nachname FROM "${LIVE}".antrag WHERE an_id IN (20, 21) ORDER BY an_id`);
    expect(rows.rows).toEqual([{ an_id: 20, an_nachname: 'Müller-19 😀' }, { an_id: 21, an_nachname: 'Müller-20 😀' }]);
  });

  it('a crash mid-transaction leaves the old mark and target; the retry replays the window and converges', async () => {
    source.update('Antrag', 30, { an_Nachname: 'Absturz' });
    source.update('Antrag', 4000, { an_Nachname: 'Absturz' });
    const mark = await markOf('antrag');
    const ctx = ctxFor('sync-crash');
    source.onRead = (t, i) => {
      if (t === 'Antrag' && i === 3500) ctx.controller.abort(new Error('worker killed'));
    };
    try {
      const err = await thrown(() => etlSyncAction(async () => source).run(ctx, syncParams()));
      expect(err.code).toBe('etl.cancelled');
    } finally {
      source.onRead = null;
    }
    expect(await markOf('antrag')).toBe(mark);
    const row = await db.query(`SELECT an_nachname FROM "${LIVE}".antrag WHERE an_id = 30`);
    expect(row.rows[0]?.an_nachname).toBe('Müller-29 😀');

    const retried = await sync('sync-crash');
    // Rows 20 and 21 were changed before the dry run, which wrote nothing: they move now, with the crashed window.
    expect(perTable(retried, 'antrag')).toMatchObject({ upserted: 3, deleted: 1 });
    expect(await markOf('antrag')).not.toBe(mark);
    expect(await fingerprint(LIVE)).toEqual(await sourceFingerprint());
  });

  it('a row changed while the sync reads is not lost: it is past the mark and moves with the next sync', async () => {
    source.update('Antrag', 40, { an_Nachname: 'Vorher' });
    source.onRead = (t, i) => {
      if (t === 'Antrag' && i === 100) {
        source.onRead = null;
        source.update('Antrag', 50, { an_Nachname: 'Während' });
      }
    };
    const first = await sync('sync-during');
    expect(perTable(first, 'antrag')).toMatchObject({ upserted: 1 });
    const next = await sync('sync-after');
    expect(perTable(next, 'antrag')).toMatchObject({ upserted: 1 });
    const row = await db.query(`SELECT an_nachname FROM "${LIVE}".antrag WHERE an_id = 50`);
    expect(row.rows[0]?.an_nachname).toBe('Während');
  });

  it('after post-load (keys, foreign keys): upserts go through ON CONFLICT and refused rows are quarantined with their reason', async () => {
    await schemaApplyAction(async () => source).run(ctxFor('post'), ACTIONS['schema.apply']?.params.parse({ source: 'src', target: 'target', phase: 'post-load', ...conv }));
    source.update('Antrag', 60, { an_Nachname: 'Nul\u0000Byte' });
    source.update('Antrag', 61, { an_Bezirk: 99 });
    source.update('Antrag', 62, { an_Nachname: 'Gut' });
    source.insert('Antrag', { an_ID: 6000, an_Bezirk: 1, an_Nachname: 'Neu nach post-load', an_Betrag: null });
    const synced = await sync('sync-post');
    expect(perTable(synced, 'antrag')).toMatchObject({ read: 4, upserted: 2, quarantined: 2 });
    const q = await db.query<{ key: unknown; reason: string }>(`SELECT key, reason FROM "${BOOKS}".quarantine WHERE load_id = $1 ORDER BY key->>'an_ID'`, [`sync-${SUFFIX}/sync-post`]);
    expect(q.rows).toEqual([
      { key: { an_ID: '60' }, reason: expect.stringContaining('NUL') },
      { key: { an_ID: '61' }, reason: expect.stringContaining('23503') },
    ]);
    const rows = await db.query(`SELECT an_id, an_nachname FROM "${LIVE}".antrag WHERE an_id IN (62, 6000) ORDER BY an_id`);
    expect(rows.rows).toEqual([{ an_id: 62, an_nachname: 'Gut' }, { an_id: 6000, an_nachname: 'Neu nach post-load' }]);
  });
});
