import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ColumnMapping, QuarantineRecord, SourceRow, SourceValue, TableMapping, ValueKind } from '../../engine/etl/contracts.js';
import { createEncoder, encodeValue, parseCopyLine } from '../../engine/etl/encoder.js';
import { RowBatch } from '../../engine/etl/row-batch.js';

const DEFAULT_TYPES: Record<ValueKind, [string, string]> = {
  int: ['int', 'integer'],
  exact: ['decimal(38,10)', 'numeric(38,10)'],
  float: ['float', 'double precision'],
  bool: ['bit', 'boolean'],
  text: ['nvarchar(max)', 'text'],
  bytes: ['varbinary(max)', 'bytea'],
  date: ['date', 'date'],
  time: ['time(7)', 'time(6)'],
  timestamp: ['datetime2(7)', 'timestamp(6)'],
  timestamptz: ['datetimeoffset(7)', 'timestamptz(6)'],
  uuid: ['uniqueidentifier', 'uuid'],
};

const col = (kind: ValueKind, over: Partial<ColumnMapping> = {}): ColumnMapping => ({
  source: 'v',
  target: 'v',
  sourceType: DEFAULT_TYPES[kind][0],
  targetType: DEFAULT_TYPES[kind][1],
  kind,
  nullable: true,
  maxChars: null,
  ...over,
});

const ok = (value: SourceValue, column: ColumnMapping): string => {
  const r = encodeValue(value, column);
  if (!r.ok) throw new Error(`refused: ${r.reason}`);
  return r.text;
};
const refused = (value: SourceValue, column: ColumnMapping): string => {
  const r = encodeValue(value, column);
  if (r.ok) throw new Error(`accepted as ${r.text}`);
  return r.reason;
};

describe('encodeValue', () => {
  it('writes NULL as \\N and refuses it for NOT NULL columns', () => {
    expect(ok(null, col('text'))).toBe('\\N');
    expect(refused(null, col('int', { nullable: false }))).toMatch(/NULL in NOT NULL/);
  });

  it('int: integers within the target type only', () => {
    expect(ok(-2147483648, col('int'))).toBe('-2147483648');
    expect(ok(255, col('int', { sourceType: 'tinyint', targetType: 'smallint' }))).toBe('255');
    expect(refused(2147483648, col('int'))).toMatch(/out of range for integer/);
    expect(refused(32768, col('int', { targetType: 'smallint' }))).toMatch(/out of range/);
    expect(refused(1.5, col('int'))).toMatch(/not an exact integer/);
    expect(refused('1', col('int'))).toMatch(/expected a number/);
  });

  it('exact: decimal(38,10) and money extremes keep every digit', () => {
    expect(ok('9999999999999999999999999999.9999999999', col('exact'))).toBe('9999999999999999999999999999.9999999999');
    expect(ok('-9999999999999999999999999999.9999999999', col('exact'))).toBe('-9999999999999999999999999999.9999999999');
    const money = col('exact', { sourceType: 'money', targetType: 'numeric(19,4)' });
    expect(ok('922337203685477.5807', money)).toBe('922337203685477.5807');
    expect(ok('-922337203685477.5808', money)).toBe('-922337203685477.5808');
    expect(ok('0.0000', money)).toBe('0.0000');
  });

  it('exact: bigint beyond 2^53 stays exact; the int8 range is enforced', () => {
    const big = col('exact', { sourceType: 'bigint', targetType: 'bigint' });
    expect(ok('9223372036854775807', big)).toBe('9223372036854775807');
    expect(ok('-9223372036854775808', big)).toBe('-9223372036854775808');
    expect(ok('9007199254740993', big)).toBe('9007199254740993');
    expect(refused('9223372036854775808', big)).toMatch(/out of range for bigint/);
    expect(refused('1.5', big)).toMatch(/fraction/);
    expect(ok('+007', big)).toBe('7');
    expect(ok('-0', big)).toBe('0');
    expect(ok('12.000', big)).toBe('12');
    expect(ok('-922337203685477580', big)).toBe('-922337203685477580');
  });

  it('exact: refuses non-decimals, overflow and digits the target scale would round away', () => {
    expect(refused('1e5', col('exact'))).toBe('not a decimal literal');
    expect(refused('12,5', col('exact'))).toBe('not a decimal literal');
    expect(refused('', col('exact'))).toBe('not a decimal literal');
    expect(refused(0.1, col('exact'))).toMatch(/expected an exact decimal string/);
    expect(ok(42, col('exact'))).toBe('42');
    const narrow = col('exact', { targetType: 'numeric(5,2)' });
    expect(refused('1000.00', narrow)).toMatch(/numeric field overflow/);
    expect(refused('1.005', narrow)).toMatch(/would be rounded/);
    expect(ok('999.990', narrow)).toBe('999.990');
    expect(refused('1000', col('exact', { targetType: 'NUMERIC(5, 2)' }))).toMatch(/numeric field overflow/);
    expect(refused('40000', col('exact', { targetType: 'SMALLINT' }))).toMatch(/out of range for SMALLINT/);
  });

  it('float: shortest round-trip text, special values, negative zero', () => {
    expect(ok(0.1, col('float'))).toBe('0.1');
    expect(ok(1.7976931348623157e308, col('float'))).toBe('1.7976931348623157e+308');
    expect(ok(5e-324, col('float'))).toBe('5e-324');
    expect(ok(-0, col('float'))).toBe('-0');
    expect(ok(Number.NaN, col('float'))).toBe('NaN');
    expect(ok(-Infinity, col('float'))).toBe('-Infinity');
    expect(Number(ok(0.30000000000000004, col('float')))).toBe(0.30000000000000004);
  });

  it('bool: t/f', () => {
    expect(ok(true, col('bool'))).toBe('t');
    expect(ok(false, col('bool'))).toBe('f');
    expect(refused(1, col('bool'))).toMatch(/expected a boolean/);
  });

  it('text: empty string is not NULL; trailing spaces of char(n) are kept', () => {
    expect(ok('', col('text'))).toBe('');
    expect(ok('ab        ', col('text', { sourceType: 'nchar(10)', targetType: 'char(10)', maxChars: 10 }))).toBe('ab        ');
  });

  it('text: escapes backslash, tab, newline and carriage return only', () => {
    expect(ok('a\\b\tc\nd\re', col('text'))).toBe('a\\\\b\\tc\\nd\\re');
    expect(ok('\\N', col('text'))).toBe('\\\\N');
    expect(ok('\\.', col('text'))).toBe('\\\\.');
    expect(ok('"quoted", \'single\'; \b\f\v', col('text'))).toBe('"quoted", \'single\'; \b\f\v');
  });

  it('text: unicode outside the BMP, CJK and umlauts pass unchanged; maxChars counts code points', () => {
    const s = 'Grüße 😀 日本語 𠀋';
    expect(ok(s, col('text'))).toBe(s);
    const four = col('text', { targetType: 'varchar(4)', maxChars: 4 });
    expect(ok('😀😀😀😀', four)).toBe('😀😀😀😀');
    expect(refused('😀😀😀😀x', four)).toBe('5 characters, varchar(4) allows 4');
    expect(refused('abcd ', four)).toBe('5 characters, varchar(4) allows 4');
  });

  it('text: NUL and lone surrogates are refused with their reasons', () => {
    expect(refused('a\u0000b', col('text'))).toBe('NUL byte (0x00) in text: PostgreSQL cannot store it');
    expect(refused('x\uD83D', col('text'))).toBe('invalid UTF-16 surrogate');
    expect(refused('\uDE00x', col('text'))).toBe('invalid UTF-16 surrogate');
    expect(refused('\uDE00\uD83D', col('text'))).toBe('invalid UTF-16 surrogate');
    // The same checks where the text also needs escaping (the one-pass path), and a valid pair beside them.
    expect(refused('tab\there\u0000', col('text'))).toBe('NUL byte (0x00) in text: PostgreSQL cannot store it');
    expect(refused('😀\t\uD83D', col('text'))).toBe('invalid UTF-16 surrogate');
    expect(refused('\\\uDE00😀', col('text'))).toBe('invalid UTF-16 surrogate');
    expect(ok('😀\t„Zaun“ \\ \n\r😀', col('text'))).toBe('😀\\t„Zaun“ \\\\ \\n\\r😀');
  });

  it('text: any string is refused exactly when it holds a NUL or a lone surrogate, else it reads back unchanged from COPY', () => {
    const chars = fc.constantFrom('a', 'ü', '\\', '\t', '\n', '\r', 'N', '.', '\u0000', '\uD83D', '\uDE00', '😀', ' ');
    const lone = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
    fc.assert(
      fc.property(fc.oneof(fc.array(chars, { maxLength: 30 }).map((cs) => cs.join('')), fc.string()), (v) => {
        const r = encodeValue(v, col('text'));
        if (v.includes('\u0000') || lone.test(v)) expect(r.ok).toBe(false);
        else expect(r.ok && parseCopyLine(r.text)).toEqual([v]);
      }),
    );
  });

  it('bytes: \\\\x hex, zero bytes included', () => {
    expect(ok(Buffer.from([0, 1, 0, 255, 0]), col('bytes'))).toBe('\\\\x000100ff00');
    expect(ok(Buffer.alloc(0), col('bytes'))).toBe('\\\\x');
    expect(refused('00ff', col('bytes'))).toMatch(/expected a Buffer/);
  });

  it('uuid: lower-case canonical text, validated', () => {
    expect(ok('6F9619FF-8B86-D011-B42D-00C04FC964FF', col('uuid'))).toBe('6f9619ff-8b86-d011-b42d-00c04fc964ff');
    expect(refused('6F9619FF8B86D011B42D00C04FC964FF', col('uuid'))).toBe('not a uuid');
    expect(refused('{6F9619FF-8B86-D011-B42D-00C04FC964FF}', col('uuid'))).toBe('not a uuid');
    // Non-ASCII letters whose lower case is ASCII (Kelvin sign → k, İ → i̇) must not turn a non-uuid into one.
    expect(refused('6F9619FF-8B86-D011-B42D-00C04FC964F\u212A', col('uuid'))).toBe('not a uuid');
    expect(refused('6F9619FF-8B86-D011-B42D-00C04FC964F\u0130', col('uuid'))).toBe('not a uuid');
  });

  it('uuid: any mix of case is accepted exactly when it is a uuid case-blind, and sent in lower case', () => {
    const caseBlind = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
    const hex = fc.constantFrom(...'0123456789abcdefABCDEFgGxX-\u212A\u0130');
    const uuidLike = fc.array(hex, { minLength: 30, maxLength: 40 }).map((cs) => cs.join(''));
    const groups = fc.tuple(...[8, 4, 4, 4, 12].map((n) => fc.array(fc.constantFrom(...'0123456789abcdefABCDEF'), { minLength: n, maxLength: n }).map((cs) => cs.join('')))).map((g) => g.join('-'));
    fc.assert(
      fc.property(fc.oneof(uuidLike, groups, fc.string()), (v) => {
        const r = encodeValue(v, col('uuid'));
        expect(r).toEqual(caseBlind.test(v) ? { ok: true, text: v.toLowerCase() } : { ok: false, reason: 'not a uuid' });
      }),
    );
  });

  it('date: shape, leap days and year range', () => {
    expect(ok('0001-01-01', col('date'))).toBe('0001-01-01');
    expect(ok('2024-02-29', col('date'))).toBe('2024-02-29');
    expect(refused('2023-02-29', col('date'))).toMatch(/day 29 does not exist/);
    expect(refused('1900-02-29', col('date'))).toMatch(/does not exist/);
    expect(refused('0000-12-31', col('date'))).toMatch(/year 0 outside/);
    expect(refused('2024-13-01', col('date'))).toMatch(/month 13/);
    expect(refused('24-01-01', col('date'))).toMatch(/not a date/);
  });

  it('time(7): rounds half up to microseconds and saturates at the end of the day', () => {
    expect(ok('12:34:56.1234565', col('time'))).toBe('12:34:56.123457');
    expect(ok('12:34:56.1234564', col('time'))).toBe('12:34:56.123456');
    expect(ok('00:00:00.0000005', col('time'))).toBe('00:00:00.000001');
    expect(ok('10:59:59.9999995', col('time'))).toBe('11:00:00.000000');
    expect(ok('23:59:59.9999999', col('time'))).toBe('23:59:59.999999');
    expect(ok('08:00:00', col('time'))).toBe('08:00:00');
    expect(ok('08:00:00.5', col('time', { targetType: 'time(0)' }))).toBe('08:00:01');
    expect(refused('24:00:00', col('time'))).toMatch(/out of range/);
    expect(refused('12:00:00.12345678', col('time'))).toMatch(/not a time/);
    expect(refused('12:00:00.', col('time'))).toMatch(/not a time/);
    expect(refused('12:00', col('time'))).toMatch(/not a time/);
  });

  it('datetime2(7): rounding carries into the next day, month and year', () => {
    const ts = col('timestamp');
    expect(ok('2024-02-29 23:59:59.9999999', ts)).toBe('2024-03-01 00:00:00.000000');
    expect(ok('2023-12-31 23:59:59.9999995', ts)).toBe('2024-01-01 00:00:00.000000');
    expect(ok('2024-02-29 23:59:59.9999994', ts)).toBe('2024-02-29 23:59:59.999999');
    expect(ok('1999-12-31 23:59:59.1234575', ts)).toBe('1999-12-31 23:59:59.123458');
    expect(ok('9999-12-31 23:59:59.9999999', ts)).toBe('9999-12-31 23:59:59.999999');
    expect(ok('2024-01-01 00:00:00.003', col('timestamp', { sourceType: 'datetime', targetType: 'timestamp(3)' }))).toBe('2024-01-01 00:00:00.003');
    expect(ok('2024-01-01T10:00:00', ts)).toBe('2024-01-01 10:00:00');
    expect(refused('2024-01-01 10:00:60', ts)).toMatch(/out of range/);
    expect(refused('2024-01-01', ts)).toMatch(/not a timestamp/);
  });

  it('datetimeoffset: keeps the offset (+14:00, -12:00, +05:45) so the instant is exact', () => {
    const tz = col('timestamptz');
    expect(ok('2024-06-30 23:59:59.1234567 +14:00', tz)).toBe('2024-06-30 23:59:59.123457+14:00');
    expect(ok('2024-01-01 00:00:00.0000000 -12:00', tz)).toBe('2024-01-01 00:00:00.000000-12:00');
    expect(ok('2024-03-10 10:15:00 +05:45', tz)).toBe('2024-03-10 10:15:00+05:45');
    expect(ok('2024-03-10 10:15:00Z', tz)).toBe('2024-03-10 10:15:00+00:00');
    expect(ok('2024-12-31 23:59:59.9999999 -12:00', tz)).toBe('2025-01-01 00:00:00.000000-12:00');
    expect(ok('2024-12-31T23:59:59.5+01:00', col('timestamptz', { targetType: 'timestamp(0) with time zone' }))).toBe('2025-01-01 00:00:00+01:00');
    expect(refused('2024-03-10 10:15:00 +14:30', tz)).toMatch(/offset/);
    expect(refused('2024-03-10 10:15:00 +05:60', tz)).toMatch(/offset/);
    expect(refused('2024-03-10 10:15:00 +0545', tz)).toMatch(/not a timestamptz/);
    expect(refused('2024-03-10 10:15:00', tz)).toMatch(/not a timestamptz/);
  });
});

const mapping = (columns: ColumnMapping[], over: Partial<TableMapping> = {}): TableMapping => ({
  source: { schema: 'dbo', name: 'T' },
  target: { schema: 'public', name: 't' },
  columns,
  key: { columns: [columns[0]?.source ?? 'id'], kind: 'integer' },
  rowCount: 0,
  ...over,
});

async function encodeAll(m: TableMapping, rows: Array<SourceRow | RowBatch>, batchBytes?: number): Promise<{ chunks: Buffer[]; quarantine: QuarantineRecord[] }> {
  const quarantine: QuarantineRecord[] = [];
  const chunks: Buffer[] = [];
  // A Writable sink sees each write as the encoder pushed it (an async iterator would merge buffered chunks).
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk);
      cb();
    },
  });
  await pipeline(Readable.from(rows), createEncoder(m, quarantine, batchBytes ? { batchBytes } : {}), sink);
  return { chunks, quarantine };
}

describe('createEncoder', () => {
  const m = mapping([col('int', { source: 'id', target: 'id', nullable: false }), col('text', { source: 'name', target: 'name' })]);

  it('batches many rows into few large Buffers (pg-copy-streams #127)', async () => {
    const rows: SourceRow[] = Array.from({ length: 20_000 }, (_, i) => [i, `name number ${i} with some padding text`]);
    const { chunks, quarantine } = await encodeAll(m, rows);
    expect(quarantine).toEqual([]);
    expect(chunks.length).toBeLessThan(30);
    for (const c of chunks.slice(0, -1)) expect(c.length).toBeGreaterThanOrEqual(64 * 1024);
    const lines = Buffer.concat(chunks).toString('utf8').split('\n');
    expect(lines.pop()).toBe('');
    expect(lines).toHaveLength(20_000);
    expect(parseCopyLine(lines[12_345] ?? '')).toEqual(['12345', 'name number 12345 with some padding text']);
  });

  it('quarantines a row with a NUL or lone surrogate, with its key and a sample, and keeps the others', async () => {
    const rows: SourceRow[] = [
      [1, 'fine'],
      [2, 'bad\u0000value'],
      [3, 'lone \uD83D'],
      [4, 'also fine'],
    ];
    const { chunks, quarantine } = await encodeAll(m, rows);
    expect(Buffer.concat(chunks).toString('utf8')).toBe('1\tfine\n4\talso fine\n');
    expect(quarantine).toEqual([
      { key: { id: '2' }, column: 'name', reason: 'NUL byte (0x00) in text: PostgreSQL cannot store it', sample: 'bad\\0value' },
      { key: { id: '3' }, column: 'name', reason: 'invalid UTF-16 surrogate', sample: 'lone \\ud83d' },
    ]);
  });

  it('uses every column as the key of a keyless table and truncates long samples', async () => {
    const keyless = mapping(m.columns, { key: null });
    const { quarantine } = await encodeAll(keyless, [[7, `${'x'.repeat(500)}\u0000`]]);
    expect(quarantine[0]?.key).toEqual({ id: '7', name: `${'x'.repeat(200)}…` });
    expect(quarantine[0]?.sample).toBe(`${'x'.repeat(120)}…`);
  });

  it('fails the stream on a row of the wrong shape (an adapter bug, not bad data)', async () => {
    await expect(encodeAll(m, [[1, 'a', 'extra']])).rejects.toThrow(/row has 3 values/);
  });

  it('takes rows in RowBatches as it takes them alone: same text, same quarantine, a misshapen row still fails', async () => {
    const rows: SourceRow[] = [[1, 'fine'], [2, 'bad\u0000value'], [3, 'tab\there'], [4, null]];
    const alone = await encodeAll(m, rows);
    const batched = await encodeAll(m, [new RowBatch(rows.slice(0, 3)), rows[3] as SourceRow, new RowBatch([])]);
    expect(Buffer.concat(batched.chunks).toString('utf8')).toBe('1\tfine\n3\ttab\\there\n4\t\\N\n');
    expect(Buffer.concat(batched.chunks)).toEqual(Buffer.concat(alone.chunks));
    expect(batched.quarantine).toEqual(alone.quarantine);
    expect(batched.quarantine.map((q) => q.key)).toEqual([{ id: '2' }]);
    await expect(encodeAll(m, [new RowBatch([[1, 'a'], [2, 'b', 'extra']])])).rejects.toThrow(/row has 3 values/);
  });

  it('honours a small batch size', async () => {
    const { chunks } = await encodeAll(m, [[1, 'a'], [2, 'b'], [3, 'c']], 1);
    expect(chunks.map((c) => c.toString())).toEqual(['1\ta\n', '2\tb\n', '3\tc\n']);
  });

  it('keeps a row larger than its batch whole, multi-byte text intact, and every batch ending on a row', async () => {
    const huge = `Grüße „Kleingarten“ 😀 ${'ä€'.repeat(40_000)}`;
    const rows: SourceRow[] = [[1, 'a'], [2, huge], [3, 'ß'], [4, null]];
    const { chunks } = await encodeAll(m, rows, 1024);
    for (const c of chunks) expect(c[c.length - 1]).toBe(10);
    expect(Buffer.concat(chunks).toString('utf8').split('\n').slice(0, -1).map(parseCopyLine)).toEqual([['1', 'a'], ['2', huge], ['3', 'ß'], ['4', null]]);
  });

  it('writes nothing of a refused row, even when its refusal comes after accepted fields', async () => {
    const { chunks, quarantine } = await encodeAll(m, [[1, 'a'], [2, 'x\u0000y'], [3, 'c']], 64);
    expect(Buffer.concat(chunks).toString()).toBe('1\ta\n3\tc\n');
    expect(quarantine.map((q) => q.key)).toEqual([{ id: '2' }]);
  });
});

describe('parseCopyLine', () => {
  it('inverts the encoder for text with every escape, NULL and empty string', () => {
    const t = col('text');
    const values = ['a\\b\tc\nd\re', '', null, '\\N', 'Grüße 😀', ' trailing  '];
    const line = values.map((v) => ok(v, t)).join('\t');
    expect(parseCopyLine(`${line}\n`)).toEqual(values);
  });

  it('decodes the other escapes PostgreSQL defines (octal, hex, \\b \\f \\v)', () => {
    expect(parseCopyLine('\\101\\x42\\b\\f\\v\\q')).toEqual(['AB\b\f\vq']);
  });
});
