import { pipeline } from 'node:stream';
import type { ChunkSpec, EncodedChunk, EncodedSource, QuarantineRecord, RowSourceRecipe, SourceAdapter, TableMapping } from './contracts.js';
import { createEncoder } from './encoder.js';
import { EncodeThreads } from './threads/encode-threads.js';

/**
 * A row source (the live SQL Server) seen as COPY text: each chunk's rows go
 * through the encoder, which sends rows PostgreSQL cannot take to quarantine.
 * `pipeline` ties the two streams: the loader destroying the encoder (a COPY
 * failure, a cancel) destroys the source stream too, which cancels its query.
 *
 * With `threads` and a source that can be opened in a thread
 * (SourceAdapter.threadRecipe), reading and encoding run on encode threads,
 * one chunk per thread, so a load uses as many cores as chunks in flight;
 * planning, counting and the catalog stay on this thread.
 */
export interface EncodingSourceOptions {
  /** Encode threads; 0 (default) reads and encodes on the calling thread. */
  threads?: number;
}

export class EncodingSource implements EncodedSource {
  private readonly threads: { pool: EncodeThreads; recipe: RowSourceRecipe } | null;

  constructor(
    private readonly rows: SourceAdapter,
    options: EncodingSourceOptions = {},
  ) {
    const recipe = options.threads ? (rows.threadRecipe?.() ?? null) : null;
    this.threads = recipe && options.threads ? { pool: new EncodeThreads(options.threads), recipe } : null;
  }

  /** Starts the encode threads (if any) with the source open in each, and waits until they are ready; see EncodeThreads.start. */
  async startThreads(): Promise<void> {
    await this.threads?.pool.start(this.threads.recipe);
  }

  introspect() {
    return this.rows.introspect();
  }

  planChunks(table: TableMapping, targetRows: number): Promise<ChunkSpec[]> {
    return this.rows.planChunks(table, targetRows);
  }

  async openChunk(table: TableMapping, chunk: ChunkSpec, signal: AbortSignal): Promise<EncodedChunk> {
    if (this.threads) return this.threads.pool.openChunk(this.threads.recipe, table, chunk, signal);
    const quarantined: QuarantineRecord[] = [];
    const encoder = createEncoder(table, quarantined);
    // Errors surface on the encoder (the stream the loader reads); the callback only keeps them from going unhandled.
    pipeline(this.rows.readChunk(table, chunk, signal), encoder, () => undefined);
    return { stream: encoder, quarantined };
  }

  /** Ends the encode threads (and their connections); the row source stays open. Never throws. */
  async closeThreads(): Promise<void> {
    await this.threads?.pool.close();
  }

  async close(): Promise<void> {
    await this.closeThreads();
    await this.rows.close();
  }
}
