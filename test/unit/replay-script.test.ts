import { describe, expect, it } from 'vitest';
import { csvField, csvLine } from '../../engine/rollback/csv-writer.js';
import { dependencyOrder, planReplay, type ReplayTable } from '../../engine/rollback/export-plan.js';
import { pgDialect, tsqlDialect, type TableFigures } from '../../engine/rollback/replay-script.js';
import { bracket, declOf, kindOfSourceType, pgValue, tsqlName, tsqlValue, type ReplayColumn } from '../../engine/rollback/replay-values.js';
import type { ColumnModel, SchemaModel, TableModel } from '../../engine/schema/model.js';
import { convertSchema } from '../../engine/schema/convert.js';
import { switchParams } from '../../runbook/actions/switch.js';
import { exportSinceGoliveParams } from '../../runbook/actions/rollback-export-since-golive.js';

const col = (name: string, kind: ReplayColumn['kind'], decl: string): ReplayColumn => ({ name, kind, decl });

const antrag = (over: Partial<ReplayTable> = {}): ReplayTable => ({
  source: 'dbo.Antrag',
  target: 'kgv.applications',
  columns: [col('an_ID', 'number', 'int'), col('an_Name', 'text', 'nvarchar(50)'), col('an_Aktiv', 'boolean', 'bit')],
  selects: ['t.legacy_id', 't.last_name', 't.is_active'],
  key: ['an_ID'],
  identity: 'an_ID',
  changedColumn: 'updated_at',
  sameRowCount: true,
  parents: [],
  ...over,
});

describe('T-SQL identifiers', () => {
  it('brackets names and doubles a closing bracket', () => {
    expect(bracket('an_Aktiv')).toBe('[an_Aktiv]');
    expect(bracket('we]ird[')).toBe('[we]]ird[]');
    expect(tsqlName('dbo.Antrag')).toBe('[dbo].[Antrag]');
    expect(tsqlName('my]schema.t]')).toBe('[my]]schema].[t]]]');
  });
});

describe('values as literals of the source type', () => {
  it('writes a NULL typed as the source column, so a column NULL in every row keeps its type', () => {
    expect(tsqlValue(col('d', 'datetime', 'datetime2(7)'), null)).toBe('CAST(NULL AS datetime2(7))');
    expect(tsqlValue(col('s', 'text', 'nvarchar(max)'), null)).toBe('CAST(NULL AS nvarchar(max))');
    expect(pgValue(col('d', 'datetime', 'datetime2(7)'), null)).toBe('NULL::timestamp');
  });

  it('writes strings as N-literals with quotes doubled, keeping unicode, emoji and line breaks', () => {
    const s = col('s', 'text', 'nvarchar(50)');
    expect(tsqlValue(s, "O'Brien's")).toBe("N'O''Brien''s'");
    expect(tsqlValue(s, 'Größe ☃ 🌱 日本')).toBe("N'Größe ☃ 🌱 日本'");
    expect(tsqlValue(s, '')).toBe("N''");
    expect(tsqlValue(s, 'NULL')).toBe("N'NULL'");
    expect(tsqlValue(s, 'line1\nline2')).toBe("N'line1\nline2'");
  });

  it('writes decimals exactly, binary as 0x…, bits, GUIDs and temporal values through CONVERT', () => {
    expect(tsqlValue(col('m', 'number', 'decimal(38,12)'), '12345678901234567890.123456789012')).toBe('12345678901234567890.123456789012');
    expect(tsqlValue(col('m', 'number', 'money'), '-0.0001')).toBe('-0.0001');
    expect(tsqlValue(col('f', 'number', 'float'), '1.5e-07')).toBe('1.5e-07');
    expect(() => tsqlValue(col('f', 'number', 'float'), 'NaN')).toThrow(/no SQL Server literal/);
    expect(tsqlValue(col('b', 'binary', 'varbinary(max)'), '\\xdeadbeef00')).toBe('0xDEADBEEF00');
    expect(tsqlValue(col('b', 'binary', 'varbinary(max)'), '\\x')).toBe('0x');
    expect(tsqlValue(col('a', 'boolean', 'bit'), 'true')).toBe('CAST(1 AS bit)');
    expect(tsqlValue(col('a', 'boolean', 'bit'), 'f')).toBe('CAST(0 AS bit)');
    expect(tsqlValue(col('g', 'uuid', 'uniqueidentifier'), '2F1E0C4A-8B9D-4E6F-A1B2-C3D4E5F60718')).toBe("CONVERT(uniqueidentifier, '2f1e0c4a-8b9d-4e6f-a1b2-c3d4e5f60718')");
    expect(() => tsqlValue(col('g', 'uuid', 'uniqueidentifier'), "x'; DROP TABLE t; --")).toThrow(/no SQL Server literal/);
    expect(tsqlValue(col('d', 'datetime', 'datetime'), '1753-01-01 00:00:00')).toBe("CONVERT(datetime2(7), '1753-01-01 00:00:00', 121)");
    expect(tsqlValue(col('d', 'datetime', 'datetime2(7)'), '9999-12-31 23:59:59.999999+00')).toBe("CONVERT(datetime2(7), '9999-12-31 23:59:59.999999', 121)");
    expect(tsqlValue(col('d', 'date', 'date'), '0001-01-01')).toBe("CONVERT(date, '0001-01-01', 121)");
    expect(tsqlValue(col('t', 'time', 'time(7)'), '23:59:59.999999')).toBe("CONVERT(time(7), '23:59:59.999999', 121)");
    expect(tsqlValue(col('o', 'datetimeoffset', 'datetimeoffset(7)'), '2026-03-01 06:30:00+00')).toBe("CAST('2026-03-01 06:30:00 +00:00' AS datetimeoffset(7))");
    expect(tsqlValue(col('h', 'hierarchyid', 'hierarchyid'), '/1/3/')).toBe("CAST(N'/1/3/' AS hierarchyid)");
    expect(() => tsqlValue(col('d', 'datetime', 'datetime2(7)'), 'infinity')).toThrow(/no SQL Server literal/);
    expect(() => tsqlValue(col('d', 'date', 'date'), '0044-03-15 BC')).toThrow(/no SQL Server literal/);
  });

  it('reads the source type: kinds, declarations, and spatial types refused by name', () => {
    expect(kindOfSourceType('smallmoney', 'x')).toBe('number');
    expect(kindOfSourceType('smalldatetime', 'x')).toBe('datetime');
    expect(kindOfSourceType('ntext', 'x')).toBe('text');
    expect(() => kindOfSourceType('geography', 'dbo.Ort.Lage')).toThrow(/dbo.Ort.Lage is geography/);
    const c = { maxLength: null, precision: null, scale: null };
    expect(declOf({ ...c, type: 'nvarchar', maxLength: -1 })).toBe('nvarchar(max)');
    expect(declOf({ ...c, type: 'char', maxLength: 5 })).toBe('char(5)');
    expect(declOf({ ...c, type: 'decimal', precision: 19, scale: 4 })).toBe('decimal(19,4)');
    expect(declOf({ ...c, type: 'datetime2', scale: 3 })).toBe('datetime2(3)');
    expect(declOf({ ...c, type: 'datetime', scale: 3 })).toBe('datetime');
  });
});

describe('the T-SQL replay script, exactly', () => {
  const figures = (t: ReplayTable, upserts: number, deletes: number, rowsAfter: number, fresh = 0): TableFigures => ({ table: t, upserts, deletes, rowsAfter, fresh });

  it('upserts by key with MERGE, updating every column but the key, and checks the rows it touched', () => {
    expect(tsqlDialect.upsert(antrag(), [['7', "it's", 'true'], ['8', null, 'false']])).toBe(
      [
        'MERGE [dbo].[Antrag] WITH (HOLDLOCK) AS t',
        'USING (VALUES',
        "  (7, N'it''s', CAST(1 AS bit)),",
        '  (8, CAST(NULL AS nvarchar(50)), CAST(0 AS bit))',
        ') AS s ([an_ID], [an_Name], [an_Aktiv])',
        'ON t.[an_ID] = s.[an_ID]',
        'WHEN MATCHED THEN UPDATE SET t.[an_Name] = s.[an_Name], t.[an_Aktiv] = s.[an_Aktiv]',
        'WHEN NOT MATCHED BY TARGET THEN INSERT ([an_ID], [an_Name], [an_Aktiv]) VALUES (s.[an_ID], s.[an_Name], s.[an_Aktiv]);',
        'SET @n = @@ROWCOUNT;',
        "IF @n <> 2 THROW 50001, N'dbo.Antrag upsert: expected 2 row(s), another number was affected; the whole replay is rolled back', 1;",
        '',
      ].join('\n'),
    );
  });

  it('only inserts when every column is the key, and deletes by the key joined to a VALUES list', () => {
    const link = antrag({ source: 'dbo.Link', columns: [col('a', 'number', 'int'), col('b', 'text', 'nvarchar(10)')], key: ['a', 'b'], identity: null });
    expect(tsqlDialect.upsert(link, [['1', 'x']])).not.toContain('WHEN MATCHED');
    expect(tsqlDialect.remove(link, [['1', 'x'], ['2', "y'"]])).toBe(
      [
        'DELETE t FROM [dbo].[Link] AS t',
        'JOIN (VALUES',
        "  (1, N'x'),",
        "  (2, N'y''')",
        ') AS s ([a], [b]) ON t.[a] = s.[a] AND t.[b] = s.[b];',
        'SET @n = @@ROWCOUNT;',
        "IF @n <> 2 THROW 50002, N'dbo.Link delete: expected 2 row(s), another number was affected; the whole replay is rolled back', 1;",
        '',
      ].join('\n'),
    );
  });

  it('inserts rows without a source key leaving the IDENTITY to SQL Server, and switches IDENTITY_INSERT per table', () => {
    expect(tsqlDialect.insertFresh(antrag(), [[null, 'Neu', 'true']])).toBe(
      "INSERT INTO [dbo].[Antrag] ([an_Name], [an_Aktiv]) VALUES\n  (N'Neu', CAST(1 AS bit));\nSET @n = @@ROWCOUNT;\nIF @n <> 1 THROW 50001, N'dbo.Antrag new rows: expected 1 row(s), another number was affected; the whole replay is rolled back', 1;\n",
    );
    expect(tsqlDialect.identity(antrag(), true)).toBe('SET IDENTITY_INSERT [dbo].[Antrag] ON;\n');
    expect(tsqlDialect.identity(antrag(), false)).toBe('SET IDENTITY_INSERT [dbo].[Antrag] OFF;\n');
  });

  it('opens one aborting transaction under a header of what it holds, and checks row counts before COMMIT', () => {
    const info = { runId: 'r1', since: '2026-03-01T00:00:00Z', figures: [figures(antrag(), 3, 1, 4001, 1), figures(antrag({ source: 'dbo.Verlauf', target: 'kgv.application_history', sameRowCount: false }), 0, 2, 9)] };
    const header = tsqlDialect.header(info);
    expect(header).toContain('--   table         upserts   deletes  rows after  from PostgreSQL\n');
    expect(header).toContain('--   dbo.Antrag          3         1        4001  kgv.applications (1 new row numbered by the source)\n');
    expect(header).toContain('--   dbo.Verlauf         0         2           -  kgv.application_history\n');
    expect(header).toContain('-- Check: 3 upserts, 3 deletes in 2 tables.\n');
    expect(header.endsWith('SET XACT_ABORT ON;\nSET NOCOUNT ON;\nBEGIN TRANSACTION;\nDECLARE @n bigint;\n')).toBe(true);
    expect(tsqlDialect.footer(info)).toBe(
      [
        '-- Every table holds what PostgreSQL holds, or nothing is committed.',
        "IF (SELECT COUNT_BIG(*) FROM [dbo].[Antrag]) <> 4001 THROW 50003, N'dbo.Antrag would not hold the 4001 rows kgv.applications holds; the whole replay is rolled back', 1;",
        'COMMIT TRANSACTION;',
        "SELECT N'dbo.Antrag' AS [table], COUNT_BIG(*) AS [rows] FROM [dbo].[Antrag]",
        "UNION ALL SELECT N'dbo.Verlauf' AS [table], COUNT_BIG(*) AS [rows] FROM [dbo].[Verlauf];",
        '',
      ].join('\n'),
    );
  });

  it('writes the same plan for PostgreSQL with OVERRIDING SYSTEM VALUE and a setval where T-SQL sets IDENTITY_INSERT', () => {
    const text = pgDialect.upsert(antrag(), [['7', "it's", 'true']]);
    expect(text).toContain('MERGE INTO "dbo"."Antrag" AS t');
    expect(text).toContain("  (7, 'it''s'::text, true)");
    expect(text).toContain('INSERT ("an_ID", "an_Name", "an_Aktiv") OVERRIDING SYSTEM VALUE VALUES');
    expect(text).toContain('GET DIAGNOSTICS n = ROW_COUNT;\nIF n <> 1 THEN RAISE EXCEPTION');
    expect(pgDialect.identity(antrag(), false)).toBe(`SELECT setval(pg_get_serial_sequence('"dbo"."Antrag"', 'an_ID'), coalesce((SELECT max("an_ID") FROM "dbo"."Antrag"), 1));\n`);
  });
});

describe('the replay plan', () => {
  const column = (name: string, type: string, over: Partial<ColumnModel> = {}): ColumnModel => ({
    name, ordinal: 1, type, maxLength: type.includes('char') ? 50 : null, precision: null, scale: null, nullable: true, identity: null,
    defaultExpression: null, computed: null, collation: null, isRowVersion: false, ...over,
  });
  const table = (name: string, columns: ColumnModel[], fks: TableModel['foreignKeys'] = []): TableModel => ({
    schema: 'dbo', name, columns, primaryKey: { name: `PK_${name}`, columns: [columns[0]?.name ?? ''] }, uniques: [], indexes: [], foreignKeys: fks, checks: [], rowCount: 0,
  });
  const fk = (ref: string) => [{ name: `FK_${ref}`, columns: ['x'], refSchema: 'dbo', refTable: ref, refColumns: ['id'], onDelete: 'NO ACTION' as const, onUpdate: 'NO ACTION' as const, trusted: true }];
  const model: SchemaModel = {
    sourceKind: 'mssql', database: 'kgv', serverVersion: null, collation: null, others: [],
    tables: [
      table('Verlauf', [column('ve_ID', 'int', { identity: { seed: '1', increment: '1' } }), column('ve_Antrag', 'int'), column('ve_Version', 'rowversion', { isRowVersion: true })], fk('Antrag')),
      table('Antrag', [column('an_ID', 'int', { identity: { seed: '1', increment: '1' } }), column('an_Bezirk', 'int'), column('an_Name', 'nvarchar'), column('an_Voll', 'nvarchar', { computed: { definition: '([an_Name])', persisted: false } })], fk('Bezirk')),
      table('Bezirk', [column('bez_ID', 'int'), column('bez_Datum', 'datetime')]),
    ],
  };
  const mappings = convertSchema(model, { targetSchema: 'staging' }).mappings;
  const spec = (over: Record<string, unknown>) => exportSinceGoliveParams.parse({ target: 't', snapshot: '/s', dir: '/d', target_schema: 'staging', tables: [{ changed_column: 'c', ...over }] }).tables[0]!;

  it('maps a converted table back through the conversion: source names, no computed or rowversion columns, the IDENTITY', () => {
    const [t] = planReplay(model, mappings, [spec({ table: 'staging.verlauf' })], 'wall-clock');
    expect(t).toMatchObject({ source: 'dbo.Verlauf', key: ['ve_ID'], identity: 've_ID', parents: ['dbo.Antrag'], selects: ['t."ve_id"', 't."ve_antrag"'] });
    expect(t?.columns.map((c) => c.name)).toEqual(['ve_ID', 've_Antrag']);
  });

  it('reads a wall-clock datetime the load took as an instant in a zone back in that zone', () => {
    const zoned = convertSchema(model, { targetSchema: 'staging', timezone: { zone: 'Europe/Berlin' } }).mappings;
    const [t] = planReplay(model, zoned, [spec({ table: 'staging.bezirk' })], { zone: 'Europe/Berlin' });
    expect(t?.selects).toEqual(['t."bez_id"', `(t."bez_datum" AT TIME ZONE 'Europe/Berlin')`]);
  });

  it('maps a transformed table through its explicit columns, and names what is wrong with them', () => {
    const [t] = planReplay(model, mappings, [spec({ table: 'app.applications', source_table: 'dbo.Antrag', columns: { an_ID: 'legacy_id', an_Name: { sql: 'upper(t.name)' } } })], 'wall-clock');
    expect(t).toMatchObject({ source: 'dbo.Antrag', selects: ['t."legacy_id"', '(upper(t.name))'], key: ['an_ID'], identity: 'an_ID' });
    expect(() => planReplay(model, mappings, [spec({ table: 'app.a', source_table: 'dbo.Antrag', columns: { an_Name: 'n' } })], 'wall-clock')).toThrow('app.a: the key column dbo.Antrag.an_ID is not among the columns written back; map it');
    expect(() => planReplay(model, mappings, [spec({ table: 'app.a', source_table: 'dbo.Antrag', columns: { an_ID: 'i', an_Voll: 'v' } })], 'wall-clock')).toThrow('dbo.Antrag.an_Voll is computed');
    expect(() => planReplay(model, mappings, [spec({ table: 'app.a', source_table: 'dbo.Nope', columns: { x: 'x' } })], 'wall-clock')).toThrow('app.a goes back to dbo.Nope, which is not in the source catalog the load converted');
    expect(() => planReplay(model, mappings, [spec({ table: 'staging.nope' })], 'wall-clock')).toThrow(/staging.nope is not a table the conversion made/);
  });

  it('orders parents before children whatever order the runbook lists them in', () => {
    const tables = planReplay(model, mappings, [spec({ table: 'staging.verlauf' }), spec({ table: 'staging.antrag' }), spec({ table: 'staging.bezirk' })], 'wall-clock');
    expect(tables.map((t) => t.source)).toEqual(['dbo.Bezirk', 'dbo.Antrag', 'dbo.Verlauf']);
    const cycle = [antrag({ source: 'a', parents: ['b'] }), antrag({ source: 'b', parents: ['a'] })];
    expect(dependencyOrder(cycle).map((t) => t.source)).toEqual(['a', 'b']);
  });
});

describe('export params at load', () => {
  const parse = (tables: unknown[], over: Record<string, unknown> = {}) => exportSinceGoliveParams.safeParse({ target: 't', snapshot: '/s', dir: '/d', target_schema: 'staging', tables, ...over });

  it('refuses a table outside the conversion\'s schema without an explicit mapping, at its path', () => {
    const bad = parse([{ table: 'staging.antrag', changed_column: 'c' }, { table: 'kgv.applications', changed_column: 'c' }]);
    expect(bad.success).toBe(false);
    expect(bad.error?.issues.map((i) => [i.path.join('.'), i.message])).toEqual([
      ['tables.1.columns', expect.stringContaining('kgv.applications is not in the conversion\'s target_schema "staging", so it was built by a transform: give source_table and columns')],
    ]);
    expect(parse([{ table: 'kgv.applications', changed_column: 'c', columns: { an_ID: 'legacy_id' } }]).error?.issues[0]?.path).toEqual(['tables', 0, 'source_table']);
    expect(parse([{ table: 'kgv.applications', changed_column: 'c', source_table: 'dbo.Antrag', columns: { an_ID: 'legacy_id' } }]).success).toBe(true);
  });

  it('needs the catalog the load converted: exactly one of source or snapshot', () => {
    expect(parse([{ table: 'staging.a', changed_column: 'c' }], { snapshot: undefined }).success).toBe(false);
    expect(parse([{ table: 'staging.a', changed_column: 'c' }], { source: 'mssql' }).success).toBe(false);
  });
});

describe('CSV (RFC 4180)', () => {
  it('quotes fields with commas, quotes and line breaks, and tells NULL from empty', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\r\nlines')).toBe('"two\r\nlines"');
    expect(csvField(null)).toBe('');
    expect(csvField('')).toBe('""');
    expect(csvLine(['1', null, 'x,y', '🌱'])).toBe('1,,"x,y",🌱\r\n');
  });
});

describe('switch params', () => {
  it('validates the flip and smoke steps with their own action schemas, reporting the path', () => {
    const bad = switchParams.safeParse({ flip: { action: 'shell', params: { argv: [] } }, smoke: [{ action: 'http', params: { url: 'nope' } }] });
    expect(bad.success).toBe(false);
    const paths = bad.error?.issues.map((i) => i.path.join('.'));
    expect(paths).toContain('flip.params.argv');
    expect(paths).toContain('smoke.0.params.url');
  });

  it('refuses a shell smoke check and applies inner defaults to a good switch', () => {
    expect(switchParams.safeParse({ flip: { action: 'shell', params: { argv: ['true'] } }, smoke: [{ action: 'shell', params: { argv: ['true'] } }] }).success).toBe(false);
    const ok = switchParams.parse({ flip: { action: 'shell', params: { argv: ['true'] } }, smoke: [{ action: 'http', params: { url: 'http://localhost/health' } }] });
    expect(ok.flip).toEqual({ action: 'shell', params: { argv: ['true'], ok_exit_codes: [0], idempotent: false } });
    expect(ok.smoke[0]).toMatchObject({ action: 'http', params: { method: 'GET', expect_status: 200 } });
  });

  it('takes the tables whose deletions to track, as schema.table', () => {
    const flip = { action: 'sql', params: { connection: 'target', sql: 'SELECT 1' } };
    expect(switchParams.parse({ flip, track_deletes: { connection: 'target', tables: ['kgv.applications'] } }).track_deletes).toEqual({ connection: 'target', tables: ['kgv.applications'] });
    expect(switchParams.safeParse({ flip, track_deletes: { connection: 'target', tables: ['applications'] } }).error?.issues[0]?.path).toEqual(['track_deletes', 'tables', 0]);
  });
});
