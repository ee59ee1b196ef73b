import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadAction } from '../../engine/actions/load.js';
import { schemaApplyAction } from '../../engine/actions/schema-apply.js';
import { catalogRowsToModel } from '../../engine/mssql/catalog.js';
import { KGV_CATALOG_ROWS } from '../../engine/sample/kgv/catalog-rows.js';
import { ensureKgvSample, fingerprintOf, generateKgvSample, SAMPLE_FINGERPRINT, writeKgvSnapshot } from '../../engine/sample/kgv/index.js';
import { SnapshotSource } from '../../engine/snapshot/reader.js';
import { loadParams } from '../../runbook/actions/load.js';
import { schemaApplyParams } from '../../runbook/actions/schema-apply.js';
import { actionContext, TEST_DATABASE_URL, thrown } from '../support/engine-context.js';

/**
 * The KGV sample (engine/sample/kgv): the same bytes on every run, a
 * snapshot the engine verifies and loads, its edge cases arriving unchanged
 * or quarantined with their reasons.
 */
const admin = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 1 });
// A database of its own: the snapshot maps into migration_staging, and the load keeps its books in cutover_etl.
const DATABASE = `kgv_sample_${process.pid}`;
const url = (): string => Object.assign(new URL(TEST_DATABASE_URL), { pathname: `/${DATABASE}` }).toString();
let db: pg.Pool;
const RUN = 'kgv-sample';
let root: string;

const filesOf = async (dir: string): Promise<Record<string, string>> => {
  const out: Record<string, string> = {};
  for (const f of (await readdir(dir)).sort()) out[f] = createHash('sha256').update(await readFile(join(dir, f))).digest('hex');
  return out;
};

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'cutover-kgv-sample-'));
  await admin.query(`DROP DATABASE IF EXISTS "${DATABASE}"`);
  await admin.query(`CREATE DATABASE "${DATABASE}"`);
  db = new pg.Pool({ connectionString: url() });
  // Pool.end() resolves before its clients' sessions are gone: afterAll's DROP DATABASE … WITH (FORCE) can terminate one (57P01),
  // and the pool re-emits that as an error event, which unheard fails the whole test run.
  db.on('error', () => undefined);
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
  await db?.end();
  await admin.query(`DROP DATABASE IF EXISTS "${DATABASE}" WITH (FORCE)`);
  await admin.end();
});

describe('the KGV sample generator', () => {
  it('writes the same bytes twice, manifest included, and its content matches the fingerprint ensureKgvSample trusts', async () => {
    const a = await writeKgvSnapshot(join(root, 'a'));
    await writeKgvSnapshot(join(root, 'b'));
    const [fa, fb] = [await filesOf(join(root, 'a')), await filesOf(join(root, 'b'))];
    expect(Object.keys(fa)).toContain('manifest.json');
    expect(Object.keys(fa).length).toBeGreaterThan(20);
    expect(fb).toEqual(fa);
    expect(a.createdAt).toBe('2024-11-30T21:00:00.000Z');
    // Changing the generator changes this; update SAMPLE_FINGERPRINT so old sample directories are regenerated.
    expect(fingerprintOf(a)).toBe(SAMPLE_FINGERPRINT);
  }, 60_000);

  it('describes the ten legacy tables exactly as the mssql catalog mapper makes of the KGV catalog rows', () => {
    const { model, rows } = generateKgvSample();
    const fromCatalog = catalogRowsToModel(KGV_CATALOG_ROWS);
    const withoutCounts = (m: typeof model) => ({ ...m, tables: m.tables.map((t) => ({ ...t, rowCount: 0 })) });
    expect(withoutCounts(model)).toEqual(withoutCounts(fromCatalog));
    expect(model.tables.map((t) => t.name)).toEqual(['Aktenzeichen', 'Antrag', 'Bezirk', 'Bezirke_Katasterbezirke', 'Eingangsnummer', 'Katasterbezirk', 'Kennungen', 'Mischenfelder', 'Personen', 'Verlauf']);
    for (const t of model.tables) expect(t.rowCount, t.name).toBe(rows[t.name]?.length);
    expect(rows['Antrag']?.length).toBe(4000);
    expect(rows['Verlauf']?.length).toBeGreaterThan(10_000);
    const applied = (rows['Antrag'] ?? []).map((r) => String(r['an_Bewerbungsdatum']));
    expect(applied.reduce((a, b) => (a < b ? a : b))).toMatch(/^2004-01/);
  });
});

describe('ensureKgvSample', () => {
  it('generates once, keeps a valid sample, regenerates a damaged one, and never empties a directory that is not a snapshot', async () => {
    const dir = join(root, 'ensure');
    expect(await ensureKgvSample(dir)).toEqual({ dir, created: true });
    expect(await ensureKgvSample(dir)).toEqual({ dir, created: false });

    const chunk = (await readdir(dir)).find((f) => f.startsWith('dbo.Antrag.') && f.endsWith('.copy.gz')) as string;
    const bytes = await readFile(join(dir, chunk));
    bytes[100] = (bytes[100] ?? 0) ^ 0xff;
    await writeFile(join(dir, chunk), bytes);
    expect(await ensureKgvSample(dir)).toEqual({ dir, created: true });
    expect((await (await SnapshotSource.open(dir)).verify({ content: true })).ok).toBe(true);

    const foreign = join(root, 'foreign');
    await ensureKgvSample(foreign);
    await writeFile(join(foreign, 'notes.txt'), 'mine');
    await writeFile(join(foreign, 'manifest.json'), '{}');
    const err = await thrown(() => ensureKgvSample(foreign));
    expect(err.code).toBe('sample.dir_in_use');
    expect(await readFile(join(foreign, 'notes.txt'), 'utf8')).toBe('mine');
  }, 60_000);
});

describe('the sample through the engine', () => {
  it('verifies, loads with the NUL byte and the year-0 date quarantined with their reasons, takes its keys, and keeps every edge case', async () => {
    const { dir } = await ensureKgvSample(join(root, 'load'));
    const snapshot = await SnapshotSource.open(dir);
    expect((await snapshot.verify({ content: true })).ok).toBe(true);
    const ctx = (step: string) => actionContext({ runId: RUN, stepId: step, connectionSpecs: { target: { kind: 'postgres', url: url() } } });
    const apply = (phase: 'pre-load' | 'post-load') =>
      schemaApplyAction().run(ctx(`apply-${phase}`), schemaApplyParams.parse({ snapshot: dir, target: 'target', target_schema: 'migration_staging', phase }));

    await apply('pre-load');
    const loaded = await loadAction.run(ctx('load'), loadParams.parse({ dir, target: 'target' }));
    expect(loaded.details).toMatchObject({ rows: 23_853, quarantined: 2 });
    const quarantine = await db.query<{ table_name: string; column_name: string; reason: string; key: Record<string, string> }>(
      'SELECT table_name, column_name, reason, key FROM cutover_etl.quarantine WHERE load_id = $1 ORDER BY table_name',
      [`${RUN}/load`],
    );
    expect(quarantine.rows).toEqual([
      { table_name: 'migration_staging.antrag', column_name: 'an_Geburtstag', reason: 'year 0 outside 1..9999', key: { an_ID: '2' } },
      { table_name: 'migration_staging.verlauf', column_name: 've_Text', reason: 'NUL byte (0x00) in text: PostgreSQL cannot store it', key: { ve_ID: expect.any(String) } },
    ]);
    // Keys, checks and the legacy foreign keys (VALIDATE) hold: the quarantined application had no history.
    expect((await apply('post-load')).summary).toMatch(/^Applied \d+ post-load statements/);

    const one = async (sql: string): Promise<unknown> => Object.values((await db.query(sql)).rows[0] ?? {})[0];
    const s = 'migration_staging';
    expect(await one(`SELECT count(*)::int FROM ${s}.antrag WHERE an_nachname = '𠮷田'`)).toBe(1);
    expect(await one(`SELECT count(*)::int FROM ${s}.antrag WHERE an_nachname = 'Schmidt '`)).toBe(1);
    expect(await one(`SELECT count(*)::int FROM ${s}.antrag WHERE an_vermerk = E'Telefonat 12.03.:\\nwill nur Pankow\\r\\n\\tRückruf nach 18 Uhr'`)).toBe(1);
    expect(await one(`SELECT count(*)::int FROM ${s}.antrag WHERE strpos(an_vermerk, '"Garten ist ''dringend''" – Scan unter C:\\Scans\\2004\\antrag.tif') > 0`)).toBe(1);
    expect(await one(`SELECT count(*)::int FROM ${s}.antrag WHERE an_email = ''`)).toBe(1);
    expect(await one(`SELECT en_gebuehr::text FROM ${s}.eingangsnummer WHERE en_gebuehr > 1000000`)).toBe('922337203685477.5807');
    expect(await one(`SELECT en_nummer::text FROM ${s}.eingangsnummer WHERE en_nummer > 10000000000`)).toBe('999999999999999999');
    // datetime2(7) …59.9999995 rounds half up into the next year (encode-temporal.ts).
    expect(await one(`SELECT count(*)::int FROM ${s}.eingangsnummer WHERE en_eingang = '2005-01-01 00:00:00'`)).toBe(1);
    expect(await one(`SELECT count(*)::int FROM ${s}.verlauf WHERE ve_art = 'B '`)).toBe(1);
    expect(await one(`SELECT count(*)::int FROM ${s}.mischenfelder WHERE mf_wert = ''`)).toBe(1);
    expect(await one(`SELECT count(*)::int FROM ${s}.mischenfelder WHERE mf_wert IS NULL`)).toBe(1);
  }, 90_000);
});
