import { Readable } from 'node:stream';
import type { ChunkSpec, SourceAdapter, SourceRow, TableMapping } from '../../engine/etl/contracts.js';
import type { SchemaModel } from '../../engine/schema/model.js';
import { CutoverError } from '../../runbook/errors.js';
import { column, table } from './fixtures/kgv-schema.js';

/**
 * A generated SQL Server stand-in for the fan-out tests (no SQL Server runs
 * here): dbo.Item (it_ID int key, it_Name nvarchar(40)) with rows 1..rows,
 * the same in every process, in integer key ranges like the mssql adapter's.
 * `failAt` fails the chunk holding that row there; `delayMs` pauses after
 * every 500 rows, so a load lasts long enough to watch and to stop.
 */
export interface FanOutSourceOptions {
  rows: number;
  failAt?: number;
  delayMs?: number;
}

export function fanOutModel(rows: number): SchemaModel {
  return {
    sourceKind: 'mssql',
    database: 'fanout',
    serverVersion: 'test',
    collation: 'Latin1_General_CI_AS',
    others: [],
    tables: [
      table('Item', [column('it_ID', { nullable: false }), column('it_Name', { type: 'nvarchar', maxLength: 40, collation: 'Latin1_General_CI_AS' })], {
        primaryKey: { name: 'PK_Item', columns: ['it_ID'] },
        rowCount: rows,
      }),
    ],
  };
}

export function fanOutSource(o: FanOutSourceOptions): SourceAdapter {
  const rangeOf = (c: ChunkSpec): [number, number] => (c.kind === 'range' ? [Number(c.from), Number(c.to)] : [1, o.rows + 1]);
  return {
    introspect: async () => fanOutModel(o.rows),
    async planChunks(_t: TableMapping, targetRows: number) {
      const chunks: ChunkSpec[] = [];
      for (let lo = 1; lo <= o.rows; lo += targetRows) {
        chunks.push({ id: `i${chunks.length}`, kind: 'range', column: 'it_ID', from: String(lo), to: String(Math.min(o.rows + 1, lo + targetRows)), lastInclusive: false });
      }
      return chunks;
    },
    readChunk(_t, chunk, signal) {
      const [lo, hi] = rangeOf(chunk);
      async function* rows(): AsyncGenerator<SourceRow> {
        for (let i = lo; i < hi; i++) {
          signal.throwIfAborted();
          if (i === o.failAt) throw new CutoverError('mssql.read_failed', `reading row ${i} failed (a test fault)`);
          if (o.delayMs && (i - lo) % 500 === 499) await new Promise((r) => setTimeout(r, o.delayMs));
          yield [i, `item ${i}`];
        }
      }
      return Readable.from(rows(), { objectMode: true });
    },
    countChunk: async (_t, chunk) => {
      const [lo, hi] = rangeOf(chunk);
      return hi - lo;
    },
    close: async () => {},
  };
}
