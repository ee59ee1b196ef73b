import { Readable } from 'node:stream';
import { CutoverError, asCutoverError } from '../../runbook/errors.js';
import type { ChunkSpec, TableMapping } from '../etl/contracts.js';
import type { KeySummary, SyncSource, SyncWindow, Watermark } from '../etl/sync-contracts.js';
import type { BoundSql } from './select-list.js';
import { field, MssqlSource } from './source.js';
import { changedSelect, keySummarySelect, keysSelect, markQuery, rowversionText } from './sync-queries.js';

/** SyncSource over a live SQL Server: MssqlSource plus the change, key and mark queries of engine/mssql/sync-queries.ts. */
export class MssqlSyncSource extends MssqlSource implements SyncSource {
  async highWaterMark(table: TableMapping, watermark: Watermark): Promise<string | null> {
    const rows = await this.query(table, markQuery(table, watermark), `taking the ${watermark.kind} mark`);
    const mark = field(rows[0], 'mark');
    if (mark === null || mark === undefined) {
      if (watermark.kind === 'rowversion') throw new CutoverError('mssql.bad_mark', `SQL Server returned no rowversion mark for ${nameOf(table)}`);
      return null;
    }
    if (watermark.kind === 'rowversion') {
      if (!Buffer.isBuffer(mark)) throw new CutoverError('mssql.bad_mark', `the rowversion mark of ${nameOf(table)} arrived as ${typeof mark}`);
      return rowversionText(mark);
    }
    if (typeof mark !== 'string') throw new CutoverError('mssql.bad_mark', `the ${watermark.column} mark of ${nameOf(table)} arrived as ${typeof mark}`);
    return mark;
  }

  readChanged(table: TableMapping, window: SyncWindow, signal: AbortSignal): Readable {
    const what = `changes of ${nameOf(table)} after ${window.after ?? 'the start'}`;
    return this.streamBuilt(() => changedSelect(table, window), what, table.columns.length, signal);
  }

  readKeys(table: TableMapping, range: ChunkSpec, signal: AbortSignal): Readable {
    const what = `keys of ${nameOf(table)} range ${range.id}`;
    return this.streamBuilt(() => keysSelect(table, range), what, table.key?.columns.length ?? 0, signal);
  }

  async summarizeKeys(table: TableMapping, range: ChunkSpec): Promise<KeySummary> {
    const rows = await this.query(table, keySummarySelect(table, range), `summing keys of range ${range.id}`);
    const [n, s, q] = ['n', 's', 'q'].map((k) => field(rows[0], k));
    if (typeof n !== 'string' || typeof s !== 'string' || typeof q !== 'string') {
      throw new CutoverError('mssql.bad_count', `summing the keys of ${nameOf(table)} range ${range.id} returned no figures`);
    }
    return { count: n, sum: s, sumSquares: q };
  }

  private streamBuilt(build: () => BoundSql, what: string, width: number, signal: AbortSignal): Readable {
    let sql: BoundSql;
    try {
      sql = build();
    } catch (err) {
      return Readable.from([]).destroy(err instanceof Error ? err : asCutoverError(err));
    }
    return this.streamRows(sql, what, width, signal);
  }
}

const nameOf = (t: TableMapping): string => `${t.source.schema}.${t.source.name}`;
