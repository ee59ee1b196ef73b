import { pipeline } from 'node:stream';
import type { ChunkSpec, EncodedChunk, EncodedSource, QuarantineRecord, SourceAdapter, TableMapping } from './contracts.js';
import { createEncoder } from './encoder.js';

/**
 * A row source (the live SQL Server) seen as COPY text: each chunk's rows go
 * through the encoder, which sends rows PostgreSQL cannot take to quarantine.
 * `pipeline` ties the two streams: the loader destroying the encoder (a COPY
 * failure, a cancel) destroys the source stream too, which cancels its query.
 */
export class EncodingSource implements EncodedSource {
  constructor(private readonly rows: SourceAdapter) {}

  introspect() {
    return this.rows.introspect();
  }

  planChunks(table: TableMapping, targetRows: number): Promise<ChunkSpec[]> {
    return this.rows.planChunks(table, targetRows);
  }

  async openChunk(table: TableMapping, chunk: ChunkSpec, signal: AbortSignal): Promise<EncodedChunk> {
    const quarantined: QuarantineRecord[] = [];
    const encoder = createEncoder(table, quarantined);
    // Errors surface on the encoder (the stream the loader reads); the callback only keeps them from going unhandled.
    pipeline(this.rows.readChunk(table, chunk, signal), encoder, () => undefined);
    return { stream: encoder, quarantined };
  }

  close(): Promise<void> {
    return this.rows.close();
  }
}
