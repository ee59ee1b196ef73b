/**
 * The Antrag rows of bench/etl-load.ts as source values (what the mssql
 * adapter's select list yields), as a SourceAdapter that encode threads and
 * chunk-worker processes can open too (a RowSourceRecipe of this module), so
 * the bench measures the product's own thread and fan-out paths.
 */
import { Readable } from 'node:stream';
import type { ChunkSpec, RowSourceRecipe, SourceAdapter, SourceRow } from '../engine/etl/contracts.js';
import { sibling } from '../config/thread-boot.js';
import { RowBatch } from '../engine/etl/row-batch.js';

export const NAMES = ['Müller', 'Schäfer', 'Größ', "O'Brien", 'Weiß', 'Jürgensen', 'Öztürk', 'Bäcker'];
export const p2 = (n: number): string => String(n).padStart(2, '0');
export const hex = (n: number, w: number): string => (n >>> 0).toString(16).padStart(w, '0').slice(-w);

/** Text as tedious hands it over: decoded from the wire's UTF-16, so a flat string (template literals build ropes, which cost the encoder more). */
const driverText = (s: string): string => Buffer.from(s, 'utf16le').toString('utf16le');

/** Row i as the mssql adapter's select list yields it (the same values `line(i)` of etl-load.ts writes as COPY text). */
export function values(i: number): SourceRow {
  const r = Math.imul(i, 2654435761) >>> 0;
  const guid = `${hex(r, 8)}-${hex(i, 4)}-4${hex(r >>> 4, 3)}-a${hex(i >>> 3, 3)}-${hex(r ^ i, 8)}${hex(i, 4)}`;
  const n = NAMES[r % NAMES.length] as string;
  const at = `20${p2(10 + (r % 14))}-${p2(1 + (r % 12))}-${p2(1 + (i % 28))} ${p2(r % 24)}:${p2(i % 60)}:${p2(r % 60)}.${String(r % 1000).padStart(3, '0')}`;
  const note = r % 2 === 0 ? null : `Antrag auf Kleingarten „${n}“, Parzelle ${r % 500}; Rückfrage: "Zaun" \\ Tor\t${'ä'.repeat(r % 24)}`;
  const t = driverText;
  return [i, t(guid), t(`KGV-${2000 + (r % 24)}/${i} "${n}"`), t(`${n}, Jürgen "Jü" Straße ${r % 200}`), t(at), r % 3 === 0, t(`${r % 1_000_000}.${p2(r % 100)}`), note === null ? null : t(note)];
}

/** Distinct rows a prepared source cycles through: every shape of value the generator makes (r % 24 and the like) occurs. */
const PREPARED = 4096;

/**
 * Rows 1..rows as source values, chunked by key range like the mssql adapter's integer keys. `prepared`: the
 * values are made once (4,096 distinct rows, each handed on as a copy with its own id), so a measurement of
 * encoder and COPY does not also measure this generator, which costs more than encoding its rows.
 */
export function valueSource(rows: number, options: { prepared?: boolean } = {}): SourceAdapter {
  const rangeOf = (c: ChunkSpec): [number, number] => (c.kind === 'range' ? [Number(c.from), Number(c.to)] : [1, rows + 1]);
  let made: SourceRow[] | null = null;
  const row = options.prepared
    ? (i: number): SourceRow => {
        made ??= Array.from({ length: PREPARED }, (_, k) => values(k + 1));
        const r = (made[(i - 1) % PREPARED] as SourceRow).slice();
        r[0] = i;
        return r;
      }
    : values;
  return {
    introspect: () => Promise.reject(new Error('not used')),
    async planChunks(_t, targetRows) {
      const chunks: ChunkSpec[] = [];
      for (let lo = 1; lo <= rows; lo += targetRows) {
        chunks.push({ id: `v${chunks.length}`, kind: 'range', column: 'an_id', from: String(lo), to: String(Math.min(rows + 1, lo + targetRows)), lastInclusive: false });
      }
      return chunks;
    },
    readChunk(_t, chunk) {
      const [lo, hi] = rangeOf(chunk);
      // In RowBatches of 256, as the mssql adapter hands over what the driver parsed (engine/mssql/source.ts).
      return Readable.from((function* () {
        for (let at = lo; at < hi; at += 256) {
          const batch: SourceRow[] = [];
          for (let i = at; i < Math.min(hi, at + 256); i++) batch.push(row(i));
          yield new RowBatch(batch);
        }
      })(), { objectMode: true, highWaterMark: 2 });
    },
    countChunk: async (_t, chunk) => { const [lo, hi] = rangeOf(chunk); return hi - lo; },
    threadRecipe: (): RowSourceRecipe => ({ module: sibling('etl-values', import.meta.url).href, options: { rows, prepared: options.prepared === true } }),
    close: async () => {},
  };
}

/** The RowSourceRecipe entry point: what an encode thread calls. */
export async function openRowSource(options: unknown): Promise<SourceAdapter> {
  const o = typeof options === 'object' && options !== null ? (options as { rows?: unknown; prepared?: unknown }) : {};
  const rows = Number(o.rows);
  if (!Number.isInteger(rows) || rows < 0) throw new Error(`etl-values: bad options ${JSON.stringify(options)}`);
  return valueSource(rows, { prepared: o.prepared === true });
}
