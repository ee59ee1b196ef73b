import { Readable } from 'node:stream';
import type { ChunkSpec, SourceRow, TableMapping } from '../../engine/etl/contracts.js';
import type { KeySummary, SyncSource, SyncWindow, Watermark } from '../../engine/etl/sync-contracts.js';
import type { SchemaModel } from '../../engine/schema/model.js';
import { MemoryRowSource, type RowObject } from './memory-row-source.js';

/**
 * A MemoryRowSource that also changes like a live SQL Server: update, insert
 * and delete bump a database-wide rowversion counter (each table's rowversion
 * column, if it has one, takes the new value), and highWaterMark answers as
 * MIN_ACTIVE_ROWVERSION() - 1 does with no transaction open. `onRead` runs
 * before each changed row is considered, so a test can change the source or
 * abort while a sync is reading.
 */
export class MemorySyncSource extends MemoryRowSource implements SyncSource {
  private dbts = 1000n;
  onRead: ((table: string, index: number) => void) | null = null;

  constructor(
    private readonly schemaModel: SchemaModel,
    private readonly data: Record<string, RowObject[]>,
  ) {
    super(schemaModel, data);
    for (const [name, rows] of Object.entries(data)) for (const row of rows) this.stamp(name, row);
  }

  update(table: string, key: number | string, changes: RowObject): void {
    const row = this.find(table, key);
    if (!row) throw new Error(`no ${table} row ${key}`);
    Object.assign(row, changes);
    this.stamp(table, row);
  }

  insert(table: string, row: RowObject): void {
    this.table(table).push(row);
    this.stamp(table, row);
  }

  delete(table: string, key: number | string): void {
    const rows = this.table(table);
    const at = rows.findIndex((r) => r[this.keyOf(table)] === key);
    if (at < 0) throw new Error(`no ${table} row ${key}`);
    rows.splice(at, 1);
  }

  async highWaterMark(table: TableMapping, w: Watermark): Promise<string | null> {
    if (w.kind === 'rowversion') return hex(this.dbts);
    const values = this.table(table.source.name).map((r) => r[w.column]).filter((v): v is string => typeof v === 'string');
    return values.length ? values.reduce((a, b) => (b > a ? b : a)) : null;
  }

  readChanged(table: TableMapping, window: SyncWindow, signal: AbortSignal): Readable {
    const rows = this.table(table.source.name);
    const inWindow = (row: RowObject): boolean => {
      const v = row[window.column];
      if (v === null || v === undefined) return true;
      if (window.kind === 'rowversion') {
        const n = BigInt(`0x${(v as Buffer).toString('hex')}`);
        return (window.after === null || n > BigInt(window.after)) && window.upTo !== null && n <= BigInt(window.upTo);
      }
      const t = Date.parse(`${String(v).slice(0, 23)}Z`);
      const after = window.after === null ? -Infinity : Date.parse(`${window.after.slice(0, 23)}Z`) - window.overlapMs;
      return t > after && window.upTo !== null && String(v) <= window.upTo;
    };
    const self = this;
    function* changed(): Generator<SourceRow> {
      // By index over the live array: rows changed while reading are seen as they are now, like a scan.
      for (let i = 0; i < rows.length; i++) {
        self.onRead?.(table.source.name, i);
        const row = rows[i];
        if (row && inWindow(row)) yield table.columns.map((c) => row[c.source] ?? null);
      }
    }
    const stream = Readable.from(changed(), { objectMode: true, highWaterMark: 1 });
    signal.addEventListener('abort', () => stream.destroy(new Error('cancelled')), { once: true });
    return stream;
  }

  readKeys(table: TableMapping, range: ChunkSpec, signal: AbortSignal): Readable {
    const keys = table.key?.columns ?? [];
    const rows = this.inRange(table, range).map((r) => keys.map((k) => r[k] ?? null));
    rows.sort((a, b) => (String(a[0]) < String(b[0]) ? -1 : 1));
    const stream = Readable.from(rows, { objectMode: true });
    signal.addEventListener('abort', () => stream.destroy(new Error('cancelled')), { once: true });
    return stream;
  }

  async summarizeKeys(table: TableMapping, range: ChunkSpec): Promise<KeySummary> {
    const keys = this.inRange(table, range).map((r) => BigInt(Number(r[table.key?.columns[0] ?? ''])));
    const sum = keys.reduce((a, b) => a + b, 0n);
    const squares = keys.reduce((a, b) => a + (b % 2147483647n) * (b % 2147483647n), 0n);
    return { count: String(keys.length), sum: String(sum), sumSquares: String(squares) };
  }

  private inRange(table: TableMapping, range: ChunkSpec): RowObject[] {
    const rows = this.table(table.source.name);
    if (range.kind !== 'range') return rows;
    return rows.filter((r) => {
      const k = BigInt(Number(r[range.column]));
      return k >= BigInt(range.from) && (range.lastInclusive ? k <= BigInt(range.to) : k < BigInt(range.to));
    });
  }

  private stamp(table: string, row: RowObject): void {
    const column = this.schemaModel.tables.find((t) => t.name === table)?.columns.find((c) => c.isRowVersion);
    this.dbts++;
    if (column) row[column.name] = Buffer.from(this.dbts.toString(16).padStart(16, '0'), 'hex');
  }

  private table(name: string): RowObject[] {
    const rows = this.data[name];
    if (!rows) throw new Error(`no rows for ${name}`);
    return rows;
  }

  private keyOf(table: string): string {
    const key = this.schemaModel.tables.find((t) => t.name === table)?.primaryKey?.columns[0];
    if (!key) throw new Error(`${table} has no key`);
    return key;
  }

  private find(table: string, key: number | string): RowObject | undefined {
    return this.table(table).find((r) => r[this.keyOf(table)] === key);
  }
}

const hex = (n: bigint): string => `0x${n.toString(16).toUpperCase().padStart(16, '0')}`;
