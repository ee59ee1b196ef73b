import { describe, expect, it } from 'vitest';
import type { ChunkSpec, ColumnMapping, TableMapping, ValueKind } from '../../engine/etl/contracts.js';
import {
  baseType,
  chunkCount,
  chunkSelect,
  chunkWhere,
  exactBound,
  keyBoundsQuery,
  quoteIdent,
  quoteTable,
  readExpression,
  selectExpression,
  selectList,
} from '../../engine/mssql/select-list.js';

const col = (source: string, sourceType: string, kind: ValueKind, overrides: Partial<ColumnMapping> = {}): ColumnMapping => ({
  source,
  target: source.toLowerCase(),
  sourceType,
  targetType: 'text',
  kind,
  nullable: true,
  maxChars: null,
  ...overrides,
});

const table = (overrides: Partial<TableMapping> = {}): TableMapping => ({
  source: { schema: 'dbo', name: 'Antrag' },
  target: { schema: 'public', name: 'antrag' },
  columns: [col('an_ID', 'int', 'int'), col('an_Nachname', 'nvarchar(50)', 'text')],
  key: { columns: ['an_ID'], kind: 'integer' },
  rowCount: 12_000,
  ...overrides,
});

describe('quoting', () => {
  it('bracket-quotes identifiers and doubles a closing bracket', () => {
    expect(quoteIdent('an_ID')).toBe('[an_ID]');
    expect(quoteIdent('odd]name')).toBe('[odd]]name]');
    expect(quoteIdent('x]];DROP TABLE t;--')).toBe('[x]]]];DROP TABLE t;--]');
    expect(quoteIdent('Straße [alt]')).toBe('[Straße [alt]]]');
    expect(quoteTable({ schema: 'legacy]', name: 'A b' })).toBe('[legacy]]].[A b]');
  });

  it('takes the base type with or without arguments', () => {
    expect(baseType('decimal(38,10)')).toBe('decimal');
    expect(baseType(' NVARCHAR (max)')).toBe('nvarchar');
    expect(baseType('datetime2')).toBe('datetime2');
  });
});

describe('selectExpression: every type in the form of its value kind', () => {
  const cases: Array<[string, ValueKind, string]> = [
    ['tinyint', 'int', '[c]'],
    ['smallint', 'int', '[c]'],
    ['int', 'int', '[c]'],
    ['bigint', 'exact', 'CONVERT(varchar(20), [c])'],
    ['decimal(38,10)', 'exact', 'CONVERT(varchar(50), [c])'],
    ['numeric(18,0)', 'exact', 'CONVERT(varchar(50), [c])'],
    ['money', 'exact', 'CONVERT(varchar(50), CONVERT(decimal(19,4), [c]))'],
    ['smallmoney', 'exact', 'CONVERT(varchar(50), CONVERT(decimal(10,4), [c]))'],
    ['float', 'float', '[c]'],
    ['real', 'float', '[c]'],
    ['bit', 'bool', '[c]'],
    ['char(5)', 'text', '[c]'],
    ['varchar(50)', 'text', '[c]'],
    ['nchar(10)', 'text', '[c]'],
    ['nvarchar(max)', 'text', '[c]'],
    ['sysname', 'text', '[c]'],
    ['text', 'text', '[c]'],
    ['ntext', 'text', '[c]'],
    ['xml', 'text', 'CONVERT(nvarchar(max), [c])'],
    ['hierarchyid', 'text', '[c].ToString()'],
    ['geography', 'text', '[c].STAsText()'],
    ['geometry', 'text', '[c].STAsText()'],
    ['sql_variant', 'text', 'CONVERT(nvarchar(4000), [c])'],
    ['binary(16)', 'bytes', '[c]'],
    ['varbinary(max)', 'bytes', '[c]'],
    ['image', 'bytes', '[c]'],
    ['rowversion', 'bytes', '[c]'],
    ['timestamp', 'bytes', '[c]'],
    ['date', 'date', 'CONVERT(varchar(10), [c], 23)'],
    ['time(7)', 'time', 'CONVERT(varchar(16), [c])'],
    ['datetime', 'timestamp', 'CONVERT(varchar(27), [c], 121)'],
    ['smalldatetime', 'timestamp', 'CONVERT(varchar(27), [c], 121)'],
    ['datetime2(7)', 'timestamp', 'CONVERT(varchar(27), [c], 121)'],
    ['datetimeoffset(7)', 'timestamptz', 'CONVERT(varchar(34), [c], 121)'],
    ['uniqueidentifier', 'uuid', 'CONVERT(char(36), [c])'],
  ];

  it.each(cases)('%s as %s: %s', (sourceType, kind, expected) => {
    expect(selectExpression(col('c', sourceType, kind))).toBe(expected);
  });

  it('gives every CONVERT an explicit length (an unsized varchar is varchar(30) and truncates)', () => {
    for (const [sourceType, kind] of cases) {
      const sql = selectExpression(col('c', sourceType, kind));
      expect(sql).not.toMatch(/CONVERT\((n?var)?char,/i);
    }
  });

  it('never uses style 114 for time (it writes hh:mi:ss:mmm, a colon before three digits)', () => {
    expect(selectExpression(col('c', 'time(7)', 'time'))).not.toContain('114');
  });

  it('quotes the column inside the expression', () => {
    expect(selectExpression(col('Preis]x', 'money', 'exact'))).toBe('CONVERT(varchar(50), CONVERT(decimal(19,4), [Preis]]x]))');
    expect(selectExpression(col('Ort Teil', 'hierarchyid', 'text'))).toBe('[Ort Teil].ToString()');
  });

  it('lets a column mapped to text take any form that already arrives as a string', () => {
    expect(selectExpression(col('c', 'uniqueidentifier', 'text'))).toBe('CONVERT(char(36), [c])');
    expect(selectExpression(col('c', 'datetimeoffset', 'text'))).toBe('CONVERT(varchar(34), [c], 121)');
  });

  it('refuses a mapping whose kind the type cannot arrive in', () => {
    expect(() => selectExpression(col('c', 'decimal(38,10)', 'float'))).toThrow(expect.objectContaining({ code: 'mssql.kind_mismatch' }));
    expect(() => selectExpression(col('c', 'datetime', 'timestamptz'))).toThrow(expect.objectContaining({ code: 'mssql.kind_mismatch' }));
    expect(() => selectExpression(col('c', 'bit', 'text'))).toThrow(expect.objectContaining({ code: 'mssql.kind_mismatch' }));
  });

  it('refuses a type it cannot read exactly instead of guessing', () => {
    expect(() => selectExpression(col('c', 'dbo.MyClrType', 'text'))).toThrow(expect.objectContaining({ code: 'mssql.unsupported_type' }));
  });
});

describe('readExpression: the ETL reads a column natively unless the driver would round it', () => {
  const native: Array<[string, ValueKind]> = [
    ['tinyint', 'int'], ['smallint', 'int'], ['int', 'int'], ['bigint', 'exact'], ['smallmoney', 'exact'],
    ['float', 'float'], ['real', 'float'], ['bit', 'bool'], ['char(5)', 'text'], ['varchar(50)', 'text'], ['nchar(10)', 'text'],
    ['nvarchar(max)', 'text'], ['sysname', 'text'], ['text', 'text'], ['ntext', 'text'], ['xml', 'text'], ['binary(16)', 'bytes'],
    ['varbinary(max)', 'bytes'], ['image', 'bytes'], ['rowversion', 'bytes'], ['uniqueidentifier', 'uuid'], ['date', 'date'],
    ['time(7)', 'time'], ['datetime', 'timestamp'], ['smalldatetime', 'timestamp'], ['datetime2(7)', 'timestamp'],
  ];

  it.each(native)('%s as %s: the column itself', (sourceType, kind) => {
    expect(readExpression(col('c', sourceType, kind))).toEqual({ expression: '[c]', helper: null });
  });

  it('reads a datetimeoffset with the offset tedious drops', () => {
    expect(readExpression(col('c]', 'datetimeoffset(7)', 'timestamptz'))).toEqual({ expression: '[c]]]', helper: 'DATEPART(TZOFFSET, [c]]])' });
  });

  it('reads decimal and numeric natively up to 15 digits, converted when the precision or (beyond 15 digits) the scale is unknown', () => {
    expect(readExpression(col('c', 'decimal', 'exact', { sourcePrecision: 15 }))).toEqual({ expression: '[c]', helper: null });
    expect(readExpression(col('c', 'numeric', 'exact', { sourcePrecision: 9 }))).toEqual({ expression: '[c]', helper: null });
    expect(readExpression(col('c', 'decimal', 'exact', { sourcePrecision: 16 }))).toEqual({ expression: 'CONVERT(varchar(50), [c])', helper: null });
    expect(readExpression(col('c', 'decimal', 'exact'))).toEqual({ expression: 'CONVERT(varchar(50), [c])', helper: null });
  });

  it('reads money and wide decimals natively, with the server text only for values beyond 15 significant digits (issue 15)', () => {
    expect(readExpression(col('c', 'decimal(19,4)', 'exact', { sourcePrecision: 19, sourceScale: 4 }))).toEqual({
      expression: '[c]',
      helper: 'CASE WHEN [c] > -100000000000 AND [c] < 100000000000 THEN NULL ELSE CONVERT(varchar(50), [c]) END',
    });
    expect(readExpression(col('c', 'money', 'exact'))).toEqual({
      expression: '[c]',
      helper: 'CASE WHEN [c] > -100000000000 AND [c] < 100000000000 THEN NULL ELSE CONVERT(varchar(50), CONVERT(decimal(19,4), [c])) END',
    });
    expect(readExpression(col('c', 'numeric(38,0)', 'exact', { sourcePrecision: 38, sourceScale: 0 })).helper).toContain('[c] < 1000000000000000 THEN');
  });

  it('bounds the values the driver holds exactly at 10^(15 - scale), below 1 for scales past 15', () => {
    expect([0, 4, 14, 15, 16, 20, 38].map(exactBound)).toEqual([
      '1000000000000000', '100000000000', '10', '1', '0.1', '0.00001', `0.${'0'.repeat(22)}1`,
    ]);
  });

  it('converts the CLR and variant types on the server, as before', () => {
    for (const type of ['hierarchyid', 'geography', 'geometry', 'sql_variant']) {
      const c = col('c', type, 'text');
      expect(readExpression(c)).toEqual({ expression: selectExpression(c), helper: null });
    }
  });

  it('refuses what the converting form refuses', () => {
    expect(() => readExpression(col('c', 'dbo.MyClrType', 'text'))).toThrow(expect.objectContaining({ code: 'mssql.unsupported_type' }));
    expect(() => readExpression(col('c', 'bit', 'text'))).toThrow(expect.objectContaining({ code: 'mssql.kind_mismatch' }));
  });
});

describe('chunk SQL', () => {
  it('selects the mapping columns in order, aliased by their source names, converting only what the driver would round', () => {
    const t = table({ columns: [col('an_ID', 'int', 'int'), col('an_Betrag', 'decimal', 'exact', { sourcePrecision: 20 }), col('an_Datum', 'datetime', 'timestamp')] });
    expect(selectList(t)).toEqual({
      text: '[an_ID] AS [an_ID], CONVERT(varchar(50), [an_Betrag]) AS [an_Betrag], [an_Datum] AS [an_Datum]',
      helpers: [-1, -1, -1],
    });
  });

  it('appends the helpers (offsets, text beyond 15 digits) after the mapped columns and says where each is', () => {
    const t = table({ columns: [col('a', 'datetimeoffset', 'timestamptz'), col('b', 'int', 'int'), col('c', 'datetimeoffset(3)', 'timestamptz'), col('m', 'money', 'exact')] });
    expect(selectList(t)).toEqual({
      text: '[a] AS [a], [b] AS [b], [c] AS [c], [m] AS [m], DATEPART(TZOFFSET, [a]) AS [helper 1], DATEPART(TZOFFSET, [c]) AS [helper 2], '
        + 'CASE WHEN [m] > -100000000000 AND [m] < 100000000000 THEN NULL ELSE CONVERT(varchar(50), CONVERT(decimal(19,4), [m])) END AS [helper 3]',
      helpers: [4, -1, 5, 6],
    });
  });

  it('reads an all chunk without WHERE or ORDER BY', () => {
    expect(chunkSelect(table(), { id: 'all', kind: 'all' })).toEqual({
      text: 'SELECT [an_ID] AS [an_ID], [an_Nachname] AS [an_Nachname] FROM [dbo].[Antrag]',
      params: [],
      helpers: [-1, -1],
    });
  });

  it('reads a range chunk by parameters, half-open, in key order', () => {
    const chunk: ChunkSpec = { id: 'r', kind: 'range', column: 'an_ID', from: '1', to: '5001', lastInclusive: false };
    expect(chunkSelect(table(), chunk)).toEqual({
      text: 'SELECT [an_ID] AS [an_ID], [an_Nachname] AS [an_Nachname] FROM [dbo].[Antrag] WHERE [an_ID] >= @from AND [an_ID] < @to ORDER BY [an_ID]',
      params: [
        { name: 'from', type: 'bigint', value: '1' },
        { name: 'to', type: 'bigint', value: '5001' },
      ],
      helpers: [-1, -1],
    });
  });

  it('includes the upper bound of the last range', () => {
    const where = chunkWhere({ id: 'r', kind: 'range', column: 'id', from: '9007199254740993', to: '9223372036854775807', lastInclusive: true });
    expect(where.text).toBe('[id] >= @from AND [id] <= @to');
    expect(where.params.map((p) => p.value)).toEqual(['9007199254740993', '9223372036854775807']);
  });

  it('reads a hash chunk by CHECKSUM of the key, widened before ABS, buckets as parameters', () => {
    const chunk: ChunkSpec = { id: 'h', kind: 'hash', columns: ['pe_ID', 'x]y'], buckets: 8, bucket: 3 };
    const sql = chunkSelect(table(), chunk);
    expect(sql.text).toBe(
      'SELECT [an_ID] AS [an_ID], [an_Nachname] AS [an_Nachname] FROM [dbo].[Antrag] WHERE ABS(CAST(CHECKSUM([pe_ID], [x]]y]) AS bigint)) % @buckets = @bucket',
    );
    expect(sql.params).toEqual([
      { name: 'buckets', type: 'int', value: 8 },
      { name: 'bucket', type: 'int', value: 3 },
    ]);
  });

  it('never puts a chunk bound into the SQL text', () => {
    const chunk = { id: 'r', kind: 'range', column: 'an_ID', from: "1'; DROP TABLE x;--", to: '2', lastInclusive: false } as const;
    expect(chunkSelect(table(), chunk).text).not.toContain('DROP');
  });

  it('counts a chunk with COUNT_BIG and the same WHERE', () => {
    const chunk: ChunkSpec = { id: 'h', kind: 'hash', columns: ['an_ID'], buckets: 4, bucket: 0 };
    expect(chunkCount(table(), chunk)).toEqual({
      text: 'SELECT COUNT_BIG(*) AS n FROM [dbo].[Antrag] WHERE ABS(CAST(CHECKSUM([an_ID]) AS bigint)) % @buckets = @bucket',
      params: chunkWhere(chunk).params,
    });
    expect(chunkCount(table(), { id: 'all', kind: 'all' }).text).toBe('SELECT COUNT_BIG(*) AS n FROM [dbo].[Antrag]');
  });

  it('reads the key bounds as text', () => {
    expect(keyBoundsQuery(table(), 'an_ID')).toBe('SELECT CONVERT(varchar(20), MIN([an_ID])) AS lo, CONVERT(varchar(20), MAX([an_ID])) AS hi FROM [dbo].[Antrag]');
  });

  it('refuses a table without columns and a hash chunk without key columns', () => {
    expect(() => selectList(table({ columns: [] }))).toThrow(expect.objectContaining({ code: 'mssql.no_columns' }));
    expect(() => chunkWhere({ id: 'h', kind: 'hash', columns: [], buckets: 2, bucket: 0 })).toThrow(expect.objectContaining({ code: 'mssql.bad_chunk' }));
  });
});
