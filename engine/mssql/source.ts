import { Readable } from 'node:stream';
import mssql from 'mssql';
import { CutoverError, asCutoverError } from '../../runbook/errors.js';
import type { ChunkSpec, RowSourceRecipe, SourceAdapter, SourceRow, TableMapping } from '../etl/contracts.js';
import { sibling } from '../../config/thread-boot.js';
import type { SchemaModel } from '../schema/model.js';
import { introspect } from './catalog.js';
import { ALL_CHUNK, chunkCountFor, planHashBuckets, planRanges, rangeColumn } from './chunk-plan.js';
import { chunkCount, chunkSelect, keyBoundsQuery, type BoundSql } from './select-list.js';
import { RowBatch } from '../etl/row-batch.js';
import { rowDecoder } from './row-decoder.js';
import { datetime2Value } from './sync-queries.js';

/** Rows per RowBatch: large enough that a stream item's cost vanishes, small next to a chunk. */
const BATCH_ROWS = 256;

/** What the source needs of a pool: requests, each holding its own connection while it runs, so chunks stream in parallel. */
export type MssqlPool = Pick<mssql.ConnectionPool, 'request' | 'close'>;

export interface MssqlSourceOptions {
  /** Close the pool in close(); false when the pool belongs to a ConnectionRegistry. */
  ownsPool?: boolean;
  /** Rows buffered per chunk stream before the request is paused. */
  highWaterMark?: number;
  /** The pool's settings, given when encode threads may open connections of their own to read chunks. */
  threadConfig?: mssql.config;
}

/** SourceAdapter over a live SQL Server (mssql/tedious). */
export class MssqlSource implements SourceAdapter {
  private readonly ownsPool: boolean;
  private readonly bufferedRows: number;
  private readonly threadConfig: mssql.config | null;

  constructor(
    protected readonly pool: MssqlPool,
    options: MssqlSourceOptions = {},
  ) {
    this.ownsPool = options.ownsPool ?? false;
    this.bufferedRows = options.highWaterMark ?? 1000;
    this.threadConfig = options.threadConfig ?? null;
  }

  threadRecipe(): RowSourceRecipe | null {
    if (!this.threadConfig) return null;
    return { module: sibling('thread-rows', import.meta.url).href, options: { config: this.threadConfig } };
  }

  introspect(): Promise<SchemaModel> {
    return introspect(this.pool);
  }

  async planChunks(table: TableMapping, targetRows: number): Promise<ChunkSpec[]> {
    const count = chunkCountFor(table.rowCount, targetRows);
    if (!table.key || count === 1) return [ALL_CHUNK];
    const column = rangeColumn(table);
    if (!column) return planHashBuckets(table.key.columns, count);
    const rows = await this.query(table, { text: keyBoundsQuery(table, column), params: [] }, 'planning chunks');
    const lo = field(rows[0], 'lo');
    const hi = field(rows[0], 'hi');
    // An empty table (MIN is NULL) is still one chunk, so its load commits and checkpoints like any other.
    if (typeof lo !== 'string' || typeof hi !== 'string') return [ALL_CHUNK];
    return planRanges(column, BigInt(lo), BigInt(hi), count);
  }

  readChunk(table: TableMapping, chunk: ChunkSpec, signal: AbortSignal): Readable {
    const what = `${table.source.schema}.${table.source.name} chunk ${chunk.id}`;
    let sql: BoundSql;
    try {
      sql = chunkSelect(table, chunk);
    } catch (err) {
      return Readable.from([]).destroy(err instanceof Error ? err : asCutoverError(err));
    }
    return this.streamRows(sql, what, table.columns.length, signal);
  }

  /**
   * Streams a query's rows as RowBatches of SourceRows of `width` values,
   * decoded by the types the server announces (row-decoder.ts), pausing the
   * request while the consumer is full. Result columns past `width` are the
   * helpers of a RowSelect (select-list.ts readExpression). Rows are handed
   * on in batches because a stream item costs about as much as encoding the
   * row (row-batch.ts); at most `highWaterMark` rows wait in the stream, plus
   * the batch being gathered.
   */
  protected streamRows(sql: BoundSql & { helpers?: number[] }, what: string, width: number, signal: AbortSignal): Readable {
    const request = this.pool.request();
    request.stream = true;
    request.arrayRowMode = true;
    try {
      bind(request, sql);
    } catch (err) {
      return Readable.from([]).destroy(err instanceof Error ? err : asCutoverError(err));
    }
    const batchRows = Math.min(BATCH_ROWS, this.bufferedRows);
    let batch: SourceRow[] = [];
    let paused = false;
    let finished = false;
    const onAbort = (): void => {
      stream.destroy(new CutoverError('mssql.cancelled', `reading ${what} was cancelled`, { cause: signal.reason }));
    };
    const stream = new Readable({
      objectMode: true,
      highWaterMark: Math.max(1, Math.floor(this.bufferedRows / batchRows)),
      read() {
        if (paused) {
          paused = false;
          request.resume();
        }
      },
      destroy(err, callback) {
        signal.removeEventListener('abort', onAbort);
        // Stops the query on the server (TDS attention) instead of reading the rest of the chunk into nothing.
        if (!finished) request.cancel();
        callback(err);
      },
    });
    const helpers = sql.helpers ?? [];
    let decode: ((row: unknown) => SourceRow) | null = null;
    request.on('recordset', (columns: unknown) => {
      try {
        decode = rowDecoder(Array.isArray(columns) ? columns : null, width, helpers, what);
      } catch (err) {
        stream.destroy(err instanceof Error ? err : asCutoverError(err));
      }
    });
    request.on('row', (row: unknown) => {
      if (stream.destroyed) return;
      try {
        decode ??= rowDecoder(null, width, helpers, what);
        batch.push(decode(row));
      } catch (err) {
        stream.destroy(err instanceof Error ? err : asCutoverError(err));
        return;
      }
      if (batch.length < batchRows) return;
      const full = new RowBatch(batch);
      batch = [];
      // tedious is no Node stream: the only backpressure it has is pause(), resumed from _read.
      if (!stream.push(full) && !paused) {
        paused = true;
        request.pause();
      }
    });
    request.on('error', (err: unknown) => {
      finished = true;
      stream.destroy(readError(what, err));
    });
    request.on('done', () => {
      finished = true;
      if (stream.destroyed) return;
      if (batch.length) stream.push(new RowBatch(batch));
      stream.push(null);
    });
    if (signal.aborted) {
      process.nextTick(onAbort);
      return stream;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    // In stream mode the promise settles after 'done'; failures arrive as 'error' events above.
    request.query(sql.text).catch(() => undefined);
    return stream;
  }

  async countChunk(table: TableMapping, chunk: ChunkSpec): Promise<number> {
    const rows = await this.query(table, chunkCount(table, chunk), `counting chunk ${chunk.id}`);
    const n = Number(field(rows[0], 'n'));
    if (!Number.isSafeInteger(n)) {
      throw new CutoverError('mssql.bad_count', `counting ${table.source.schema}.${table.source.name} chunk ${chunk.id} returned no number`);
    }
    return n;
  }

  async close(): Promise<void> {
    if (this.ownsPool) await this.pool.close();
  }

  protected async query(table: TableMapping, sql: BoundSql, doing: string): Promise<unknown[]> {
    const request = this.pool.request();
    // Explicit: a pool configured with stream: true would otherwise resolve with no recordset.
    request.stream = false;
    bind(request, sql);
    try {
      return (await request.query(sql.text)).recordset ?? [];
    } catch (err) {
      throw readError(`${table.source.schema}.${table.source.name} (${doing})`, err);
    }
  }
}

function bind(request: mssql.Request, sql: BoundSql): void {
  for (const p of sql.params) {
    if (p.type === 'binary8') request.input(p.name, mssql.Binary, p.value);
    else if (p.type === 'datetime2') request.input(p.name, mssql.DateTime2(7), datetime2Value(p.value));
    else if (p.type === 'nvarchar') request.input(p.name, mssql.NVarChar(4000), p.value);
    else request.input(p.name, p.type === 'bigint' ? mssql.BigInt : mssql.Int, p.value);
  }
}

export function field(row: unknown, name: string): unknown {
  return typeof row === 'object' && row !== null ? Reflect.get(row, name) : undefined;
}

/** A driver failure as mssql.read_failed, naming what was being read and SQL Server's error number. */
export function readError(what: string, err: unknown): CutoverError {
  if (err instanceof CutoverError) return err;
  const number = err instanceof mssql.RequestError ? err.number : undefined;
  const message = err instanceof Error ? err.message : String(err);
  return new CutoverError('mssql.read_failed', `reading ${what} from SQL Server failed${number ? ` (error ${number})` : ''}: ${message}`, { cause: err });
}
