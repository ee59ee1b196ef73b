import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ColumnMapping, QuarantineRecord, SourceRow, SourceValue, TableMapping, ValueKind } from '../../engine/etl/contracts.js';
import { createEncoder } from '../../engine/etl/encoder.js';

const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const S = `cutover_encoder_copy_${process.pid}`;

/** One column: its DDL type, how it travels, how to read it back as text, and [source value, expected text] cases. */
interface Case {
  name: string;
  sourceType: string;
  pgType: string;
  kind: ValueKind;
  read?: string;
  maxChars?: number;
  values: Array<[SourceValue, string | null]>;
}

const CASES: Case[] = [
  { name: 'i2', sourceType: 'tinyint', pgType: 'smallint', kind: 'int', values: [[0, '0'], [255, '255']] },
  { name: 'i4', sourceType: 'int', pgType: 'integer', kind: 'int', values: [[-2147483648, '-2147483648'], [2147483647, '2147483647']] },
  { name: 'i8', sourceType: 'bigint', pgType: 'bigint', kind: 'exact', values: [['9223372036854775807', '9223372036854775807'], ['-9223372036854775808', '-9223372036854775808'], ['9007199254740993', '9007199254740993']] },
  { name: 'dec', sourceType: 'decimal(38,10)', pgType: 'numeric(38,10)', kind: 'exact', values: [['9999999999999999999999999999.9999999999', '9999999999999999999999999999.9999999999'], ['-9999999999999999999999999999.9999999999', '-9999999999999999999999999999.9999999999'], ['0.0000000001', '0.0000000001']] },
  { name: 'money', sourceType: 'money', pgType: 'numeric(19,4)', kind: 'exact', values: [['922337203685477.5807', '922337203685477.5807'], ['-922337203685477.5808', '-922337203685477.5808'], ['500.0000', '500.0000']] },
  { name: 'f8', sourceType: 'float', pgType: 'double precision', kind: 'float', values: [[0.1, '0.1'], [1.7976931348623157e308, '1.7976931348623157e+308'], [5e-324, '5e-324'], [-0, '-0']] },
  { name: 'f4', sourceType: 'real', pgType: 'real', kind: 'float', values: [[Math.fround(0.1), '0.1'], [Math.fround(3.4028234663852886e38), '3.4028235e+38']] },
  { name: 'b', sourceType: 'bit', pgType: 'boolean', kind: 'bool', values: [[true, 'true'], [false, 'false']] },
  {
    name: 't', sourceType: 'nvarchar(max)', pgType: 'text', kind: 'text',
    values: [['', ''], ['a\\b\tc\nd\re \\N', 'a\\b\tc\nd\re \\N'], ['Grüße 😀 日本語 𠀋', 'Grüße 😀 日本語 𠀋'], ['\\.', '\\.']],
  },
  { name: 'c', sourceType: 'nchar(10)', pgType: 'char(10)', kind: 'text', maxChars: 10, read: "c::text || '|'", values: [['ab        ', 'ab|']] },
  { name: 'vc', sourceType: 'nvarchar(4)', pgType: 'varchar(4)', kind: 'text', maxChars: 4, read: "vc || '|'", values: [['😀😀😀😀', '😀😀😀😀|'], ['a   ', 'a   |']] },
  { name: 'by', sourceType: 'varbinary(max)', pgType: 'bytea', kind: 'bytes', read: "encode(by, 'hex')", values: [[Buffer.from([0, 0, 1, 0, 255]), '00000100ff'], [Buffer.alloc(0), '']] },
  { name: 'd', sourceType: 'date', pgType: 'date', kind: 'date', values: [['0001-01-01', '0001-01-01'], ['9999-12-31', '9999-12-31'], ['2024-02-29', '2024-02-29']] },
  { name: 'tm', sourceType: 'time(7)', pgType: 'time(6)', kind: 'time', values: [['23:59:59.9999999', '23:59:59.999999'], ['12:00:00.1234565', '12:00:00.123457'], ['00:00:00', '00:00:00']] },
  {
    name: 'ts', sourceType: 'datetime2(7)', pgType: 'timestamp(6)', kind: 'timestamp',
    // .1234565: PostgreSQL on its own would store .123456 (rint of a double); the encoder rounds half up.
    values: [['2024-02-29 23:59:59.9999999', '2024-03-01 00:00:00'], ['2024-01-01 00:00:00.1234565', '2024-01-01 00:00:00.123457'], ['9999-12-31 23:59:59.9999999', '9999-12-31 23:59:59.999999'], ['0001-01-01 00:00:00', '0001-01-01 00:00:00']],
  },
  { name: 'ts3', sourceType: 'datetime', pgType: 'timestamp(3)', kind: 'timestamp', values: [['2024-01-01 10:00:00.003', '2024-01-01 10:00:00.003'], ['1753-01-01 00:00:00.007', '1753-01-01 00:00:00.007']] },
  {
    name: 'tz', sourceType: 'datetimeoffset(7)', pgType: 'timestamptz(6)', kind: 'timestamptz', read: "(tz AT TIME ZONE 'UTC')::text",
    values: [['2024-06-30 23:59:59.1234567 +14:00', '2024-06-30 09:59:59.123457'], ['2024-01-01 00:00:00.0000000 -12:00', '2024-01-01 12:00:00'], ['2024-03-10 10:15:00 +05:45', '2024-03-10 04:30:00']],
  },
  { name: 'u', sourceType: 'uniqueidentifier', pgType: 'uuid', kind: 'uuid', values: [['6F9619FF-8B86-D011-B42D-00C04FC964FF', '6f9619ff-8b86-d011-b42d-00c04fc964ff']] },
];

const ROWS = Math.max(...CASES.map((c) => c.values.length));

const columns: ColumnMapping[] = [
  { source: 'id', target: 'id', sourceType: 'int', targetType: 'integer', kind: 'int', nullable: false, maxChars: null },
  ...CASES.map((c) => ({ source: c.name, target: c.name, sourceType: c.sourceType, targetType: c.pgType, kind: c.kind, nullable: true, maxChars: c.maxChars ?? null })),
];
const mapping: TableMapping = { source: { schema: 'dbo', name: 'every_type' }, target: { schema: S, name: 'every_type' }, columns, key: { columns: ['id'], kind: 'integer' }, rowCount: ROWS };

/** Row i holds case value i of every column, or NULL where a column has fewer cases (so NULL is exercised for every type). */
const rows: SourceRow[] = Array.from({ length: ROWS }, (_, i) => [i, ...CASES.map((c) => c.values[i]?.[0] ?? null)]);

let pool: pg.Pool;

async function copyIn(table: TableMapping, source: SourceRow[], quarantine: QuarantineRecord[]): Promise<void> {
  const client = await pool.connect();
  try {
    const cols = table.columns.map((c) => `"${c.target}"`).join(', ');
    await pipeline(Readable.from(source), createEncoder(table, quarantine), client.query(copyFrom(`COPY "${S}"."${table.target.name}" (${cols}) FROM STDIN`)));
  } finally {
    client.release();
  }
}

beforeAll(async () => {
  pool = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 2 });
  await pool.query(`DROP SCHEMA IF EXISTS "${S}" CASCADE; CREATE SCHEMA "${S}"`);
  await pool.query(`CREATE TABLE "${S}".every_type (id integer PRIMARY KEY, ${CASES.map((c) => `"${c.name}" ${c.pgType}`).join(', ')})`);
});

afterAll(async () => {
  await pool.query(`DROP SCHEMA IF EXISTS "${S}" CASCADE`);
  await pool.end();
});

describe('encoder → COPY → read back', () => {
  it('stores every value of every type unchanged (times rounded to microseconds as documented)', async () => {
    const quarantine: QuarantineRecord[] = [];
    await copyIn(mapping, rows, quarantine);
    expect(quarantine).toEqual([]);
    const select = CASES.map((c) => `${c.read ?? `"${c.name}"::text`} AS "${c.name}"`).join(', ');
    const back = await pool.query<Record<string, string | null>>(`SELECT ${select} FROM "${S}".every_type ORDER BY id`);
    expect(back.rows).toHaveLength(ROWS);
    for (const c of CASES) {
      const expected = Array.from({ length: ROWS }, (_, i) => (i < c.values.length ? c.values[i]?.[1] : null));
      expect({ column: c.name, values: back.rows.map((r) => r[c.name]) }).toEqual({ column: c.name, values: expected });
    }
  });

  it('keeps text byte-exact in UTF-8', async () => {
    const { rows: r } = await pool.query<{ hex: string }>(`SELECT encode(convert_to(t, 'UTF8'), 'hex') AS hex FROM "${S}".every_type WHERE id = 2`);
    expect(r[0]?.hex).toBe(Buffer.from('Grüße 😀 日本語 𠀋', 'utf8').toString('hex'));
  });

  it('compares timestamptz as instants, not as text', async () => {
    const { rows: r } = await pool.query<{ same: boolean }>(`SELECT tz = '2024-03-10T04:30:00Z'::timestamptz AS same FROM "${S}".every_type WHERE id = 2`);
    expect(r[0]?.same).toBe(true);
  });

  it('loads the good rows of a chunk and quarantines the ones PostgreSQL could not take', async () => {
    await pool.query(`CREATE TABLE "${S}".q (id integer PRIMARY KEY, v text)`);
    const qm: TableMapping = {
      ...mapping,
      target: { schema: S, name: 'q' },
      columns: [columns[0] as ColumnMapping, { source: 'v', target: 'v', sourceType: 'nvarchar(max)', targetType: 'text', kind: 'text', nullable: true, maxChars: null }],
    };
    const source: SourceRow[] = Array.from({ length: 1000 }, (_, i) => [i, i % 100 === 7 ? `bad\u0000${i}` : `row ${i}`]);
    const quarantine: QuarantineRecord[] = [];
    await copyIn(qm, source, quarantine);
    const { rows: r } = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM "${S}".q`);
    expect(Number(r[0]?.n)).toBe(990);
    expect(quarantine).toHaveLength(10);
    expect(quarantine.map((q) => q.key.id)).toEqual(Array.from({ length: 10 }, (_, k) => String(k * 100 + 7)));
    expect(Number(r[0]?.n) + quarantine.length).toBe(source.length);
  });
});
