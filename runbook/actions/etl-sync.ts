import { z } from 'zod';
import { durationSchema } from '../duration.js';
import { connectionName } from './common-params.js';
import { conversionOptionsSchema, loadOptions } from './conversion-params.js';
import { defineAction } from './spec.js';

/**
 * How etl.sync finds a table's changed rows: its rowversion column, or a
 * modified-at column the application sets on every change. `overlap` re-reads
 * that much before the previous mark, for rows whose transaction committed
 * after the mark was taken (at least the longest write transaction).
 */
const watermarkSpec = z.union([
  z.literal('rowversion'),
  z.object({ column: z.string().min(1), overlap: durationSchema.default(60) }).strict(),
]);
export type WatermarkSpec = z.infer<typeof watermarkSpec>;

export const etlSyncParams = conversionOptionsSchema
  .extend({
    source: connectionName,
    target: connectionName,
    /** Default for every table. */
    watermark: watermarkSpec.default('rowversion'),
    /** Per source table ("dbo.Antrag" or "Antrag"), overriding the default. */
    tables_watermark: z.record(z.string().min(1), watermarkSpec).default({}),
    /** Remove target rows whose key no longer exists at the source (compared per key range). */
    deletes: z.boolean().default(true),
    /** Record the marks taken now and copy nothing: run right before the full etl.copy. */
    initial: z.boolean().default(false),
    /** Keys per compared range. */
    chunk_rows: loadOptions.chunk_rows,
    parallel: loadOptions.parallel,
    bookkeeping_schema: loadOptions.bookkeeping_schema,
  })
  .strict();
export type EtlSyncParams = z.infer<typeof etlSyncParams>;

export const etlSyncSpec = defineAction({
  id: 'etl.sync',
  watchHealth: true,
  summary: 'copy rows changed since the last high-water mark (upsert by key) and remove rows deleted at the source',
  params: etlSyncParams,
  recovery: () => ({ kind: 'resumes', why: 'each table\'s window commits with its high-water mark; a re-run replays an uncommitted window (upserts), never skips one' }),
  connections: (p: EtlSyncParams) => [p.source, p.target],
});
