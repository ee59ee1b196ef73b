import type { SourceRow } from './contracts.js';

/**
 * Rows a source read in bulk, handed on as one stream item. An object-mode
 * stream item costs about as much as encoding a row (measured at 0.4–0.5 µs
 * per item and stream, against ~2 µs to decode and encode an Antrag row), so
 * the mssql adapter gathers what the driver parsed into batches. A chunk
 * stream may carry SourceRows, RowBatches or both; the encoder takes either.
 */
export class RowBatch {
  constructor(readonly rows: SourceRow[]) {}
}

/** Every row of a chunk stream, whether it arrived alone or in a batch. */
export async function* eachRow(items: AsyncIterable<unknown>): AsyncGenerator<SourceRow> {
  for await (const item of items) {
    if (item instanceof RowBatch) yield* item.rows;
    else yield item as SourceRow;
  }
}
