import { describe, expect, it } from 'vitest';
import { csvField, csvLine } from '../../engine/rollback/csv-writer.js';
import {
  bracket,
  kindOfPgType,
  tsqlHeader,
  tsqlLiteral,
  tsqlName,
  tsqlTableEnd,
  tsqlTableStart,
  tsqlUpsert,
  type TsqlTable,
} from '../../engine/rollback/tsql-writer.js';
import { switchParams } from '../../runbook/action-catalog.js';

const table = (over: Partial<TsqlTable> = {}): TsqlTable => ({
  name: 'dbo.Antrag',
  columns: [
    { name: 'id', kind: 'number' },
    { name: 'name', kind: 'text' },
    { name: 'active', kind: 'boolean' },
  ],
  key: ['id'],
  identity: false,
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

describe('T-SQL literals', () => {
  it('writes NULL for a null of any kind', () => {
    for (const kind of ['text', 'number', 'boolean', 'binary', 'datetime', 'date', 'time', 'uuid'] as const) {
      expect(tsqlLiteral(kind, null)).toBe('NULL');
    }
  });

  it('writes strings as N-literals with quotes doubled, keeping unicode and emoji', () => {
    expect(tsqlLiteral('text', "O'Brien's")).toBe("N'O''Brien''s'");
    expect(tsqlLiteral('text', 'Größe ☃ 🌱 日本')).toBe("N'Größe ☃ 🌱 日本'");
    expect(tsqlLiteral('text', '')).toBe("N''");
    expect(tsqlLiteral('text', 'NULL')).toBe("N'NULL'");
    expect(tsqlLiteral('text', 'line1\nline2')).toBe("N'line1\nline2'");
  });

  it('writes bytea hex as 0x…', () => {
    expect(tsqlLiteral('binary', '\\xdeadbeef00')).toBe('0xDEADBEEF00');
    expect(tsqlLiteral('binary', '\\x')).toBe('0x');
    expect(() => tsqlLiteral('binary', 'not hex')).toThrow(/no SQL Server literal/);
  });

  it('writes datetimes through CONVERT(datetime2(7), …, 121), dropping the UTC offset', () => {
    expect(tsqlLiteral('datetime', '2026-03-01 12:34:56.123456')).toBe("CONVERT(datetime2(7), '2026-03-01 12:34:56.123456', 121)");
    expect(tsqlLiteral('datetime', '2026-03-01 12:34:56+00')).toBe("CONVERT(datetime2(7), '2026-03-01 12:34:56', 121)");
    expect(tsqlLiteral('date', '2026-03-01')).toBe("CONVERT(date, '2026-03-01', 121)");
    expect(tsqlLiteral('time', '23:59:59.5')).toBe("CONVERT(time(7), '23:59:59.5', 121)");
    expect(() => tsqlLiteral('datetime', 'infinity')).toThrow(/no SQL Server literal/);
    expect(() => tsqlLiteral('date', '0044-03-15 BC')).toThrow(/no SQL Server literal/);
  });

  it('writes decimals exactly as given and refuses NaN', () => {
    expect(tsqlLiteral('number', '12345678901234567890.123456789012')).toBe('12345678901234567890.123456789012');
    expect(tsqlLiteral('number', '-0.10')).toBe('-0.10');
    expect(tsqlLiteral('number', '1e+300')).toBe('1e+300');
    expect(() => tsqlLiteral('number', 'NaN')).toThrow(/no SQL Server literal/);
  });

  it('writes booleans as 1/0 and uuids quoted', () => {
    expect(tsqlLiteral('boolean', 'true')).toBe('1');
    expect(tsqlLiteral('boolean', 'false')).toBe('0');
    expect(tsqlLiteral('uuid', '2f1e0c4a-8b9d-4e6f-a1b2-c3d4e5f60718')).toBe("'2f1e0c4a-8b9d-4e6f-a1b2-c3d4e5f60718'");
    expect(() => tsqlLiteral('uuid', "x'; DROP TABLE t; --")).toThrow(/no SQL Server literal/);
  });

  it('maps PostgreSQL types to value kinds', () => {
    expect(kindOfPgType('numeric', 'N')).toBe('number');
    expect(kindOfPgType('int8', 'N')).toBe('number');
    expect(kindOfPgType('timestamptz', 'D')).toBe('datetime');
    expect(kindOfPgType('bytea', 'U')).toBe('binary');
    expect(kindOfPgType('bool', 'B')).toBe('boolean');
    expect(kindOfPgType('jsonb', 'U')).toBe('text');
  });
});

describe('T-SQL upserts', () => {
  it('updates by key and inserts when no row matched', () => {
    expect(tsqlUpsert(table(), ['7', "it's", 'true'])).toBe(
      "UPDATE [dbo].[Antrag] SET [name] = N'it''s', [active] = 1 WHERE [id] = 7;\n" +
        "IF @@ROWCOUNT = 0 INSERT INTO [dbo].[Antrag] ([id], [name], [active]) VALUES (7, N'it''s', 1);\n",
    );
  });

  it('inserts only when missing when every column is a key', () => {
    const t = table({ columns: [{ name: 'a', kind: 'number' }, { name: 'b', kind: 'text' }], key: ['a', 'b'] });
    expect(tsqlUpsert(t, ['1', null])).toBe(
      "IF NOT EXISTS (SELECT 1 FROM [dbo].[Antrag] WHERE [a] = 1 AND [b] IS NULL) INSERT INTO [dbo].[Antrag] ([a], [b]) VALUES (1, NULL);\n",
    );
  });

  it('names a key column the table lacks', () => {
    expect(() => tsqlUpsert(table({ key: ['nope'] }), ['1', 'x', 'true'])).toThrow('key column "nope" is not a column of dbo.Antrag');
  });

  it('sets IDENTITY_INSERT on before and off after a table with identity, and not for others', () => {
    const start = tsqlTableStart(table({ identity: true }), 'public.applications');
    const end = tsqlTableEnd(table({ identity: true }), 3);
    expect(start).toContain('SET IDENTITY_INSERT [dbo].[Antrag] ON;');
    expect(end.indexOf('SET IDENTITY_INSERT [dbo].[Antrag] OFF;')).toBe(0);
    expect(tsqlTableStart(table(), 'public.applications')).not.toContain('IDENTITY_INSERT');
    expect(tsqlTableEnd(table(), 3)).not.toContain('IDENTITY_INSERT');
  });

  it('opens one aborting transaction', () => {
    const header = tsqlHeader({ runId: 'r1', since: '2026-03-01T00:00:00Z', tables: ['public.a'] });
    expect(header).toMatch(/SET XACT_ABORT ON;\nSET NOCOUNT ON;\nBEGIN TRANSACTION;\n$/);
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
});
