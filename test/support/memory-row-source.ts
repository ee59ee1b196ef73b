import { Readable } from 'node:stream';
import type { ChunkSpec, SourceAdapter, SourceRow, SourceValue, TableMapping } from '../../engine/etl/contracts.js';
import type { SchemaModel } from '../../engine/schema/model.js';

export type RowObject = Record<string, SourceValue>;

/**
 * Stands in for SQL Server in the ETL action tests (no SQL Server runs here):
 * a schema model plus rows by source table name, already in the value forms
 * the mssql adapter's select list produces. Integer keys chunk by range like
 * the real adapter; everything else is one chunk.
 */
export class MemoryRowSource implements SourceAdapter {
  closed = false;

  constructor(private readonly model: SchemaModel, private readonly rows: Record<string, RowObject[]>) {}

  async introspect(): Promise<SchemaModel> {
    return structuredClone(this.model);
  }

  async planChunks(table: TableMapping, targetRows: number): Promise<ChunkSpec[]> {
    const data = this.rowsOf(table);
    const key = table.key?.kind === 'integer' ? table.key.columns[0] : undefined;
    if (!key || data.length <= targetRows) return [{ id: 'all', kind: 'all' }];
    const keys = data.map((r) => Number(r[key]));
    const lo = Math.min(...keys);
    const hi = Math.max(...keys);
    const count = Math.ceil(data.length / targetRows);
    const width = Math.ceil((hi - lo + 1) / count);
    return Array.from({ length: count }, (_, i) => ({
      id: `r${String(i).padStart(4, '0')}`,
      kind: 'range' as const,
      column: key,
      from: String(lo + i * width),
      to: String(Math.min(hi, lo + (i + 1) * width)),
      lastInclusive: i === count - 1,
    }));
  }

  readChunk(table: TableMapping, chunk: ChunkSpec, signal: AbortSignal): Readable {
    const rows = this.inChunk(table, chunk).map((r): SourceRow => table.columns.map((c) => r[c.source] ?? null));
    const stream = Readable.from(rows, { objectMode: true });
    signal.addEventListener('abort', () => stream.destroy(new Error('cancelled')), { once: true });
    return stream;
  }

  async countChunk(table: TableMapping, chunk: ChunkSpec): Promise<number> {
    return this.inChunk(table, chunk).length;
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private rowsOf(table: TableMapping): RowObject[] {
    const data = this.rows[table.source.name];
    if (!data) throw new Error(`no rows for ${table.source.name}`);
    return data;
  }

  private inChunk(table: TableMapping, chunk: ChunkSpec): RowObject[] {
    const data = this.rowsOf(table);
    if (chunk.kind !== 'range') return data;
    const from = Number(chunk.from);
    const to = Number(chunk.to);
    return data.filter((r) => {
      const k = Number(r[chunk.column]);
      return k >= from && (chunk.lastInclusive ? k <= to : k < to);
    });
  }
}
