import { Readable } from 'node:stream';
import type { ChunkSpec, ColumnMapping, EncodedChunk, EncodedSource, QuarantineRecord, SchemaModel, TableMapping } from '../../engine/etl/contracts.js';
import { quoteIdent, quoteTable } from '../../engine/etl/checkpoints.js';

/** A table the memory source serves: rows 1..rows, each line produced on demand (no \n). */
export interface MemoryTable {
  mapping: TableMapping;
  rows: number;
  line(i: number): string;
}

export interface BatchInfo {
  table: string;
  chunk: ChunkSpec;
  /** Rows of this chunk already pushed. */
  sent: number;
  /** How many times this chunk has been opened, this one included. */
  opening: number;
}

export interface MemorySourceHooks {
  /** Runs before each batch is pushed: delay (return a promise) or throw to fail the stream mid-way. */
  beforeBatch?(b: BatchInfo): Promise<void> | void;
  /** Rows the "encoder" refuses: left out of the stream and reported with the chunk. */
  refuse?(table: string, i: number): QuarantineRecord | null;
  batchRows?: number;
}

/** An EncodedSource over generated COPY text, split into integer key ranges. Records every opening. */
export class MemoryEncodedSource implements EncodedSource {
  readonly opened: Array<{ table: string; chunk: string }> = [];
  /** Streams open right now, and the most ever open at once. */
  active = 0;
  maxActive = 0;
  private readonly byName = new Map<string, MemoryTable>();

  constructor(tables: MemoryTable[], private readonly hooks: MemorySourceHooks = {}) {
    for (const t of tables) this.byName.set(t.mapping.target.name, t);
  }

  async introspect(): Promise<SchemaModel> {
    return { sourceKind: 'mssql', database: 'memory', serverVersion: null, collation: null, tables: [], others: [] };
  }

  async planChunks(table: TableMapping, targetRows: number): Promise<ChunkSpec[]> {
    const t = this.get(table);
    const column = table.key?.columns[0] ?? 'id';
    const chunks: ChunkSpec[] = [];
    for (let from = 1; from <= t.rows; from += targetRows) {
      const last = from + targetRows > t.rows;
      const to = last ? t.rows : from + targetRows;
      chunks.push({ id: `r${String(chunks.length).padStart(4, '0')}`, kind: 'range', column, from: String(from), to: String(to), lastInclusive: last });
    }
    return chunks.length > 0 ? chunks : [{ id: 'all', kind: 'all' }];
  }

  async openChunk(table: TableMapping, chunk: ChunkSpec, signal: AbortSignal): Promise<EncodedChunk> {
    const t = this.get(table);
    const name = table.target.name;
    this.opened.push({ table: name, chunk: chunk.id });
    const opening = this.opened.filter((o) => o.table === name && o.chunk === chunk.id).length;
    const [lo, hi] = rangeOf(chunk, t.rows);
    const quarantined: QuarantineRecord[] = [];
    const hooks = this.hooks;
    const batchRows = hooks.batchRows ?? 1000;
    const self = this;
    async function* lines(): AsyncGenerator<Buffer> {
      self.active++;
      self.maxActive = Math.max(self.maxActive, self.active);
      try {
        for (let i = lo; i < hi; i += batchRows) {
          signal.throwIfAborted();
          await hooks.beforeBatch?.({ table: name, chunk, sent: i - lo, opening });
          let text = '';
          for (let j = i; j < Math.min(i + batchRows, hi); j++) {
            const refused = hooks.refuse?.(name, j) ?? null;
            if (refused) quarantined.push(refused);
            else text += `${t.line(j)}\n`;
          }
          yield Buffer.from(text, 'utf8');
        }
      } finally {
        self.active--;
      }
    }
    return { stream: Readable.from(lines(), { objectMode: false }), quarantined };
  }

  async close(): Promise<void> {}

  private get(table: TableMapping): MemoryTable {
    const t = this.byName.get(table.target.name);
    if (!t) throw new Error(`memory source has no table ${table.target.name}`);
    return t;
  }
}

/** [lo, hi) of row numbers. */
function rangeOf(chunk: ChunkSpec, rows: number): [number, number] {
  if (chunk.kind !== 'range') return [1, rows + 1];
  return [Number(chunk.from), Number(chunk.to) + (chunk.lastInclusive ? 1 : 0)];
}

export const column = (name: string, targetType: string, overrides: Partial<ColumnMapping> = {}): ColumnMapping => ({
  source: name, target: name, sourceType: 'nvarchar', targetType, kind: 'text', nullable: true, maxChars: null, ...overrides,
});

export function mapping(schema: string, name: string, columns: ColumnMapping[], overrides: Partial<TableMapping> = {}): TableMapping {
  const first = columns[0]?.source ?? 'id';
  return { source: { schema: 'dbo', name }, target: { schema, name }, columns, key: { columns: [first], kind: 'integer' }, rowCount: 0, ...overrides };
}

export const createTableSql = (m: TableMapping): string =>
  `CREATE TABLE ${quoteTable(m.target)} (${m.columns.map((c) => `${quoteIdent(c.target)} ${c.targetType}${c.nullable ? '' : ' NOT NULL'}`).join(', ')})`;

const pad = (n: number, w: number): string => String(n).padStart(w, '0');

/**
 * Rows shaped like seed 000's tables, in the canonical text PostgreSQL's own
 * COPY TO writes back (lower-case uuid, ISO timestamps, numeric with its
 * scale), so an md5 of `COPY (… ORDER BY id) TO STDOUT` equals the md5 of these lines.
 */
export function sampleLine(i: number): string {
  const uuid = `${(i >>> 0).toString(16).padStart(8, '0')}-0000-4000-8000-${((i * 7919) % 2 ** 48).toString(16).padStart(12, '0')}`;
  const name = `Müller-Lüdenscheid "Ä${i}" O'Brien\\t\\\\ ß`;
  const amount = `${Math.floor((i * 37) % 1_000_000)}.${pad(i % 100, 2)}`;
  const d = new Date(Date.UTC(2024, 0, 1) + i * 61_000);
  const at = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)} ${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}`;
  const note = i % 5 === 0 ? '\\N' : `Bemerkung ${i}: ${'x'.repeat(i % 40)}\\nZeile 2`;
  return [String(i), uuid, name, amount, at, i % 3 === 0 ? 't' : 'f', note].join('\t');
}

/** A table of `rows` sample lines, with the DDL-ready mapping. */
export function sampleTable(schema: string, name: string, rows: number): MemoryTable {
  const m = mapping(schema, name, [
    column('id', 'integer', { kind: 'int', nullable: false }),
    column('uid', 'uuid', { kind: 'uuid' }),
    column('name', 'varchar(80)', { maxChars: 80 }),
    column('amount', 'numeric(12,2)', { kind: 'exact' }),
    column('at', 'timestamp', { kind: 'timestamp' }),
    column('active', 'boolean', { kind: 'bool' }),
    column('note', 'text'),
  ], { rowCount: rows });
  return { mapping: m, rows, line: sampleLine };
}
