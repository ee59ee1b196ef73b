import { Readable } from 'node:stream';
import type { ErrorCode } from '../../runbook/error-codes.js';
import type { ChunkSpec, ColumnMapping, RowSourceRecipe, SourceAdapter, SourceRow, TableMapping } from '../../engine/etl/contracts.js';
import { sibling } from '../../config/thread-boot.js';
import { CutoverError } from '../../runbook/errors.js';

/**
 * A generated row source that encode threads can open (a RowSourceRecipe of
 * this module), for the thread tests: rows 1..rows of an (id, name, at, note)
 * table, integer key ranges as chunks. The options steer the unhappy paths
 * inside the thread, and a SharedArrayBuffer lets the test watch the thread:
 * [0] rows produced, [1] chunks whose signal was aborted, [2] sources closed,
 * [3] sources opened from the recipe (in a thread).
 */
export interface ThreadRowOptions {
  rows: number;
  /** Every n-th row carries a NUL in its note (the encoder quarantines it). */
  nulEvery?: number;
  /** The chunk containing this row fails there with this CutoverError code. */
  failAt?: { row: number; code: ErrorCode };
  /** The thread exits abruptly when it reaches this row (a crash). */
  crashAt?: number;
  shared?: SharedArrayBuffer;
}

export const THREAD_ROWS_COLUMNS: ColumnMapping[] = [
  { source: 'id', target: 'id', sourceType: 'int', targetType: 'integer', kind: 'int', nullable: false, maxChars: null },
  { source: 'name', target: 'name', sourceType: 'nvarchar', targetType: 'varchar(60)', kind: 'text', nullable: false, maxChars: 60 },
  { source: 'at', target: 'at', sourceType: 'datetime2', targetType: 'timestamp(6)', kind: 'timestamp', nullable: true, maxChars: null },
  { source: 'note', target: 'note', sourceType: 'nvarchar', targetType: 'text', kind: 'text', nullable: true, maxChars: null },
];

/** Row i, the same on every thread. */
export function threadRow(i: number, o: Pick<ThreadRowOptions, 'nulEvery'> = {}): SourceRow {
  const p = (n: number) => String(n).padStart(2, '0');
  const at = i % 5 === 0 ? null : `20${p(10 + (i % 14))}-${p(1 + (i % 12))}-${p(1 + (i % 28))} ${p(i % 24)}:${p(i % 60)}:${p((i * 7) % 60)}.${String(i % 10_000_000).padStart(7, '0')}`;
  const note = o.nulEvery && i % o.nulEvery === 0 ? `bad\u0000${i}` : i % 3 === 0 ? null : `Zeile ${i}\tmit Tab, Umlaut ä und \\ Backslash`;
  return [i, `Name ${i} Müller`, at, note];
}

class ThreadRows implements SourceAdapter {
  private readonly counters: Int32Array | null;

  constructor(private readonly o: ThreadRowOptions) {
    this.counters = o.shared ? new Int32Array(o.shared) : null;
  }

  introspect(): never {
    throw new Error('not used');
  }

  async planChunks(_t: TableMapping, targetRows: number): Promise<ChunkSpec[]> {
    return planThreadRows(this.o.rows, targetRows);
  }

  readChunk(_t: TableMapping, chunk: ChunkSpec, signal: AbortSignal): Readable {
    const [lo, hi] = chunk.kind === 'range' ? [Number(chunk.from), Number(chunk.to)] : [1, this.o.rows + 1];
    const o = this.o;
    const counters = this.counters;
    signal.addEventListener('abort', () => counters && Atomics.add(counters, 1, 1), { once: true });
    let i = lo;
    return new Readable({
      objectMode: true,
      highWaterMark: 256,
      read() {
        for (let pushed = 0; pushed < 256; pushed++) {
          if (i >= hi) return void this.push(null);
          if (o.crashAt === i) process.exit(7);
          if (o.failAt?.row === i) return void this.destroy(new CutoverError(o.failAt.code, `row ${i} failed`));
          if (counters) Atomics.add(counters, 0, 1);
          if (!this.push(threadRow(i++, o))) return;
        }
      },
    });
  }

  async countChunk(_t: TableMapping, chunk: ChunkSpec): Promise<number> {
    return chunk.kind === 'range' ? Number(chunk.to) - Number(chunk.from) : this.o.rows;
  }

  threadRecipe(): RowSourceRecipe {
    return threadRowsRecipe(this.o);
  }

  async close(): Promise<void> {
    if (this.counters) Atomics.add(this.counters, 2, 1);
  }
}

export function planThreadRows(rows: number, targetRows: number): ChunkSpec[] {
  const chunks: ChunkSpec[] = [];
  for (let lo = 1; lo <= rows; lo += targetRows) {
    chunks.push({ id: `t${chunks.length}`, kind: 'range', column: 'id', from: String(lo), to: String(Math.min(rows + 1, lo + targetRows)), lastInclusive: false });
  }
  return chunks;
}

export function threadRowsRecipe(o: ThreadRowOptions): RowSourceRecipe {
  return { module: sibling('thread-row-source', import.meta.url).href, options: o };
}

/** The source on the loader's thread (planning; reading when threads are off). */
export function threadRowSource(o: ThreadRowOptions): SourceAdapter {
  return new ThreadRows(o);
}

/** The RowSourceRecipe entry point: what an encode thread calls. */
export async function openRowSource(options: unknown): Promise<SourceAdapter> {
  const o = options as ThreadRowOptions;
  const counters = o.shared ? new Int32Array(o.shared) : null;
  if (counters && counters.length > 3) Atomics.add(counters, 3, 1);
  return new ThreadRows(o);
}
