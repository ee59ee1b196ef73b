import { z } from 'zod';
import { connectionName, oneSource, snapshotDir } from './common-params.js';
import { conversionOptionsSchema } from './conversion-params.js';
import { readOnlyValidation, readsSnapshot } from './spec.js';

/**
 * Parameters of validate.checksums. The conversion options must be the ones
 * the load used: they decide the table mapping (target names, kinds, the
 * time-zone rule) that both sides' canonical text is computed from.
 */
export const checksumParams = conversionOptionsSchema
  .extend({
    /** The live SQL Server, or … */
    source: connectionName.optional(),
    /** … an extract snapshot directory (its manifest gives the mapping). */
    snapshot: snapshotDir.optional(),
    target: connectionName,
    /** Rows per first-pass segment; each is aggregated as 16 sub-segments in one scan per side. */
    segment_rows: z.number().int().min(1000).max(10_000_000).default(100_000),
    /** Columns whose values never appear in the report, "schema.table.column" (source names), e.g. "dbo.Antrag.an_EMail". */
    personal: z.array(z.string().regex(/^[^.]+\.[^.]+(\.[^.]+)?$/, 'expected schema.table.column or table.column')).default([]),
    /** Stop bisecting a table after this many differing keys. */
    max_keys: z.number().int().min(1).max(10_000).default(100),
    /** Segments examined at once per table (each one query per side). */
    parallel: z.number().int().min(1).max(16).default(2),
    /**
     * Where SQL Server's row hashes are computed: server (HASHBYTES over UTF-8 text; needs a _UTF8
     * collation, SQL Server 2019+), client (SQL Server streams the canonical text, the worker hashes),
     * auto (server when the collation exists).
     */
    mssql_hashing: z.enum(['auto', 'server', 'client']).default('auto'),
  })
  .strict()
  .refine((p) => (p.source === undefined) !== (p.snapshot === undefined), oneSource);

export type ChecksumParams = z.infer<typeof checksumParams>;

export const validateChecksumsSpec = readOnlyValidation({
  id: 'validate.checksums',
  summary: 'row hashes over canonical text per key segment in both databases, bisected down to the differing keys',
  params: checksumParams,
  connections: (p: ChecksumParams) => [p.target, ...(p.source ? [p.source] : [])],
  snapshot: readsSnapshot,
});
