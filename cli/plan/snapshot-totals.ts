import { StringDecoder } from 'node:string_decoder';
import type { TableMapping } from '../../engine/etl/contracts.js';
import type { SnapshotSource } from '../../engine/snapshot/reader.js';
import { DecimalSum } from './decimal-sum.js';

/** Source types whose column totals the plan checks (seed 002's key totals: money and exact decimals). */
export const TOTAL_TYPES = new Set(['decimal', 'numeric', 'money', 'smallmoney']);

export const totalColumns = (t: TableMapping): TableMapping['columns'] => t.columns.filter((c) => TOTAL_TYPES.has(c.sourceType.toLowerCase()));

/**
 * The exact sum of every money/decimal column of the snapshot's rows, by
 * `schema.table.column` (source names), read from the COPY text the load
 * will load — streamed chunk by chunk, each verified against its row hash as
 * it is read, so memory stays flat whatever the snapshot's size.
 */
export async function snapshotTotals(snapshot: SnapshotSource, tables: TableMapping[], signal: AbortSignal): Promise<Map<string, string | null>> {
  const totals = new Map<string, string | null>();
  for (const table of tables) {
    const columns = totalColumns(table);
    if (columns.length === 0) continue;
    const indexes = columns.map((c) => table.columns.indexOf(c));
    const sums = columns.map(() => new DecimalSum());
    for (const chunk of await snapshot.planChunks(table)) {
      const { stream } = await snapshot.openChunk(table, chunk, signal);
      // A piece may end inside a multi-byte character: the decoder holds it back until the next one.
      const decoder = new StringDecoder('utf8');
      let rest = '';
      for await (const piece of stream) {
        const lines = (rest + decoder.write(piece as Buffer)).split('\n');
        rest = lines.pop() ?? '';
        for (const line of lines) addLine(line, indexes, sums);
      }
      rest += decoder.end();
      if (rest !== '') addLine(rest, indexes, sums);
    }
    columns.forEach((c, i) => totals.set(`${table.source.schema}.${table.source.name}.${c.source}`, sums[i]?.text() ?? null));
  }
  return totals;
}

/** COPY text: tab-separated fields, \N for NULL; decimals never carry escapes. */
function addLine(line: string, indexes: number[], sums: DecimalSum[]): void {
  const fields = line.split('\t');
  indexes.forEach((index, i) => {
    const value = fields[index];
    if (value !== undefined && value !== '\\N') sums[i]?.add(value);
  });
}
