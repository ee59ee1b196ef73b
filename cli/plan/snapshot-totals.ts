import type { TableMapping } from '../../engine/etl/contracts.js';
import type { SnapshotSource } from '../../engine/snapshot/reader.js';
import { DecimalSum } from './decimal-sum.js';

/** Source types whose column totals the plan checks (seed 002's key totals: money and exact decimals). */
const TOTAL_TYPES = new Set(['decimal', 'numeric', 'money', 'smallmoney']);

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
      // latin1 maps each byte to one character: tab and newline stay where they are (they never occur inside a
      // multi-byte UTF-8 character), and the summed fields are ASCII digits, so nothing needs decoding as UTF-8.
      let rest = '';
      for await (const piece of stream) {
        const text = rest + (piece as Buffer).toString('latin1');
        let lineStart = 0;
        for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', lineStart)) {
          addLine(text, lineStart, nl, indexes, sums);
          lineStart = nl + 1;
        }
        rest = text.slice(lineStart);
      }
      if (rest.length > 0) addLine(rest, 0, rest.length, indexes, sums);
    }
    columns.forEach((c, i) => totals.set(`${table.source.schema}.${table.source.name}.${c.source}`, sums[i]?.text() ?? null));
  }
  return totals;
}

/** COPY text: tab-separated fields, \N for NULL; decimals never carry escapes. Only the fields asked for are cut out. */
function addLine(text: string, from: number, to: number, indexes: number[], sums: DecimalSum[]): void {
  let field = 0;
  let start = from;
  for (const [i, index] of indexes.entries()) {
    for (; field < index; field++) {
      const tab = text.indexOf('\t', start);
      // Fewer fields than the mapping: the row hash was verified, so this is a mapping mismatch, not data to guess at.
      if (tab < 0 || tab >= to) throw new RangeError(`a row has no field ${index + 1}`);
      start = tab + 1;
    }
    const tab = text.indexOf('\t', start);
    const value = text.slice(start, tab < 0 || tab > to ? to : tab);
    if (value !== '\\N') sums[i]?.add(value);
  }
}
