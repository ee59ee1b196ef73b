import mssql from 'mssql';
import { describe, expect, it } from 'vitest';
import type { ColumnMapping, TableMapping } from '../../engine/etl/contracts.js';
import type { MssqlPool } from '../../engine/mssql/source.js';
import { MssqlChecksumSource } from '../../engine/validate/mssql-checksum-source.js';

/** A non-streaming mssql Request stand-in: records its text and bound inputs, then answers or fails. */
class FakeRequest {
  stream = false;
  text = '';
  inputs: Array<{ name: string; type: unknown; value: unknown }> = [];

  constructor(private readonly answer: { recordset: unknown[] } | Error) {}

  input(name: string, type: unknown, value: unknown): this {
    this.inputs.push({ name, type, value });
    return this;
  }

  query(text: string): Promise<{ recordset: unknown[] }> {
    this.text = text;
    return this.answer instanceof Error ? Promise.reject(this.answer) : Promise.resolve(this.answer);
  }
}

const poolOf = (request: FakeRequest): MssqlPool => ({
  // A test double: the source only uses the members FakeRequest implements.
  request: () => request as unknown as mssql.Request,
  close: () => Promise.resolve(),
});

const column = (source: string, sourceType: string, kind: ColumnMapping['kind']): ColumnMapping => ({
  source, target: source.toLowerCase(), sourceType, targetType: 'text', kind, nullable: true, maxChars: null,
});

const personen: TableMapping = {
  source: { schema: 'dbo', name: 'Personen' },
  target: { schema: 'public', name: 'personen' },
  columns: [column('pe_Login', 'nvarchar(50)', 'text'), column('pe_Name', 'nvarchar(100)', 'text')],
  key: { columns: ['pe_Login'], kind: 'other' },
  rowCount: 2,
};

describe('MssqlChecksumSource.rows (the differing rows shown in the report)', () => {
  it('binds each key part as an nvarchar parameter, never splicing it into the SQL', async () => {
    const request = new FakeRequest({ recordset: [{ k0: "o'brien", c0: "o'brien", c1: 'O’Brien' }] });
    const rows = await new MssqlChecksumSource(poolOf(request), 'client').rows(personen, [["o'brien"], ['x] OR 1=1 --']]);
    expect(request.text).not.toContain("o'brien");
    expect(request.text).not.toContain('1=1');
    expect(request.text).toContain('WHERE ([pe_Login] = @k0_0) OR ([pe_Login] = @k1_0)');
    expect(request.inputs.map((i) => [i.name, i.value])).toEqual([['k0_0', "o'brien"], ['k1_0', 'x] OR 1=1 --']]);
    expect(request.inputs.map((i) => i.type)).toEqual([{ type: mssql.NVarChar, length: 4000 }, { type: mssql.NVarChar, length: 4000 }]);
    expect([...rows.entries()]).toEqual([[expect.any(String), { pe_Login: "o'brien", pe_Name: 'O’Brien' }]]);
  });

  it('reports a failing read as mssql.read_failed naming the table, what it read and the SQL Server error number', async () => {
    const failure = Object.assign(new mssql.RequestError('Failed to convert from data type varbinary to varchar', 'EREQUEST'), { number: 8114 });
    const read = new MssqlChecksumSource(poolOf(new FakeRequest(failure)), 'client').rows(personen, [['user5']]);
    await expect(read).rejects.toMatchObject({
      code: 'mssql.read_failed',
      message: expect.stringMatching(/^reading dbo\.Personen \(reading the differing rows for the report\) from SQL Server failed \(error 8114\): Failed to convert/),
    });
  });
});

describe('MssqlChecksumSource.detectHashing', () => {
  it('chooses server hashing only where the _UTF8 collation has code page 65001', async () => {
    expect(await MssqlChecksumSource.detectHashing(poolOf(new FakeRequest({ recordset: [{ cp: 65001 }] })))).toBe('server');
    expect(await MssqlChecksumSource.detectHashing(poolOf(new FakeRequest({ recordset: [{ cp: null }] })))).toBe('client');
  });

  it('reports a failing check as mssql.read_failed instead of a bare driver error', async () => {
    const failure = Object.assign(new mssql.RequestError('Login failed', 'ELOGIN'), { number: 18456 });
    await expect(MssqlChecksumSource.detectHashing(poolOf(new FakeRequest(failure)))).rejects.toMatchObject({
      code: 'mssql.read_failed',
      message: expect.stringContaining('(error 18456): Login failed'),
    });
  });
});
