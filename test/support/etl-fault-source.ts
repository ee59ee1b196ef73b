import type { SchemaModel } from '../../engine/schema/model.js';
import { column, table } from './fixtures/kgv-schema.js';
import type { RowObject } from './memory-row-source.js';
import { MemorySyncSource } from './memory-sync-source.js';

/**
 * The source of the ETL fault-injection test (test/integration/etl-fault-injection.test.ts),
 * built the same way in the test and in its child (test/support/etl-step-child.ts):
 * a MemorySyncSource is deterministic, so both see the same rows and the same rowversions.
 */
export const ETL_FAULT_CI = 'Latin1_General_CI_AS';

export const etlFaultModel = (rows: number): SchemaModel => ({
  sourceKind: 'mssql',
  database: 'etlfaults',
  serverVersion: 'test',
  collation: ETL_FAULT_CI,
  others: [],
  tables: [
    table('Item', [
      column('it_ID', { nullable: false }),
      column('it_Name', { type: 'nvarchar', maxLength: 40, collation: ETL_FAULT_CI, nullable: false }),
      column('it_Version', { type: 'rowversion', nullable: false, isRowVersion: true }),
    ], { primaryKey: { name: 'PK_Item', columns: ['it_ID'] }, rowCount: rows }),
  ],
});

/**
 * `rows` items; with `changes`, what happens at the source after the full copy: the first
 * `changes` rows renamed, as many new rows after the last, and the last `changes` original rows deleted.
 */
export function etlFaultSource(rows: number, changes = 0): MemorySyncSource {
  const items: RowObject[] = Array.from({ length: rows }, (_, i) => ({ it_ID: i + 1, it_Name: `item ${i + 1}` }));
  const source = new MemorySyncSource(etlFaultModel(rows), { Item: items });
  for (let i = 1; i <= changes; i++) source.update('Item', i, { it_Name: `changed ${i}` });
  for (let i = 1; i <= changes; i++) source.insert('Item', { it_ID: rows + i, it_Name: `new ${i}` });
  for (let i = 0; i < changes; i++) source.delete('Item', rows - i);
  return source;
}
