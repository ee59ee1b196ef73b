import { describe, expect, it } from 'vitest';
import type { ColumnMapping, SourceValue, ValueKind } from '../../engine/etl/contracts.js';
import { canonicalDecimal, canonicalRow, canonicalValue, hashSlice, rowHash } from '../../engine/validate/canonical.js';
import { msCanonicalValue, msHashSlice, msRowHash } from '../../engine/validate/canonical-mssql.js';
import { childSegment } from '../../engine/validate/checksum-source.js';
import { compareRows } from '../../engine/validate/checksum-diff.js';

const col = (kind: ValueKind, o: Partial<ColumnMapping> = {}): ColumnMapping => ({
  source: `c_${kind}`, target: `c_${kind}`, sourceType: 'nvarchar', targetType: 'text', kind, nullable: true, maxChars: null, ...o,
});
const text = col('text');
const char = col('text', { sourceType: 'char(10)', targetType: 'char(10)' });
const hashOf = (values: SourceValue[], columns: ColumnMapping[]) => rowHash(canonicalRow(values, columns));
const same = (a: SourceValue, b: SourceValue, c: ColumnMapping) => hashOf([a], [c]) === hashOf([b], [c]);

describe('canonical row text (the JS reference)', () => {
  it('length-prefixes values by UTF-8 bytes and marks NULL apart from the empty string', () => {
    expect(canonicalRow(['ab', 'c', null, ''], [text, text, text, text])).toBe('2:ab|1:c|\\N|0:');
    expect(canonicalRow(['😀é'], [text])).toBe('6:😀é');
    expect(same(null, '', text)).toBe(false);
    expect(hashOf(['ab', 'c'], [text, text])).not.toBe(hashOf(['a', 'bc'], [text, text]));
    expect(hashOf(['a|1:b'], [text])).not.toBe(hashOf(['a', 'b'], [text, text]));
  });

  it('keeps text exactly, except that fixed-length char loses its trailing spaces', () => {
    expect(same('a\tb', 'a b', text)).toBe(false);
    expect(same('x ', 'x', text)).toBe(false);
    expect(same('x    ', 'x', char)).toBe(true);
    expect(same(' x', 'x', char)).toBe(false);
    expect(same('\\N', null, text)).toBe(false);
  });

  it('normalises decimals: scale, signs and zeros, never the value', () => {
    const dec = col('exact', { targetType: 'numeric(19,4)' });
    expect(same('1.50', '1.5', dec)).toBe(true);
    expect(same('1.5', '1.05', dec)).toBe(false);
    expect(same('15', '1.5', dec)).toBe(false);
    expect(canonicalDecimal('-0.0000')).toBe('0');
    expect(canonicalDecimal('+007.10')).toBe('7.1');
    expect(canonicalDecimal('-922337203685477.5808')).toBe('-922337203685477.5808');
    expect(canonicalDecimal('100')).toBe('100');
  });

  it('renders bit, GUID and binary in one form whatever the input spelling', () => {
    const bit = col('bool');
    expect(canonicalValue(true, bit)).toBe('1');
    expect(canonicalValue('f', bit)).toBe('0');
    const uuid = col('uuid');
    expect(same('6F9619FF-8B86-D011-B42D-00C04FC964FF', '6f9619ff-8b86-d011-b42d-00c04fc964ff', uuid)).toBe(true);
    const bytes = col('bytes');
    expect(canonicalValue(Buffer.from([0, 1, 0xff]), bytes)).toBe('0001ff');
    expect(canonicalValue('\\x0001FF', bytes)).toBe('0001ff');
    expect(same(Buffer.from([0]), Buffer.alloc(0), bytes)).toBe(false);
  });

  it('rounds datetimes as the ETL does, to six digits, and datetimeoffset to the UTC instant', () => {
    const ts = col('timestamp', { targetType: 'timestamp(6)' });
    expect(canonicalValue('2004-01-15 10:20:30.1234565', ts)).toBe('2004-01-15 10:20:30.123457');
    expect(canonicalValue('2004-01-15 10:20:30', ts)).toBe('2004-01-15 10:20:30.000000');
    expect(canonicalValue('9999-12-31 23:59:59.9999999', ts)).toBe('9999-12-31 23:59:59.999999');
    expect(same('2004-01-15 10:20:30.1234561', '2004-01-15 10:20:30.123456', ts)).toBe(true);
    expect(same('2004-01-15 10:20:30.123457', '2004-01-15 10:20:30.123456', ts)).toBe(false);
    const tz = col('timestamptz', { targetType: 'timestamptz(6)' });
    expect(canonicalValue('2024-03-09 23:30:00.1234567 +14:00', tz)).toBe('2024-03-09 09:30:00.123457');
    expect(canonicalValue('0001-01-01 08:00:00 +08:00', tz)).toBe('0001-01-01 00:00:00.000000');
    expect(same('2000-01-01 00:00:00 -08:00', '2000-01-01 08:00:00 +00:00', tz)).toBe(true);
    expect(canonicalValue('23:59:59.9999999', col('time', { targetType: 'time(6)' }))).toBe('23:59:59.999999');
  });

  it('leaves floats out of the row (compared by aggregates, never hashed)', () => {
    const fl = col('float');
    expect(canonicalRow(['a', 0.1 + 0.2], [text, fl])).toBe(canonicalRow(['a', 0.3], [text, fl]));
    expect(() => canonicalValue(1.5, fl)).toThrow(/float/);
  });

  it('takes the hash slice from the first 15 hex digits', () => {
    expect(hashSlice('f'.repeat(64))).toBe(2n ** 60n - 1n);
    expect(hashSlice(`0000000000000010${'f'.repeat(48)}`)).toBe(1n);
  });
});

describe('T-SQL canonical expressions', () => {
  it('gives every string CONVERT an explicit length and hashes UTF-8 through the _UTF8 collation', () => {
    const cols = [col('exact', { sourceType: 'money', targetType: 'numeric(19,4)' }), col('timestamp', { sourceType: 'datetime', targetType: 'timestamp(3)' }), col('uuid', { sourceType: 'uniqueidentifier' }), text];
    const sql = msRowHash(cols);
    expect(sql).not.toMatch(/CONVERT\((n?var)?char,/);
    expect(sql).toContain("HASHBYTES('SHA2_256'");
    expect(sql).toContain('COLLATE Latin1_General_100_CI_AS_SC_UTF8');
    expect(msCanonicalValue(cols[1] as ColumnMapping)).toContain('CONVERT(datetime2(3)');
    expect(msHashSlice('h')).toContain('SUBSTRING(h, 1, 7)');
  });
});

describe('segments and leaf comparison', () => {
  it('re-buckets inside a bucket so a child never leaves its parent', () => {
    const parent = { kind: 'bucket' as const, modulus: 7n, bucket: 3n };
    const child = childSegment(parent, 16, 5);
    expect(child).toEqual({ kind: 'bucket', modulus: 112n, bucket: 38n });
    expect(38n % 7n).toBe(3n);
    expect(childSegment({ kind: 'range', from: 10n, to: 45n }, 16, 11)).toEqual({ kind: 'range', from: 43n, to: 45n });
  });

  it('names missing, extra and changed keys and nothing else', () => {
    const d = compareRows(
      [{ key: ['1'], hash: 'a' }, { key: ['2'], hash: 'b' }, { key: ['3'], hash: 'c' }],
      [{ key: ['1'], hash: 'a' }, { key: ['3'], hash: 'x' }, { key: ['4'], hash: 'd' }],
    );
    expect(d).toEqual([{ kind: 'missing', key: ['2'] }, { kind: 'changed', key: ['3'] }, { kind: 'extra', key: ['4'] }]);
  });
});
