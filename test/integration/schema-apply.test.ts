import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyPostLoad, applyStatements, type ApplyProgress } from '../../engine/schema/apply.js';
import { convertSchema, type SchemaConversion } from '../../engine/schema/convert.js';
import { TEST_DATABASE_URL } from '../support/engine-context.js';
import { kgvSchema } from '../support/fixtures/kgv-schema.js';

const S = `cutover_schema_apply_${process.pid}`;
const ICU = `${S}_icu`;
const SCRATCH = `${S}_scratch`;

let pool: pg.Pool;
let conv: SchemaConversion;

const q = async (sql: string, values: unknown[] = []): Promise<pg.QueryResult> => pool.query(sql, values);
const sqlstateOf = async (sql: string): Promise<string | undefined> =>
  q(sql).then(
    () => undefined,
    (err: unknown) => (err instanceof pg.DatabaseError ? err.code : 'not a database error'),
  );

beforeAll(async () => {
  pool = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 6 });
  await q(`DROP SCHEMA IF EXISTS "${S}" CASCADE; DROP SCHEMA IF EXISTS "${ICU}" CASCADE; DROP SCHEMA IF EXISTS "${SCRATCH}" CASCADE`);
  conv = convertSchema(kgvSchema(), { targetSchema: S });
});

afterAll(async () => {
  await q(`DROP SCHEMA IF EXISTS "${S}" CASCADE; DROP SCHEMA IF EXISTS "${ICU}" CASCADE; DROP SCHEMA IF EXISTS "${SCRATCH}" CASCADE`);
  await pool.end();
});

describe('the KGV schema applied to PostgreSQL', () => {
  it('creates the bare tables in one transaction before the load', async () => {
    expect(conv.report.errors).toEqual([]);
    const progress: ApplyProgress[] = [];
    const result = await applyStatements(pool, conv.preLoad, { onProgress: (p) => progress.push(p) });
    expect(result).toEqual({ ok: true, applied: conv.preLoad.length, total: conv.preLoad.length, failures: [] });
    expect(progress.map((p) => p.done)).toEqual(conv.preLoad.map((_, i) => i + 1));
    const tables = await q(`SELECT tablename FROM pg_tables WHERE schemaname = $1 ORDER BY 1`, [S]);
    expect(tables.rows.map((r) => r.tablename)).toEqual([
      'aktenzeichen', 'antrag', 'bezirk', 'bezirke_katasterbezirke', 'eingangsnummer', 'katasterbezirk',
      'kennungen', 'mischenfelder', 'personen', 'typen', 'verlauf',
    ]);
    const constraints = await q(`SELECT count(*)::int AS n FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = $1 AND c.contype IN ('p','u','f')`, [S]);
    expect(constraints.rows[0].n).toBe(0);
  });

  it('takes rows as the load writes them (explicit identity values), computing the generated column', async () => {
    await q(`INSERT INTO "${S}".bezirk (bez_id, bez_name) VALUES (1, 'Mitte'), (2, 'Nord')`);
    await q(`INSERT INTO "${S}".katasterbezirk (kb_id, kb_bezirk, kb_nummer) VALUES (1, 1, '001')`);
    await q(`INSERT INTO "${S}".bezirke_katasterbezirke VALUES (1, 1)`);
    await q(`INSERT INTO "${S}".antrag (an_id, an_nachname, an_vorname, an_bezirk, an_aktiv, an_bewerbungsdatum)
             VALUES (5, 'Müller', 'Jörg', 1, '1', '2001-01-01 10:00:00.003'), (7, 'O''Brien', NULL, 2, '0', '2002-02-02')`);
    await q(`INSERT INTO "${S}".verlauf (ve_id, ve_antrag, ve_art) VALUES (3, 5, 'AE')`);
    const names = await q(`SELECT an_name FROM "${S}".antrag ORDER BY an_id`);
    expect(names.rows.map((r) => r.an_name)).toEqual(['Müller, Jörg', "O'Brien, "]);
    const defaults = await q(`SELECT ve_gelesen, ve_datum IS NOT NULL AS dated FROM "${S}".verlauf`);
    expect(defaults.rows).toEqual([{ ve_gelesen: false, dated: true }]);
  });

  it('builds keys, indexes, checks and foreign keys after the load, validating the trusted ones', async () => {
    const progress: ApplyProgress[] = [];
    const result = await applyPostLoad(pool, conv.postLoad, { onProgress: (p) => progress.push(p) });
    expect(result.failures).toEqual([]);
    const all = Object.values(conv.postLoad).flat().length;
    expect(result).toMatchObject({ ok: true, applied: all, total: all });
    expect(new Set(progress.map((p) => p.phase))).toEqual(new Set(['keys and indexes', 'checks', 'foreign keys', 'validate foreign keys']));

    const pks = await q(`SELECT conrelid::regclass::text AS t FROM pg_constraint WHERE contype = 'p' AND connamespace = $1::regnamespace`, [S]);
    expect(pks.rows).toHaveLength(10);
    const fks = await q(`SELECT conname, convalidated FROM pg_constraint WHERE contype = 'f' AND connamespace = $1::regnamespace ORDER BY 1`, [S]);
    expect(fks.rows).toEqual([
      { conname: 'fk_antrag_bezirk', convalidated: true },
      { conname: 'fk_bk_bezirk', convalidated: false },
      { conname: 'fk_bk_katasterbezirk', convalidated: true },
      { conname: 'fk_katasterbezirk_bezirk', convalidated: false },
      { conname: 'fk_verlauf_antrag', convalidated: true },
    ]);
    const ix = await q(`SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = $1 AND indexname LIKE 'i%' OR schemaname = $1 AND indexname LIKE 'u%' ORDER BY 1`, [S]);
    expect(ix.rows.map((r) => r.indexname)).toEqual(['ix_antrag_bewerbung_aktiv', 'ix_antrag_name', 'ix_verlauf_antrag', 'uq_personen_login', 'ux_antrag_aktenzeichen']);
    expect(ix.rows.find((r) => r.indexname === 'ix_antrag_bewerbung_aktiv')?.indexdef).toMatch(/\(an_bewerbungsdatum DESC\) WHERE \(an_aktiv = '1'::bpchar\)/);
    expect(ix.rows.find((r) => r.indexname === 'ix_antrag_name')?.indexdef).toContain('INCLUDE (an_ort)');
  });

  it('enforces the converted constraints', async () => {
    expect(await sqlstateOf(`INSERT INTO "${S}".antrag (an_nachname, an_aktiv) VALUES ('X', 'x')`)).toBe('23514');
    expect(await sqlstateOf(`UPDATE "${S}".antrag SET an_loeschdatum = '1999-01-01' WHERE an_id = 5`)).toBe('23514');
    expect(await sqlstateOf(`INSERT INTO "${S}".verlauf (ve_antrag, ve_art) VALUES (999, 'AE')`)).toBe('23503');
    expect(await sqlstateOf(`INSERT INTO "${S}".bezirk (bez_id, bez_name) VALUES (1, 'Doppelt')`)).toBe('23505');
    expect(await sqlstateOf(`INSERT INTO "${S}".typen (c_id, c_tinyint, c_rowversion, c_timestamp) VALUES (1, 256, '\\x00', '\\x00')`)).toBe('23514');
    expect(await sqlstateOf(`INSERT INTO "${S}".antrag (an_id, an_nachname, an_aktenzeichen) VALUES (100, 'A', 'AZ-1'), (101, 'B', 'AZ-1')`)).toBe('23505');
    const cascade = await q(`DELETE FROM "${S}".antrag WHERE an_id = 5`);
    expect(cascade.rowCount).toBe(1);
    expect((await q(`SELECT count(*)::int AS n FROM "${S}".verlauf`)).rows[0].n).toBe(0);
  });

  it('sets identity sequences past the loaded maximum, or to the seed of an empty table', async () => {
    const result = await applyStatements(pool, conv.identitySync);
    expect(result.failures).toEqual([]);
    const antrag = await q(`INSERT INTO "${S}".antrag (an_nachname) VALUES ('Neu') RETURNING an_id`);
    expect(antrag.rows[0].an_id).toBe(8);
    const eingang = await q(`INSERT INTO "${S}".eingangsnummer (en_nummer) VALUES (1) RETURNING en_id, en_eingang IS NOT NULL AS dated`);
    expect(eingang.rows[0]).toEqual({ en_id: '1000000', dated: true });
    const bezirk = await q(`INSERT INTO "${S}".bezirk (bez_name) VALUES ('Süd') RETURNING bez_id`);
    expect(bezirk.rows[0].bez_id).toBe(3);
  });

  it('creates every mapped type as the documented PostgreSQL type', async () => {
    const types = await q(
      `SELECT attname, format_type(atttypid, atttypmod) AS type FROM pg_attribute
       WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
      [`"${S}".typen`],
    );
    expect(Object.fromEntries(types.rows.map((r) => [r.attname, r.type]))).toEqual({
      c_id: 'integer',
      c_bit: 'boolean',
      c_tinyint: 'smallint',
      c_smallint: 'smallint',
      c_int: 'integer',
      c_bigint: 'bigint',
      c_decimal: 'numeric(38,10)',
      c_numeric: 'numeric(9,2)',
      c_money: 'numeric(19,4)',
      c_smallmoney: 'numeric(10,4)',
      c_float: 'double precision',
      c_real: 'real',
      c_date: 'date',
      c_time: 'time(6) without time zone',
      c_datetime: 'timestamp(3) without time zone',
      c_smalldatetime: 'timestamp(0) without time zone',
      c_datetime2: 'timestamp(6) without time zone',
      c_datetimeoffset: 'timestamp(6) with time zone',
      c_uniqueidentifier: 'uuid',
      c_char: 'character(10)',
      c_nchar: 'character(10)',
      c_varchar: 'character varying(50)',
      c_nvarchar: 'character varying(4000)',
      c_sysname: 'character varying(128)',
      c_text: 'text',
      c_ntext: 'text',
      c_binary: 'bytea',
      c_varbinary: 'bytea',
      c_image: 'bytea',
      c_xml: 'xml',
      c_rowversion: 'bytea',
      c_timestamp: 'bytea',
      c_sql_variant: 'text',
      c_hierarchyid: 'text',
      c_geography: 'text',
      c_geometry: 'text',
    });
    const mapping = conv.mappings.find((m) => m.source.name === 'Typen');
    expect(mapping?.columns.map((c) => c.target)).toEqual(types.rows.map((r) => r.attname));
  });
});

describe('case-insensitive keys with an ICU collation', () => {
  it('rejects a login differing only in case, as SQL Server did', async () => {
    const icu = convertSchema(kgvSchema(), { targetSchema: ICU, tables: ['Personen'], caseInsensitive: 'icu' });
    expect((await applyStatements(pool, icu.preLoad)).failures).toEqual([]);
    expect((await applyPostLoad(pool, icu.postLoad)).failures).toEqual([]);
    await q(`INSERT INTO "${ICU}".personen (pe_login, pe_version) VALUES ('Admin', '\\x01')`);
    expect(await sqlstateOf(`INSERT INTO "${ICU}".personen (pe_login, pe_version) VALUES ('ADMIN', '\\x02')`)).toBe('23505');
  });
});

describe('failures', () => {
  it('rolls back the whole pre-load transaction and names the failing statement', async () => {
    const bad = `CREATE TABLE "${SCRATCH}".bad (a no_such_type)`;
    const result = await applyStatements(pool, [`CREATE SCHEMA "${SCRATCH}"`, `CREATE TABLE "${SCRATCH}".ok (a int)`, bad, 'SELECT 1']);
    expect(result).toEqual({
      ok: false,
      applied: 0,
      total: 4,
      failures: [{ statement: bad, message: 'type "no_such_type" does not exist', sqlstate: '42704' }],
    });
    expect((await q(`SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = $1`, [SCRATCH])).rows[0].n).toBe(0);
  });

  it('goes on after a failed post-load statement, runs index builds on two connections with raised maintenance_work_mem', async () => {
    await q(`CREATE SCHEMA "${SCRATCH}"; CREATE TABLE "${SCRATCH}".log (pid int, mem text)`);
    const logged = `INSERT INTO "${SCRATCH}".log SELECT pg_backend_pid(), current_setting('maintenance_work_mem') FROM pg_sleep(0.2)`;
    const broken = `CREATE INDEX nope ON "${SCRATCH}".missing (a)`;
    const result = await applyPostLoad(
      pool,
      { primaryKeys: [logged, logged], uniques: [], indexes: [broken, logged, logged], checks: [], foreignKeys: [], validations: [] },
      { maintenanceWorkMem: '256MB' },
    );
    expect(result).toMatchObject({ ok: false, applied: 4, total: 5 });
    expect(result.failures).toEqual([{ statement: broken, message: `relation "${SCRATCH}.missing" does not exist`, sqlstate: '42P01' }]);
    const log = await q(`SELECT count(DISTINCT pid)::int AS pids, array_agg(DISTINCT mem) AS mem FROM "${SCRATCH}".log`);
    expect(log.rows[0]).toEqual({ pids: 2, mem: ['256MB'] });
  });

  it('runs nothing once the signal has fired, and reports each statement as cancelled', async () => {
    const controller = new AbortController();
    controller.abort(new Error('step timeout'));
    const result = await applyStatements(pool, [`CREATE TABLE "${SCRATCH}".never (a int)`], { signal: controller.signal });
    expect(result.failures).toEqual([{ statement: `CREATE TABLE "${SCRATCH}".never (a int)`, message: 'cancelled: step timeout', sqlstate: null }]);
    expect((await q(`SELECT to_regclass($1) IS NULL AS gone`, [`"${SCRATCH}".never`])).rows[0].gone).toBe(true);
  });

  it('cancels a running statement when the signal fires', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('shutdown')), 200);
    const started = Date.now();
    const result = await applyStatements(pool, ['SELECT pg_sleep(20)'], { signal: controller.signal });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(result.failures[0]).toMatchObject({ statement: 'SELECT pg_sleep(20)', sqlstate: '57014' });
  });
});
