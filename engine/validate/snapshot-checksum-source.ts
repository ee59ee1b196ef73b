import { StringDecoder } from 'node:string_decoder';
import type { ChunkSpec, TableMapping } from '../etl/contracts.js';
import { parseCopyLine } from '../etl/copy-text.js';
import type { SnapshotSource } from '../snapshot/reader.js';
import { canonicalRow, canonicalValue, hashedColumns, hashSlice, joinItems, keyBucketValue, rowHash } from './canonical.js';
import { keyColumns, keyId, type CanonicalRowText, type ChecksumSource, type RowHash, type Segment, type SegmentAggregate } from './checksum-source.js';
import { childIndexOf } from './mssql-checksum-source.js';

/**
 * ChecksumSource over an extract snapshot. The worker reads the chunks'
 * COPY text (the reader checks each chunk against the sha256 and row hash
 * recorded at extract time while streaming, and fails on any change), and
 * canonicalises every line with canonical.ts. The snapshot is the frozen
 * source: a target that differs is bisected against the snapshot's lines.
 * Range segments open only the chunks whose key range overlaps; key-hash
 * segments read every chunk of the table (the extract's hash chunks use
 * SQL Server's CHECKSUM, which the target cannot reproduce), so a deep
 * bisection of a GUID-keyed table re-reads the snapshot once per level.
 */
export class SnapshotChecksumSource implements ChecksumSource {
  constructor(private readonly snapshot: SnapshotSource) {}

  async keyBounds(table: TableMapping): Promise<{ lo: bigint; hi: bigint } | null> {
    let lo: bigint | null = null;
    let hi: bigint | null = null;
    await this.each(table, null, (key) => {
      const k = BigInt(key[0] ?? '0');
      if (lo === null || k < lo) lo = k;
      if (hi === null || k > hi) hi = k;
    });
    return lo !== null && hi !== null ? { lo, hi } : null;
  }

  async segmentAggregates(table: TableMapping, segment: Segment, fanout: number): Promise<Map<number, SegmentAggregate>> {
    const out = new Map<number, SegmentAggregate>();
    const index = childIndexOf(segment, fanout);
    await this.each(table, segment, (key, text) => {
      const i = index(key);
      const a = out.get(i) ?? { count: 0, sum: 0n };
      out.set(i, { count: a.count + 1, sum: a.sum + hashSlice(rowHash(text)) });
    });
    return out;
  }

  async rowHashes(table: TableMapping, segment: Segment): Promise<RowHash[]> {
    const out: RowHash[] = [];
    await this.each(table, segment, (key, text) => out.push({ key, hash: rowHash(text) }));
    return out;
  }

  async rows(table: TableMapping, keys: string[][]): Promise<Map<string, CanonicalRowText>> {
    const wanted = new Set(keys.map(keyId));
    const out = new Map<string, CanonicalRowText>();
    await this.each(table, null, (key, _text, values) => {
      if (!wanted.has(keyId(key))) return;
      const row: CanonicalRowText = {};
      table.columns.forEach((c, i) => {
        if (c.kind !== 'float') row[c.source] = canonicalValue(values[i] ?? null, c);
      });
      out.set(keyId(key), row);
    });
    return out;
  }

  async close(): Promise<void> {}

  /** Every row of the segment (null: all): canonical key, row text and the parsed COPY fields. */
  private async each(table: TableMapping, segment: Segment | null, f: (key: string[], text: string, values: Array<string | null>) => void): Promise<void> {
    const keyAt = keyColumns(table).map((k) => table.columns.indexOf(k));
    const hashed = hashedColumns(table);
    const inSegment = segmentTest(segment);
    for (const chunk of await this.snapshot.planChunks(table)) {
      if (segment && !overlaps(chunk, segment)) continue;
      const { stream } = await this.snapshot.openChunk(table, chunk, new AbortController().signal);
      // A multi-byte character may straddle two buffers: decoding each buffer alone would mangle it.
      const utf8 = new StringDecoder('utf8');
      let rest = '';
      for await (const buf of stream as AsyncIterable<Buffer>) {
        const lines = (rest + utf8.write(buf)).split('\n');
        rest = lines.pop() ?? '';
        for (const line of lines) {
          const values = parseCopyLine(line);
          const key = keyAt.map((i) => canonicalValue(values[i] ?? null, table.columns[i] ?? hashed[0]!) ?? '');
          if (inSegment(key)) f(key, canonicalRow(values, table.columns), values);
        }
      }
    }
  }
}

function segmentTest(s: Segment | null): (key: string[]) => boolean {
  if (!s) return () => true;
  if (s.kind === 'range') {
    return (key) => {
      const k = BigInt(key[0] ?? '0');
      return k >= s.from && k < s.to;
    };
  }
  return (key) => keyBucketValue(joinItems(key)) % s.modulus === s.bucket;
}

/** Whether an extract chunk may hold rows of the segment (range chunks against range segments only). */
function overlaps(chunk: ChunkSpec, s: Segment): boolean {
  if (chunk.kind !== 'range' || s.kind !== 'range') return true;
  const to = BigInt(chunk.to) + (chunk.lastInclusive ? 1n : 0n);
  return BigInt(chunk.from) < s.to && s.from < to;
}

