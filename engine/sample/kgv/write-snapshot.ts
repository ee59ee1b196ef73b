import { Readable } from 'node:stream';
import type { ChunkSpec, SourceRow, TableMapping } from '../../etl/contracts.js';
import { conversionOptions } from '../../etl/conversion-options.js';
import { ALL_CHUNK, chunkCountFor, planRanges, rangeColumn } from '../../mssql/chunk-plan.js';
import { convertSchema } from '../../schema/convert.js';
import type { Manifest } from '../../snapshot/manifest.js';
import { SnapshotWriter } from '../../snapshot/writer.js';
import { generateKgvSample, type KgvSampleData } from './generate.js';
import type { LegacyRow } from './reference-data.js';
import { SAMPLE_EXTRACTED_AT } from './values.js';
import { CutoverError } from '../../../runbook/errors.js';

/**
 * The conversion the sample's extract used: the staging tables of seed 000
 * (`migration_staging.antrag`, lower-case names). A runbook's schema.apply,
 * validate.* and checksums steps against this snapshot must use the same.
 */
export const SAMPLE_CONVERSION = conversionOptions({
  target_schema: 'migration_staging',
  naming: 'lower',
  overrides: {},
  timezone: 'wall-clock',
  postgis: false,
  case_insensitive: 'report',
});

/** Rows per chunk, as an extract step's `chunk_rows` would ask. */
export const SAMPLE_CHUNK_ROWS = 2500;

/**
 * Writes the KGV sample as an extract snapshot into `dir`, through the same
 * encoder, writer and manifest as the `extract` action: the rows the encoder
 * refuses (the NUL byte, the year-0 date) are quarantined there with their
 * reasons, exactly as a real extract would.
 */
export async function writeKgvSnapshot(dir: string, data: KgvSampleData = generateKgvSample()): Promise<Manifest> {
  const conversion = convertSchema(data.model, SAMPLE_CONVERSION);
  if (conversion.report.errors.length > 0) throw new CutoverError('sample.inconsistent', `the sample's schema does not convert: ${conversion.report.errors[0]?.message}`);
  const writer = new SnapshotWriter(dir);
  const signal = new AbortController().signal;
  for (const mapping of conversion.mappings) {
    const rows = data.rows[mapping.source.name];
    if (!rows) throw new CutoverError('sample.inconsistent', `the sample generates no rows for ${mapping.source.name}`);
    for (const { chunk, rows: part } of chunksOf(mapping, rows)) {
      await writer.writeChunk(mapping, chunk, Readable.from(part.map((r) => project(mapping, r))), signal);
    }
  }
  return writer.finish(data.model, conversion.mappings, { createdAt: SAMPLE_EXTRACTED_AT });
}

/** The row's values in the mapping's column order; a column the generator forgot is a bug, not a NULL. */
function project(mapping: TableMapping, row: LegacyRow): SourceRow {
  return mapping.columns.map((c) => {
    if (!(c.source in row)) throw new CutoverError('sample.inconsistent', `the sample's ${mapping.source.name} row has no ${c.source}`);
    return row[c.source] ?? null;
  });
}

/** Integer-keyed tables split by key range as the mssql planner would; the rest is one chunk. */
function chunksOf(mapping: TableMapping, rows: LegacyRow[]): Array<{ chunk: ChunkSpec; rows: LegacyRow[] }> {
  const column = rangeColumn(mapping);
  if (!column || rows.length <= SAMPLE_CHUNK_ROWS) return [{ chunk: ALL_CHUNK, rows }];
  const keyOf = (r: LegacyRow): bigint => BigInt(r[column] as string | number);
  const keys = rows.map(keyOf);
  const lo = keys.reduce((a, b) => (b < a ? b : a));
  const hi = keys.reduce((a, b) => (b > a ? b : a));
  return planRanges(column, lo, hi, chunkCountFor(rows.length, SAMPLE_CHUNK_ROWS)).map((chunk) => {
    if (chunk.kind !== 'range') return { chunk, rows };
    const from = BigInt(chunk.from);
    const to = BigInt(chunk.to);
    return { chunk, rows: rows.filter((r) => keyOf(r) >= from && (keyOf(r) < to || (chunk.lastInclusive && keyOf(r) === to))) };
  });
}
