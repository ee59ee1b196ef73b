import mssql from 'mssql';
import { describe, expect, it } from 'vitest';
import { driverTypeName, driverValueText } from '../../engine/mssql/driver-text.js';
import { MssqlValidationSource } from '../../engine/validate/mssql-validation-source.js';
import { totalFigures } from '../../engine/validate/verdicts.js';

const decimal = (precision: number, scale: number) => ({ type: mssql.Decimal, precision, scale });
const money = { type: mssql.Money, precision: 19, scale: 4 };

describe('driverValueText: what tedious made of a decimal or money, as exact text or flagged', () => {
  it('restores every digit while the value has at most 15 significant digits, in fixed notation', () => {
    expect(driverValueText(0.0000001, decimal(38, 10))).toEqual({ text: '0.0000001000', exact: true });
    expect(driverValueText(-0.0001, money)).toEqual({ text: '-0.0001', exact: true });
    expect(driverValueText(99999999999.9999, money)).toEqual({ text: '99999999999.9999', exact: true });
    expect(driverValueText(1234567890123.45, decimal(38, 2))).toEqual({ text: '1234567890123.45', exact: true });
    expect(driverValueText(123456789012345, decimal(18, 0))).toEqual({ text: '123456789012345', exact: true });
    expect(driverValueText(0.1 + 0.2, decimal(10, 1))).toEqual({ text: '0.3', exact: true });
  });

  it('flags a value that may have lost digits: 15 − scale digits before the point or more', () => {
    // money's maximum, 922337203685477.5807, arrives as the double 922337203685477.6.
    expect(driverValueText(922337203685477.5807, money)).toEqual({ text: '922337203685477.6', exact: false });
    expect(driverValueText(100000000000, money).exact).toBe(false);
    expect(driverValueText(1234567890123456, decimal(38, 0)).exact).toBe(false);
    expect(driverValueText(100000, decimal(38, 10)).exact).toBe(false);
    expect(driverValueText(99999.9999999999, decimal(38, 10)).exact).toBe(true);
  });

  it('leaves other columns as before: integers, floats, bigint strings, dates, bytes, NULL', () => {
    expect(driverValueText(42, { type: mssql.Int })).toEqual({ text: '42', exact: true });
    expect(driverValueText(1.7976931348623157e308, { type: mssql.Float })).toEqual({ text: '1.7976931348623157e+308', exact: true });
    expect(driverValueText('9223372036854775807', { type: mssql.BigInt })).toEqual({ text: '9223372036854775807', exact: true });
    expect(driverValueText(new Date(Date.UTC(2024, 1, 29, 13, 14, 15, 997)))).toEqual({ text: '2024-02-29T13:14:15.997Z', exact: true });
    expect(driverValueText(Buffer.from([0, 255]))).toEqual({ text: '00ff', exact: true });
    expect(driverValueText(null, money)).toEqual({ text: null, exact: true });
    expect(driverValueText(12.5)).toEqual({ text: '12.5', exact: true });
  });

  it('names the type for messages', () => {
    expect(driverTypeName(decimal(38, 4))).toBe('decimal(38,4)');
    expect(driverTypeName(money)).toBe('money');
    expect(driverTypeName({ type: mssql.Numeric, precision: 20, scale: 0 })).toBe('numeric(20,0)');
  });
});

/** One mssql Request stand-in answering a recordset with its column metadata, as mssql builds it. */
function poolAnswering(rows: Array<Record<string, unknown>>, columns: Record<string, unknown>) {
  const recordset = Object.assign([...rows], { columns });
  const request = {
    stream: false,
    input: () => request,
    query: () => Promise.resolve({ recordset, recordsets: [recordset], rowsAffected: [rows.length], output: {} }),
  };
  // A test double: the validation source uses only stream, input and query.
  return { request: () => request as unknown as mssql.Request, close: () => Promise.resolve() };
}

describe('MssqlValidationSource.query on decimal and money results (validate.totals)', () => {
  it('gives a small decimal total in fixed notation, so it equals PostgreSQL\'s numeric text', async () => {
    const source = new MssqlValidationSource(poolAnswering([{ total: 0.0000001 }], { total: { index: 0, name: 'total', ...decimal(38, 10) } }));
    const [row] = await source.query('SELECT SUM(rate) AS total FROM dbo.Rates', { exact: true });
    expect(row).toEqual({ total: '0.0000001000' });
    expect(totalFigures(row?.['total'] ?? null, '0.00000010').match).toBe(true);
  });

  it('refuses to compare a money total the driver rounded, and says how to write the query', async () => {
    const source = new MssqlValidationSource(poolAnswering([{ '': 922337203685477.5807 }], { '': { index: 0, name: '', ...money } }));
    await expect(source.query('SELECT SUM(en_Gebuehr) FROM dbo.Eingangsnummer', { exact: true })).rejects.toMatchObject({
      code: 'validate.inexact_value',
      message: expect.stringMatching(/is money and holds about 922337203685477\.6: .* CONVERT\(varchar\(50\), CONVERT\(decimal\(19,4\), SUM\(…\)\)\)$/),
    });
  });

  it('advises a plain CONVERT for a decimal total (its default style keeps every digit)', async () => {
    const source = new MssqlValidationSource(poolAnswering([{ s: 1234567890123456 }], { s: { index: 0, name: 's', ...decimal(38, 0) } }));
    await expect(source.query('SELECT SUM(en_Nummer) AS s FROM dbo.Eingangsnummer', { exact: true })).rejects.toMatchObject({
      message: expect.stringMatching(/column "s" of the SQL Server query is decimal\(38,0\) .* e\.g\. CONVERT\(varchar\(50\), SUM\(…\)\)$/),
    });
  });

  it('still returns the (approximate) value where exactness was not asked for: a rule\'s example rows', async () => {
    const source = new MssqlValidationSource(poolAnswering([{ en_Gebuehr: 922337203685477.5807, n: 3 }], { en_Gebuehr: { index: 0, name: 'en_Gebuehr', ...money }, n: { index: 1, name: 'n', type: mssql.Int } }));
    expect(await source.query('SELECT en_Gebuehr, 3 AS n FROM dbo.Eingangsnummer')).toEqual([{ en_Gebuehr: '922337203685477.6', n: '3' }]);
  });
});
