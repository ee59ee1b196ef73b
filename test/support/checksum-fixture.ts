import type pg from 'pg';
import { etlCopyAction } from '../../engine/actions/etl-copy.js';
import { schemaApplyAction } from '../../engine/actions/schema-apply.js';
import type { SchemaModel } from '../../engine/schema/model.js';
import { ACTIONS } from '../../runbook/action-catalog.js';
import { actionContext } from './engine-context.js';
import { column, table } from './fixtures/kgv-schema.js';
import { MemoryRowSource, type RowObject } from './memory-row-source.js';

/**
 * A table of every hashed ValueKind, keyed by an integer (Probe) or a GUID
 * (ProbeG), in the value forms the mssql adapter delivers. Loaded through
 * the real ETL (schema.apply + etl.copy, so through the encoder) into a
 * schema: once as the "source" stand-in, once as the target.
 */
const CI = 'Latin1_General_CI_AS';
const valueColumns = () => [
  column('p_Text', { type: 'nvarchar', maxLength: -1, collation: CI }),
  column('p_Char', { type: 'char', maxLength: 10, collation: CI }),
  column('p_Dec', { type: 'decimal', precision: 19, scale: 4 }),
  column('p_Money', { type: 'money', precision: 19, scale: 4 }),
  column('p_Big', { type: 'bigint' }),
  column('p_Bit', { type: 'bit' }),
  column('p_Guid', { type: 'uniqueidentifier' }),
  column('p_Dt2', { type: 'datetime2', scale: 7 }),
  column('p_Dt', { type: 'datetime', scale: 3 }),
  column('p_Dto', { type: 'datetimeoffset', scale: 7 }),
  column('p_Date', { type: 'date' }),
  column('p_Time', { type: 'time', scale: 7 }),
  column('p_Bin', { type: 'varbinary', maxLength: -1 }),
  column('p_Float', { type: 'float', precision: 53 }),
  column('p_EMail', { type: 'nvarchar', maxLength: 200, collation: CI }),
  column('p_Password', { type: 'nvarchar', maxLength: 200, collation: CI }),
];

export function probeModel(rows: number): SchemaModel {
  return {
    sourceKind: 'mssql',
    database: 'probe',
    serverVersion: 'test',
    collation: CI,
    others: [],
    tables: [
      table('Probe', [column('p_ID', { nullable: false }), ...valueColumns()], { primaryKey: { name: 'PK_Probe', columns: ['p_ID'] }, rowCount: rows }),
      table('ProbeG', [column('g_ID', { type: 'uniqueidentifier', nullable: false }), ...valueColumns()], { primaryKey: { name: 'PK_ProbeG', columns: ['g_ID'] }, rowCount: rows }),
    ],
  };
}

/** The golden edge values, one row each; every other row is plain. */
export const EDGE_VALUES: RowObject[] = [
  { p_Text: 'Grüße àéîõü', p_Char: 'ab', p_Dec: '1.5000', p_Money: '-0.0000', p_Bit: true, p_Dt2: '2004-01-15 10:20:30.1234565' },
  { p_Text: '中文字符 日本語', p_Char: '          ', p_Dec: '-12.0500', p_Big: '-9223372036854775808', p_Bit: false, p_Dt2: '9999-12-31 23:59:59.9999999' },
  { p_Text: 'emoji 😀 𝄞', p_Char: 'x  y', p_Money: '922337203685477.5807', p_Guid: '6F9619FF-8B86-D011-B42D-00C04FC964FF', p_Dt: '2024-02-29 13:14:15.997' },
  { p_Text: '', p_Dto: '2024-03-09 23:30:00.1234567 +14:00', p_Date: '0001-01-01', p_Time: '23:59:59.9999999', p_Bin: Buffer.from([0, 1, 0, 0, 0xff]) },
  { p_Text: null, p_Dto: '2000-01-01 00:00:00 -08:00', p_Time: '00:00:00', p_Bin: Buffer.alloc(0), p_Dec: '0.0000' },
  { p_Text: 'a\tb\nc \\N |3:x', p_Char: 'trail', p_Dec: '100.0000', p_Float: 1.5 },
  { p_Text: 'trailing  ', p_Dt2: '0001-01-01 00:00:00', p_Dt: '1753-01-01 00:00:00.000' },
];

const guid = (i: number): string => `${(i * 2654435761 % 4294967296).toString(16).padStart(8, '0')}-1111-4222-8333-${String(i).padStart(12, '0')}`.toUpperCase();

export function probeRows(n: number, keyed: 'int' | 'guid'): RowObject[] {
  return Array.from({ length: n }, (_, i) => {
    const edge = EDGE_VALUES[i] ?? {};
    const row: RowObject = {
      p_Text: `Müller ${i}`,
      p_Char: 'abc',
      p_Dec: `${i}.${String(i % 10000).padStart(4, '0')}`,
      p_Money: '12.3400',
      p_Big: String(i * 1000),
      p_Bit: i % 2 === 0,
      p_Guid: null,
      p_Dt2: '2020-05-06 07:08:09.1234567',
      p_Dt: '2020-05-06 07:08:09.123',
      p_Dto: null,
      p_Date: '2020-05-06',
      p_Time: '07:08:09.5',
      p_Bin: null,
      p_Float: i / 3,
      p_EMail: `person${i}@example.org`,
      p_Password: `pw-secret-${i}`,
      ...edge,
    };
    return keyed === 'int' ? { p_ID: i + 1, ...row } : { g_ID: guid(i + 1), ...row };
  });
}

/** Loads the rows into `schema` through schema.apply and etl.copy, as a cutover would. */
export async function loadProbe(schema: string, model: SchemaModel, rows: Record<string, RowObject[]>, db: pg.Pool): Promise<void> {
  await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  const open = async () => new MemoryRowSource(model, rows);
  const ctx = (step: string) => actionContext({ runId: `ck-${schema}`, stepId: step });
  await schemaApplyAction(open).run(ctx('pre'), ACTIONS['schema.apply']?.params.parse({ source: 's', target: 'target', phase: 'pre-load', target_schema: schema }));
  await etlCopyAction(open).run(ctx('copy'), ACTIONS['etl.copy']?.params.parse({ source: 's', target: 'target', target_schema: schema, chunk_rows: 100_000, bookkeeping_schema: `${schema}_etl` }));
  await schemaApplyAction(open).run(ctx('post'), ACTIONS['schema.apply']?.params.parse({ source: 's', target: 'target', phase: 'post-load', target_schema: schema }));
  await db.query(`DROP SCHEMA IF EXISTS "${schema}_etl" CASCADE`);
}
