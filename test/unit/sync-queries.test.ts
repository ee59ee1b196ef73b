import { EventEmitter } from 'node:events';
import mssql from 'mssql';
import { describe, expect, it } from 'vitest';
import type { ColumnMapping, TableMapping } from '../../engine/etl/contracts.js';
import type { SyncWindow } from '../../engine/etl/sync-contracts.js';
import { laterMark } from '../../engine/etl/sync-marks.js';
import type { MssqlPool } from '../../engine/mssql/source.js';
import { changedSelect, datetime2Value, keySummarySelect, keysSelect, markQuery, rowversionBytes, rowversionText } from '../../engine/mssql/sync-queries.js';
import { MssqlSyncSource } from '../../engine/mssql/sync-source.js';

const col = (source: string, sourceType: string, kind: ColumnMapping['kind'], nullable = true): ColumnMapping => ({
  source, target: source.toLowerCase(), sourceType, targetType: 'text', kind, nullable, maxChars: null,
});

const antrag: TableMapping = {
  source: { schema: 'dbo', name: 'Antrag' },
  target: { schema: 'public', name: 'antrag' },
  columns: [
    col('an_ID', 'int', 'int', false),
    col('an_Nachname', 'nvarchar', 'text'),
    col('an_GeaendertAm', 'datetime', 'timestamp'),
    col('an_Stand', 'datetime2', 'timestamp', false),
    col('an_Version', 'rowversion', 'bytes', false),
  ],
  key: { columns: ['an_ID'], kind: 'integer' },
  rowCount: 100,
};

const AFTER = '0x00000000000007D1';
const UP_TO = '0x0000000000000FA0';
const window = (w: Partial<SyncWindow>): SyncWindow => ({ column: 'an_Version', kind: 'rowversion', after: AFTER, upTo: UP_TO, overlapMs: 0, ...w });

describe('sync queries (T-SQL of etl.sync)', () => {
  it('takes the rowversion mark as MIN_ACTIVE_ROWVERSION() - 1 and the modified-at mark as MAX in style 121', () => {
    expect(markQuery(antrag, { column: 'an_Version', kind: 'rowversion' }).text).toBe(
      'SELECT CONVERT(binary(8), CONVERT(bigint, MIN_ACTIVE_ROWVERSION()) - 1) AS mark',
    );
    expect(markQuery(antrag, { column: 'an_GeaendertAm', kind: 'timestamp' }).text).toBe(
      'SELECT CONVERT(varchar(27), MAX([an_GeaendertAm]), 121) AS mark FROM [dbo].[Antrag]',
    );
  });

  it('reads a rowversion window as binary(8) parameters, never spliced into the text', () => {
    const sql = changedSelect(antrag, window({}));
    expect(sql.text).toMatch(/ FROM \[dbo\]\.\[Antrag\] WHERE \[an_Version\] > @after AND \[an_Version\] <= @upTo$/);
    expect(sql.text).not.toMatch(/7D1|FA0|0x/i);
    expect(sql.params).toEqual([
      { name: 'after', type: 'binary8', value: Buffer.from('00000000000007d1', 'hex') },
      { name: 'upTo', type: 'binary8', value: Buffer.from('0000000000000fa0', 'hex') },
    ]);
    expect(changedSelect(antrag, window({ after: null })).text).toMatch(/WHERE \[an_Version\] <= @upTo$/);
  });

  it('reads a modified-at window from the overlap before the old mark to the new one, NULLs always, as datetime2 parameters', () => {
    const w = window({ column: 'an_GeaendertAm', kind: 'timestamp', after: '2024-01-01 10:00:00.003', upTo: '2024-01-02 11:00:00.997', overlapMs: 2000 });
    const sql = changedSelect(antrag, w);
    expect(sql.text).toMatch(
      /WHERE \(\[an_GeaendertAm\] > DATEADD\(millisecond, -@overlapMs, @after\) AND \[an_GeaendertAm\] <= CAST\(@upTo AS datetime\) OR \[an_GeaendertAm\] IS NULL\)$/,
    );
    expect(sql.text).not.toContain('2024');
    expect(sql.params).toEqual([
      { name: 'after', type: 'datetime2', value: '2024-01-01 10:00:00.003' },
      { name: 'overlapMs', type: 'int', value: 2000 },
      { name: 'upTo', type: 'datetime2', value: '2024-01-02 11:00:00.997' },
    ]);
    // A NOT NULL datetime2 column: no NULL branch, the bound in datetime2(7).
    const stand = changedSelect(antrag, { ...w, column: 'an_Stand' });
    expect(stand.text).toMatch(/WHERE \[an_Stand\] > DATEADD\(millisecond, -@overlapMs, @after\) AND \[an_Stand\] <= CAST\(@upTo AS datetime2\(7\)\)$/);
    // An empty column has no mark yet: only its NULL rows can be read.
    expect(changedSelect(antrag, { ...w, after: null, upTo: null }).text).toMatch(/WHERE \(1 = 0 OR \[an_GeaendertAm\] IS NULL\)$/);
  });

  it('refuses a watermark column of the wrong type or a malformed mark', () => {
    expect(() => changedSelect(antrag, window({ column: 'an_Nachname' }))).toThrow(/needs a rowversion column/);
    expect(() => changedSelect(antrag, window({ column: 'an_Version', kind: 'timestamp' }))).toThrow(/datetime, datetime2 or smalldatetime/);
    expect(() => changedSelect(antrag, window({ after: "0x1'; DROP TABLE x--" }))).toThrow(/not a rowversion mark/);
    expect(() => datetime2Value("2024-01-01'; --")).toThrow(/not a timestamp mark/);
  });

  it('lists keys in key order and sums an integer key exactly (decimal(38,0)), by range parameters', () => {
    const range = { id: 'r1', kind: 'range' as const, column: 'an_ID', from: '-9223372036854775808', to: '5000', lastInclusive: false };
    const keys = keysSelect(antrag, range);
    expect(keys.text).toBe('SELECT [an_ID] AS [an_ID] FROM [dbo].[Antrag] WHERE [an_ID] >= @from AND [an_ID] < @to ORDER BY [an_ID]');
    expect(keys.params.map((p) => p.value)).toEqual(['-9223372036854775808', '5000']);
    const sum = keySummarySelect(antrag, { id: 'all', kind: 'all' });
    expect(sum.text).toContain('SUM(CONVERT(decimal(38,0), [an_ID]))');
    expect(sum.text).toContain('SUM(CONVERT(decimal(38,0), [an_ID] % 2147483647) * CONVERT(decimal(38,0), [an_ID] % 2147483647))');
    expect(() => keysSelect(antrag, { id: 'h', kind: 'hash', columns: ['an_ID'], buckets: 2, bucket: 0 })).toThrow(/not by hash/);
  });

  it('turns a style-121 mark into the exact datetime2(7) tedious sends, and rowversion marks both ways', () => {
    const d = datetime2Value('2024-02-29 23:59:59.1234567');
    expect(d.toISOString()).toBe('2024-02-29T23:59:59.123Z');
    // tedious sends ms * 10^4 + nanosecondDelta * 10^7 ticks of 100 ns, rounded.
    expect(Math.round(d.getUTCMilliseconds() * 1e4 + d.nanosecondDelta * 1e7)).toBe(1234567);
    expect(datetime2Value('0001-01-01 00:00:00').getUTCFullYear()).toBe(1);
    expect(rowversionText(rowversionBytes(AFTER))).toBe(AFTER);
    expect(laterMark('2024-01-01 10:00:00.5', '2024-01-01 10:00:00.25')).toBe('2024-01-01 10:00:00.5');
    expect(laterMark(AFTER, UP_TO)).toBe(UP_TO);
  });

  it('binds the marks through the driver as Binary and DateTime2(7) inputs', async () => {
    const inputs: Array<[string, unknown, unknown]> = [];
    const request = Object.assign(new EventEmitter(), {
      stream: false, arrayRowMode: false,
      input(name: string, type: unknown, value: unknown) { inputs.push([name, type, value]); },
      query() { setImmediate(() => request.emit('done')); return Promise.resolve({ recordset: [] }); },
      pause() {}, resume() {}, cancel() {},
    });
    const pool = { request: () => request, close: async () => undefined } as unknown as MssqlPool;
    const stream = new MssqlSyncSource(pool).readChanged(antrag, window({ column: 'an_Stand', kind: 'timestamp', after: '2024-01-01 00:00:00.0000001', upTo: '2024-01-02 00:00:00' }), new AbortController().signal);
    await new Promise((resolve, reject) => stream.on('end', resolve).on('error', reject).resume());
    expect(inputs.map(([n]) => n)).toEqual(['after', 'overlapMs', 'upTo']);
    const [, type, value] = inputs[0] as [string, { type: unknown; scale: number }, Date & { nanosecondDelta: number }];
    expect(type).toMatchObject({ type: mssql.DateTime2, scale: 7 });
    expect(Math.round(value.nanosecondDelta * 1e7)).toBe(1);
    inputs.length = 0;
    const rv = new MssqlSyncSource(pool).readChanged(antrag, window({}), new AbortController().signal);
    await new Promise((resolve, reject) => rv.on('end', resolve).on('error', reject).resume());
    expect(inputs).toEqual([['after', mssql.Binary, Buffer.from('00000000000007d1', 'hex')], ['upTo', mssql.Binary, Buffer.from('0000000000000fa0', 'hex')]]);
  });
});
