import { createRequire } from 'node:module';
import mssql from 'mssql';
import { describe, expect, it } from 'vitest';
import { dateText, datetime2Text, datetimeoffsetText, datetimeText, fixedText, timeText, type DriverDate } from '../../engine/mssql/native-values.js';
import { rowDecoder } from '../../engine/mssql/row-decoder.js';

/**
 * Issue 15, part 1: a value read natively must give the very text SQL
 * Server's CONVERT gives (the converting path, select-list.ts). Each case
 * builds the TDS wire bytes of a value, parses them with tedious's own value
 * parser (the code every row goes through, nanosecondsDelta float arithmetic
 * included), decodes the result, and compares it with the text computed from
 * the same wire integers by exact integer arithmetic, as SQL Server documents
 * it. (The server round trip is in test/integration/mssql-source.test.ts.)
 */
const require = createRequire(import.meta.url);
type Parsed = { value: unknown };
const { readValue } = require('tedious/lib/value-parser.js') as { readValue: (buf: Buffer, offset: number, metadata: unknown, options: unknown) => Parsed };
const { TYPE } = require('tedious/lib/data-type.js') as { TYPE: Record<number, unknown> };

const OPTIONS = { useUTC: true, lowerCaseGuids: false };
const parse = (typeId: number, bytes: number[] | Buffer, meta: { scale?: number; precision?: number } = {}): unknown =>
  readValue(Buffer.from(bytes), 0, { type: TYPE[typeId], ...meta }, OPTIONS).value;

const le = (n: bigint, bytes: number): number[] => Array.from({ length: bytes }, (_, i) => Number((n >> BigInt(8 * i)) & 0xffn));
const timeBytes = (scale: number): number => (scale <= 2 ? 3 : scale <= 4 ? 4 : 5);

// ---- the reference: SQL Server's text from the wire integers, no floating point ----
const p = (n: bigint | number, w: number): string => String(n).padStart(w, '0');
const DAY0 = Date.UTC(2000, 0, 1); // days since 0001-01-01 of 2000-01-01 is 730119
/** yyyy-mm-dd of a day counted from 0001-01-01 (toISOString is V8's own calendar, not the code under test). */
const refDay = (days: number): string => new Date(DAY0 + (days - 730_119) * 86_400_000).toISOString().slice(0, 10);
/** hh:mm:ss[.f] of `ticks` units of 10^-scale s. */
function refClock(ticks: bigint, scale: number): string {
  const unit = 10n ** BigInt(scale);
  const secs = ticks / unit;
  const frac = ticks % unit;
  return `${p(secs / 3600n, 2)}:${p((secs / 60n) % 60n, 2)}:${p(secs % 60n, 2)}${scale ? `.${p(frac, scale)}` : ''}`;
}
function refDecimal(negative: boolean, digits: bigint, scale: number): string {
  const s = p(digits, scale + 1);
  const text = scale ? `${s.slice(0, -scale)}.${s.slice(-scale)}` : s;
  return negative && digits !== 0n ? `-${text}` : text;
}

// ---- wire bytes ----
const wireTime = (ticks: bigint, scale: number) => [timeBytes(scale), ...le(ticks, timeBytes(scale))];
const wireDatetime2 = (ticks: bigint, days: number, scale: number) => [timeBytes(scale) + 3, ...le(ticks, timeBytes(scale)), ...le(BigInt(days), 3)];
const wireOffset = (ticks: bigint, days: number, scale: number, offset: number) =>
  [timeBytes(scale) + 5, ...le(ticks, timeBytes(scale)), ...le(BigInt(days), 3), ...le(BigInt(offset & 0xffff), 2)];

const TICKS_PER_DAY = (scale: number): bigint => 86_400n * 10n ** BigInt(scale);
const LAST_DAY = 3_652_058; // 9999-12-31
/** Ticks of 10^-7 s that exercise every sub-millisecond residue at the start, middle and end of a day. */
function subMillisecondSweep(): bigint[] {
  const out: bigint[] = [];
  for (const ms of [0n, 1n, 999n, 45_296_123n, 86_399_999n]) for (let r = 0n; r < 10_000n; r++) out.push(ms * 10_000n + r);
  return out;
}
/** A deterministic spread of values over the whole range. */
function spread(n: number, max: bigint): bigint[] {
  let x = 0x2545f4914f6cdd1dn;
  return Array.from({ length: n }, () => {
    x ^= x << 13n; x &= (1n << 64n) - 1n; x ^= x >> 7n; x ^= x << 17n; x &= (1n << 64n) - 1n;
    return x % max;
  });
}

describe('native date/time values: the text of CONVERT, from tedious\'s own parse', () => {
  it('time(7): every 100 ns residue below the millisecond, at the start, middle and end of the day', () => {
    const got: string[] = [];
    const want: string[] = [];
    for (const t of subMillisecondSweep()) {
      got.push(timeText(parse(0x29, wireTime(t, 7), { scale: 7 }) as DriverDate, 7));
      want.push(refClock(t, 7));
    }
    expect(got).toEqual(want);
    expect(got.at(-1)).toBe('23:59:59.9999999');
  });

  it('time never wraps past midnight: 24:00:00, which a stand-in may send for 23:59:59.9999999, stays 24:00 for the encoder to refuse', () => {
    expect(timeText(parse(0x29, wireTime(TICKS_PER_DAY(7), 7), { scale: 7 }) as DriverDate, 7)).toBe('24:00:00.0000000');
  });

  it.each([0, 1, 2, 3, 4, 5, 6, 7])('time(%i) and datetime2(%i): edges and 20,000 values spread over the range', (scale) => {
    const ticks = [0n, 1n, TICKS_PER_DAY(scale) - 1n, TICKS_PER_DAY(scale) / 2n, ...spread(20_000, TICKS_PER_DAY(scale))];
    const days = [0, 1, 59, 60, 693_595, 719_162, 730_118, 730_119, 738_944, LAST_DAY, ...spread(ticks.length - 10, BigInt(LAST_DAY + 1)).map(Number)];
    for (let i = 0; i < ticks.length; i++) {
      const t = ticks[i] as bigint;
      const d = days[i % days.length] as number;
      const time = timeText(parse(0x29, wireTime(t, scale), { scale }) as DriverDate, scale);
      const dt2 = datetime2Text(parse(0x2a, wireDatetime2(t, d, scale), { scale }) as DriverDate, scale);
      if (time !== refClock(t, scale) || dt2 !== `${refDay(d)} ${refClock(t, scale)}`) {
        expect({ scale, t, d, time, dt2 }).toEqual({ scale, t, d, time: refClock(t, scale), dt2: `${refDay(d)} ${refClock(t, scale)}` });
      }
    }
  });

  it('datetime2(7) at its edges: 0001-01-01, leap days, 9999-12-31 23:59:59.9999999', () => {
    const cases: Array<[bigint, number, string]> = [
      [0n, 0, '0001-01-01 00:00:00.0000000'],
      [TICKS_PER_DAY(7) - 1n, LAST_DAY, '9999-12-31 23:59:59.9999999'],
      [1_234_567n, 730_178, '2000-02-29 00:00:00.1234567'],
      [0n, 693_654, '1900-03-01 00:00:00.0000000'],
      [864_000_000_000n - 10_000n, 738_953, '2024-03-09 23:59:59.9990000'],
    ];
    for (const [t, d, text] of cases) expect(datetime2Text(parse(0x2a, wireDatetime2(t, d, 7), { scale: 7 }) as DriverDate, 7)).toBe(text);
  });

  it('datetimeoffset: the wall-clock time at its offset, carried across midnight, the offset as ±hh:mm', () => {
    const cases: Array<[bigint, number, number, string]> = [
      // 2024-03-09 09:30:00.1234567 UTC at +14:00 is 23:30 local.
      [342_001_234_567n, 738_953, 840, '2024-03-09 23:30:00.1234567 +14:00'],
      // 2000-01-01 08:00:00.0000001 UTC at -08:00 is local midnight.
      [288_000_000_001n, 730_119, -480, '2000-01-01 00:00:00.0000001 -08:00'],
      [792_000_000_000n, 738_952, 330, '2024-03-09 03:30:00.0000000 +05:30'],
      [10_000n, 738_953, 840, '2024-03-09 14:00:00.0010000 +14:00'],
      [TICKS_PER_DAY(7) - 1n, LAST_DAY, 0, '9999-12-31 23:59:59.9999999 +00:00'],
      [0n, 0, -1, '0000-12-31 23:59:00.0000000 -00:01'],
    ];
    for (const [t, d, offset, text] of cases) expect(datetimeoffsetText(parse(0x2b, wireOffset(t, d, 7, offset), { scale: 7 }) as DriverDate, 7, offset)).toBe(text);
    const three = parse(0x2b, wireOffset(123_456n, 730_119, 3, 60), { scale: 3 }) as DriverDate;
    expect(datetimeoffsetText(three, 3, 60)).toBe('2000-01-01 01:02:03.456 +01:00');
    expect(datetimeoffsetText(parse(0x2b, wireOffset(5n, 730_119, 0, -840), { scale: 0 }) as DriverDate, 0, -840)).toBe('1999-12-31 10:00:05 -14:00');
  });

  it('datetime: every 1/300 s tick of a second rounds to .000/.003/.007 as SQL Server shows it, at both ends of the range', () => {
    const wire = (days: number, ticks: number) => [8, ...le(BigInt(days) & 0xffffffffn, 4), ...le(BigInt(ticks), 4)];
    const refMs = (ticks: number) => Math.floor((ticks * 10 + 1) / 3); // round(ticks × 10/3), in integers
    // days since 1900-01-01: 1753-01-01 is -53690, 9999-12-31 is 2958463.
    for (const [days, base] of [[-53_690, 0], [0, 300 * 3600], [2_958_463, 300 * 86_399]] as const) {
      for (let k = 0; k < 300; k++) {
        const ticks = base + k;
        const ms = refMs(ticks);
        const want = `${refDay(days + 693_595)} ${refClock(BigInt(ms), 3)}`;
        expect(datetimeText(parse(0x6f, wire(days, ticks)) as DriverDate)).toBe(want);
      }
    }
    expect(datetimeText(parse(0x6f, wire(2_958_463, 25_919_999)) as DriverDate)).toBe('9999-12-31 23:59:59.997');
    expect(datetimeText(parse(0x6f, wire(45_358, 300 * 47_655 + 1)) as DriverDate)).toBe('2024-03-09 13:14:15.003');
  });

  it('smalldatetime and date at their edges', () => {
    const sdt = (days: number, minutes: number) => datetimeText(parse(0x6f, [4, ...le(BigInt(days), 2), ...le(BigInt(minutes), 2)]) as DriverDate);
    expect(sdt(0, 0)).toBe('1900-01-01 00:00:00.000');
    expect(sdt(65_535, 1439)).toBe('2079-06-06 23:59:00.000');
    const date = (days: number) => dateText(parse(0x28, [3, ...le(BigInt(days), 3)]) as DriverDate);
    for (const days of [0, 59, 365, 693_654, 730_178, LAST_DAY, ...spread(5000, BigInt(LAST_DAY)).map(Number)]) expect(date(days)).toBe(refDay(days));
  });
});

describe('native numbers: decimal/numeric up to 15 digits and smallmoney as CONVERT writes them', () => {
  const wireDecimal = (negative: boolean, digits: bigint, precision: number) => {
    const len = precision <= 9 ? 4 : precision <= 19 ? 8 : precision <= 28 ? 12 : 16;
    return [len + 1, negative ? 0 : 1, ...le(digits, len)];
  };

  it('every precision 1..15 and scale 0..precision: the largest, the smallest step, zero and spread values, both signs', () => {
    for (let precision = 1; precision <= 15; precision++) {
      const max = 10n ** BigInt(precision) - 1n;
      for (let scale = 0; scale <= precision; scale++) {
        for (const digits of [0n, 1n, max, max - 1n, 10n ** BigInt(scale), ...spread(200, max + 1n)].filter((d) => d <= max)) {
          for (const negative of [false, true]) {
            const v = parse(0x6a, wireDecimal(negative, digits, precision), { precision, scale });
            const got = fixedText(v as number, scale);
            const want = refDecimal(negative, digits, scale);
            if (got !== want) expect({ precision, scale, digits, negative, got }).toEqual({ precision, scale, digits, negative, got: want });
          }
        }
      }
    }
  });

  it('smallmoney at its edges', () => {
    for (const [raw, text] of [[2_147_483_647, '214748.3647'], [-2_147_483_648, '-214748.3648'], [1, '0.0001'], [-1, '-0.0001'], [0, '0.0000'], [123_450_000, '12345.0000']] as const) {
      expect(fixedText(parse(0x6e, [4, ...le(BigInt(raw) & 0xffffffffn, 4)]) as number, 4)).toBe(text);
    }
  });

  it('refuses a number beyond 15 digits instead of printing its rounded digits', () => {
    expect(() => fixedText(922337203685477.6, 4)).toThrow(expect.objectContaining({ code: 'mssql.bad_value' }));
    expect(() => fixedText(1e15, 0)).toThrow(expect.objectContaining({ code: 'mssql.bad_value' }));
    expect(fixedText(999_999_999_999_999, 0)).toBe('999999999999999');
  });

  it('wide decimals (precision 16..38) and money: every value of up to 15 significant digits is exact through the driver\'s number (issue 15)', () => {
    const below = 10n ** 15n; // the values the select list leaves to the driver (exactBound); the server sends the text of the rest
    for (let precision = 16; precision <= 38; precision++) {
      for (let scale = 0; scale <= precision; scale++) {
        for (const digits of [0n, 1n, below - 1n, 10n ** BigInt(Math.min(scale, 14)), ...spread(60, below)]) {
          for (const negative of [false, true]) {
            const got = fixedText(parse(0x6a, wireDecimal(negative, digits, precision), { precision, scale }) as number, scale);
            const want = refDecimal(negative, digits, scale);
            if (got !== want) expect({ precision, scale, digits, negative, got }).toEqual({ precision, scale, digits, negative, got: want });
          }
        }
      }
    }
    const wireMoney = (raw: bigint) => { const u = BigInt.asUintN(64, raw); return [8, ...le(u >> 32n, 4), ...le(u & 0xffffffffn, 4)]; };
    for (const raw of [0n, 1n, -1n, below - 1n, 1n - below, 123_456_789_012_345n, ...spread(200, below)]) {
      expect(fixedText(parse(0x6e, wireMoney(raw)) as number, 4)).toBe(refDecimal(raw < 0n, raw < 0n ? -raw : raw, 4));
    }
  });

  it('bigint and uniqueidentifier arrive as exact text already', () => {
    expect(parse(0x26, [8, ...le(-(2n ** 63n) & ((1n << 64n) - 1n), 8)])).toBe('-9223372036854775808');
    expect(parse(0x26, [8, ...le(2n ** 63n - 1n, 8)])).toBe('9223372036854775807');
    // SQL Server's text of a GUID: the first three groups little-endian, the rest in byte order, upper case.
    const bytes = [0xff, 0x19, 0x96, 0x6f, 0x86, 0x8b, 0x11, 0xd0, 0xb4, 0x2d, 0x00, 0xc0, 0x4f, 0xc9, 0x64, 0xff];
    expect(parse(0x24, [16, ...bytes])).toBe('6F9619FF-8B86-D011-B42D-00C04FC964FF');
  });
});

describe('rowDecoder: decoding by the type the server announced', () => {
  const date = (ms: number, delta?: number): DriverDate => Object.assign(new Date(ms), delta === undefined ? {} : { nanosecondsDelta: delta });

  it('turns each column into its text form and leaves the helper offset columns out of the row', () => {
    const decode = rowDecoder(
      [{ type: mssql.Int }, { type: mssql.DateTime2, scale: 3 }, { type: mssql.DateTimeOffset, scale: 7 }, { type: mssql.Decimal, precision: 9, scale: 2 }, { type: mssql.Int }],
      4, [-1, -1, 4, -1], 'dbo.T',
    );
    const at = Date.UTC(2024, 2, 9, 22, 0, 0, 123);
    expect(decode([7, date(at, 0), date(at, 0.0004567), 12.5, 120])).toEqual([7, '2024-03-09 22:00:00.123', '2024-03-10 00:00:00.1234567 +02:00', '12.50']);
    expect(decode([null, null, null, null, null])).toEqual([null, null, null, null]);
  });

  it('refuses what it cannot read exactly: a Date where no date was announced, money or a wide decimal as a number, a missing sub-millisecond part', () => {
    const shape = (meta: Parameters<typeof rowDecoder>[0], v: unknown) => () => rowDecoder(meta, 1, [-1], 'dbo.T')([v]);
    expect(shape([{ type: mssql.NVarChar }], new Date(0))).toThrow(expect.objectContaining({ code: 'mssql.bad_row', message: expect.stringContaining('a Date') }));
    expect(shape([{ type: mssql.Money }], 922337203685477.6)).toThrow(expect.objectContaining({ code: 'mssql.bad_row', message: expect.stringContaining('money') }));
    expect(shape([{ type: mssql.Decimal, precision: 19, scale: 4 }], 1.5)).toThrow(expect.objectContaining({ code: 'mssql.bad_row', message: expect.stringContaining('decimal(19,4)') }));
    expect(shape([{ type: mssql.Time, scale: 7 }], new Date(0))).toThrow(expect.objectContaining({ code: 'mssql.bad_value' }));
    expect(shape([{ type: mssql.Time, scale: 7 }], date(0, 0.00012345))).toThrow(expect.objectContaining({ code: 'mssql.bad_value' }));
    expect(() => rowDecoder([{ type: mssql.DateTimeOffset, scale: 7 }], 1, [-1], 'dbo.T')).toThrow(expect.objectContaining({ code: 'mssql.bad_row' }));
    expect(() => rowDecoder([{ type: mssql.Int }, { type: mssql.Int }], 1, [-1], 'dbo.T')([1])).toThrow(expect.objectContaining({ code: 'mssql.bad_row' }));
  });

  it('reads money and a wide decimal from the server\'s text where it sent one, else from the number, and refuses a number beyond 15 digits without text', () => {
    const decode = rowDecoder(
      [{ type: mssql.Decimal, precision: 19, scale: 4 }, { type: mssql.Money }, { type: mssql.VarChar }, { type: mssql.VarChar }],
      2, [2, 3], 'dbo.T',
    );
    expect(decode([12.5, -0.0001, null, null])).toEqual(['12.5000', '-0.0001']);
    expect(decode([922337203685477.6, 922337203685477.6, '922337203685477.5807', '922337203685477.5807'])).toEqual(['922337203685477.5807', '922337203685477.5807']);
    expect(decode([null, null, null, null])).toEqual([null, null]);
    expect(() => decode([922337203685477.6, 1, null, null])).toThrow(expect.objectContaining({ code: 'mssql.bad_value' }));
  });
});
