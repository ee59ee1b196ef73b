import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { convertSchema } from '../../engine/schema/convert.js';
import { MAPPED_SOURCE_TYPES, isValidTimeZone, mapColumnType, parseOverrideType, type TypeInput } from '../../engine/schema/type-map.js';
import { ALL_TYPES_COLUMNS, column, kgvSchema, table } from '../support/fixtures/kgv-schema.js';

const t = (type: string, o: Partial<TypeInput> = {}): TypeInput => ({ type, maxLength: null, precision: null, scale: null, ...o });

/** [source, column model, PostgreSQL type, kind, maxChars]: one row per mapped type at least. */
const EXPECTED: Array<[string, TypeInput, string, string, number | null]> = [
  ['bit', t('bit'), 'boolean', 'bool', null],
  ['tinyint', t('tinyint'), 'smallint', 'int', null],
  ['smallint', t('smallint'), 'smallint', 'int', null],
  ['int', t('int'), 'integer', 'int', null],
  ['bigint', t('bigint'), 'bigint', 'exact', null],
  ['decimal', t('decimal', { precision: 38, scale: 10 }), 'numeric(38,10)', 'exact', null],
  ['numeric', t('numeric', { precision: 1, scale: 0 }), 'numeric(1,0)', 'exact', null],
  ['money', t('money', { precision: 19, scale: 4 }), 'numeric(19,4)', 'exact', null],
  ['smallmoney', t('smallmoney', { precision: 10, scale: 4 }), 'numeric(10,4)', 'exact', null],
  ['float', t('float', { precision: 53 }), 'double precision', 'float', null],
  ['real', t('real', { precision: 24 }), 'real', 'float', null],
  ['date', t('date'), 'date', 'date', null],
  ['time', t('time', { scale: 7 }), 'time(6)', 'time', null],
  ['datetime', t('datetime', { scale: 3 }), 'timestamp(3)', 'timestamp', null],
  ['smalldatetime', t('smalldatetime', { scale: 0 }), 'timestamp(0)', 'timestamp', null],
  ['datetime2', t('datetime2', { scale: 7 }), 'timestamp(6)', 'timestamp', null],
  ['datetimeoffset', t('datetimeoffset', { scale: 7 }), 'timestamptz(6)', 'timestamptz', null],
  ['uniqueidentifier', t('uniqueidentifier'), 'uuid', 'uuid', null],
  ['char', t('char', { maxLength: 5 }), 'char(5)', 'text', 5],
  ['nchar', t('nchar', { maxLength: 10 }), 'char(10)', 'text', 10],
  ['varchar', t('varchar', { maxLength: 50 }), 'varchar(50)', 'text', 50],
  ['nvarchar', t('nvarchar', { maxLength: 4000 }), 'varchar(4000)', 'text', 4000],
  ['sysname', t('sysname', { maxLength: 128 }), 'varchar(128)', 'text', 128],
  ['text', t('text', { maxLength: -1 }), 'text', 'text', null],
  ['ntext', t('ntext', { maxLength: -1 }), 'text', 'text', null],
  ['binary', t('binary', { maxLength: 16 }), 'bytea', 'bytes', null],
  ['varbinary', t('varbinary', { maxLength: -1 }), 'bytea', 'bytes', null],
  ['image', t('image', { maxLength: -1 }), 'bytea', 'bytes', null],
  ['xml', t('xml', { maxLength: -1 }), 'xml', 'text', null],
  ['rowversion', t('rowversion', { maxLength: 8 }), 'bytea', 'bytes', null],
  ['timestamp', t('timestamp', { maxLength: 8 }), 'bytea', 'bytes', null],
  ['sql_variant', t('sql_variant'), 'text', 'text', null],
  ['hierarchyid', t('hierarchyid'), 'text', 'text', null],
  ['geography', t('geography'), 'text', 'text', null],
  ['geometry', t('geometry'), 'text', 'text', null],
];

describe('mapColumnType', () => {
  it.each(EXPECTED)('%s → %s', (_name, input, targetType, kind, maxChars) => {
    const mapped = mapColumnType(input);
    expect({ targetType: mapped.targetType, kind: mapped.kind, maxChars: mapped.maxChars }).toEqual({ targetType, kind, maxChars });
  });

  it('has an expectation above for every mapped type, and the fixture has a column of each', () => {
    expect(new Set(EXPECTED.map(([name]) => name))).toEqual(new Set(MAPPED_SOURCE_TYPES));
    expect(new Set(ALL_TYPES_COLUMNS.slice(1).map((c) => c.type))).toEqual(new Set(MAPPED_SOURCE_TYPES));
  });

  it.each([
    [t('decimal'), 'numeric(18,0)'],
    [t('numeric', { precision: 38, scale: 38 }), 'numeric(38,38)'],
    [t('float', { precision: 24 }), 'real'],
    [t('float', { precision: 25 }), 'double precision'],
    [t('float'), 'double precision'],
    [t('time', { scale: 0 }), 'time(0)'],
    [t('time'), 'time(6)'],
    [t('datetime2', { scale: 0 }), 'timestamp(0)'],
    [t('datetime2', { scale: 3 }), 'timestamp(3)'],
    [t('datetime2', { scale: 6 }), 'timestamp(6)'],
    [t('datetime2'), 'timestamp(6)'],
    [t('datetimeoffset', { scale: 2 }), 'timestamptz(2)'],
    [t('varchar', { maxLength: -1 }), 'text'],
    [t('nvarchar', { maxLength: -1 }), 'text'],
    [t('varchar', { maxLength: 8000 }), 'varchar(8000)'],
    [t('char'), 'char(1)'],
    [t('NVarChar', { maxLength: 7 }), 'varchar(7)'],
  ])('edge case %o → %s', (input, targetType) => {
    expect(mapColumnType(input).targetType).toBe(targetType);
  });

  it('keeps tinyint in 0..255 with a range the converter turns into a CHECK', () => {
    expect(mapColumnType(t('tinyint')).range).toEqual({ min: 0, max: 255 });
    expect(mapColumnType(t('smallint')).range).toBeNull();
    const ddl = convertSchema({ ...kgvSchema(), tables: [table('T', [column('b', { type: 'tinyint' })])] }).preLoad.join('\n');
    expect(ddl).toContain('"b" smallint CHECK ("b" BETWEEN 0 AND 255)');
  });

  it('warns about the 7th fractional digit only when there is one', () => {
    const rounding = (input: TypeInput): boolean => mapColumnType(input).warnings.some((w) => w.includes('100 ns'));
    expect(rounding(t('datetime2', { scale: 7 }))).toBe(true);
    expect(rounding(t('time', { scale: 7 }))).toBe(true);
    expect(rounding(t('datetimeoffset', { scale: 7 }))).toBe(true);
    expect(rounding(t('datetime2', { scale: 6 }))).toBe(false);
    expect(rounding(t('datetime', { scale: 3 }))).toBe(false);
  });

  it('warns for types whose meaning is not fully kept', () => {
    expect(mapColumnType(t('sql_variant')).warnings.join()).toMatch(/base type/);
    expect(mapColumnType(t('hierarchyid')).warnings.join()).toMatch(/ToString/);
    expect(mapColumnType(t('timestamp')).warnings.join()).toMatch(/incremental sync/);
    expect(mapColumnType(t('geography')).warnings.join()).toMatch(/WKT.*no PostGIS/);
    expect(mapColumnType(t('int')).warnings).toEqual([]);
    const unknown = mapColumnType(t('money2'));
    expect(unknown).toMatchObject({ targetType: 'text', kind: 'text' });
    expect(unknown.warnings.join()).toMatch(/unknown source type money2.*override/);
  });

  it('keeps spatial types when PostGIS is present', () => {
    expect(mapColumnType(t('geography'), { postgis: true }).targetType).toBe('geography');
    expect(mapColumnType(t('geometry'), { postgis: true }).targetType).toBe('geometry');
    expect(mapColumnType(t('geometry'), { postgis: false }).targetType).toBe('text');
  });
});

describe('time-zone rule', () => {
  it('keeps wall-clock time without a zone by default', () => {
    for (const type of ['datetime', 'smalldatetime', 'datetime2']) {
      expect(mapColumnType(t(type, { scale: 3 })).targetType).toMatch(/^timestamp\(\d\)$/);
      expect(mapColumnType(t(type, { scale: 3 }), { timezone: 'wall-clock' }).targetType).toMatch(/^timestamp\(\d\)$/);
    }
  });

  it('maps to timestamptz read in the zone when one is given, values still travelling as wall-clock text', () => {
    const mapped = mapColumnType(t('datetime', { scale: 3 }), { timezone: { zone: 'Europe/Berlin' } });
    expect(mapped).toMatchObject({ targetType: 'timestamptz(3)', kind: 'timestamp' });
    expect(mapped.warnings.join()).toContain('Europe/Berlin');
    expect(mapColumnType(t('datetime2', { scale: 7 }), { timezone: { zone: 'Europe/Berlin' } }).targetType).toBe('timestamptz(6)');
    expect(mapColumnType(t('smalldatetime'), { timezone: { zone: 'UTC' } }).targetType).toBe('timestamptz(0)');
  });

  it('leaves date, time and datetimeoffset alone', () => {
    const zone = { timezone: { zone: 'Europe/Berlin' } } as const;
    expect(mapColumnType(t('date'), zone).targetType).toBe('date');
    expect(mapColumnType(t('time', { scale: 3 }), zone).targetType).toBe('time(3)');
    expect(mapColumnType(t('datetimeoffset', { scale: 3 }), zone)).toMatchObject({ targetType: 'timestamptz(3)', kind: 'timestamptz' });
  });

  it('refuses a zone that does not exist, as a report error', () => {
    expect(isValidTimeZone('Europe/Berlin')).toBe(true);
    expect(isValidTimeZone('Mars/Olympus')).toBe(false);
    const { report } = convertSchema(kgvSchema(), { timezone: { zone: 'Mars/Olympus' } });
    expect(report.errors.map((e) => e.message)).toContain('timezone Mars/Olympus is not an IANA time zone');
  });

  it('flows into the DDL and the default', () => {
    const { preLoad } = convertSchema(kgvSchema(), { tables: ['Antrag'], timezone: { zone: 'Europe/Berlin' } });
    expect(preLoad.join('\n')).toContain('"an_bewerbungsdatum" timestamptz(3) DEFAULT CURRENT_TIMESTAMP NOT NULL');
  });
});

describe('overrides', () => {
  it.each([
    ['varchar(10)', 'text', 10],
    ['character varying(12)', 'text', 12],
    ['char', 'text', 1],
    ['text', 'text', null],
    ['citext', 'text', null],
    ['integer', 'int', null],
    ['bigint', 'exact', null],
    ['numeric(12, 2)', 'exact', null],
    ['double precision', 'float', null],
    ['boolean', 'bool', null],
    ['date', 'date', null],
    ['timestamp(3)', 'timestamp', null],
    ['timestamp with time zone', 'timestamptz', null],
    ['timestamptz', 'timestamptz', null],
    ['uuid', 'uuid', null],
    ['bytea', 'bytes', null],
    ['integer[]', 'text', null],
  ])('%s → kind %s, maxChars %s', (type, kind, maxChars) => {
    expect(parseOverrideType(type)).toMatchObject({ kind, maxChars });
  });

  it.each(['int; DROP TABLE antrag', 'varchar(10) COLLATE "C"', "text DEFAULT 'x'", '', '(10)'])('refuses %j', (type) => {
    expect(parseOverrideType(type)).toBeNull();
  });

  it('applies an override to the DDL, the mapping and the default', () => {
    const conv = convertSchema(kgvSchema(), {
      tables: ['Antrag'],
      overrides: { 'dbo.Antrag.an_PLZ': 'varchar(10)', 'antrag.AN_AKTIV': 'boolean' },
    });
    const ddl = conv.preLoad.join('\n');
    expect(ddl).toContain('"an_plz" varchar(10),');
    expect(ddl).toContain('"an_aktiv" boolean DEFAULT true NOT NULL');
    const cols = conv.mappings[0]?.columns ?? [];
    expect(cols.find((c) => c.source === 'an_PLZ')).toMatchObject({ targetType: 'varchar(10)', kind: 'text', maxChars: 10 });
    expect(cols.find((c) => c.source === 'an_Aktiv')).toMatchObject({ targetType: 'boolean', kind: 'bool', maxChars: null });
    expect(conv.report.errors).toEqual([]);
  });

  it('reports an override for no column, or with an unreadable type, as an error', () => {
    const { report } = convertSchema(kgvSchema(), { overrides: { 'dbo.Antrag.an_PLZZ': 'text', 'Antrag.an_Ort': 'text; --' } });
    expect(report.errors.map((e) => e.message)).toEqual([
      'override dbo.Antrag.an_PLZZ matches 0 columns, not 1',
      'override Antrag.an_Ort: "text; --" is not a PostgreSQL type name',
    ]);
  });
});

describe('docs/type-mapping.md', () => {
  const doc = readFileSync(new URL('../../docs/type-mapping.md', import.meta.url), 'utf8');
  const rows = doc.split('\n').filter((l) => l.startsWith('| `'));

  it.each([...MAPPED_SOURCE_TYPES])('lists %s with the type the code creates', (type) => {
    const row = rows.find((r) => new RegExp(`^\\| \`${type}[\`(]`).test(r));
    expect(row, `no row for ${type}`).toBeDefined();
    const sample = EXPECTED.find(([name]) => name === type)?.[1] ?? t(type);
    const base = mapColumnType(sample).targetType.replace(/\(.*\)$/, '');
    expect(row?.split('|')[2]).toContain(`\`${base}`);
  });
});
