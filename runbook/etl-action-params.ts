import { z } from 'zod';
import { durationSchema } from './duration.js';

/**
 * Parameters of the schema and ETL actions. Conversion options are shared so
 * that schema.apply, etl.copy, extract and load of one runbook agree on the
 * same table mapping (they are recomputed from the same catalog, not stored).
 */
const connectionName = z.string().min(1, 'expected the name of a connection declared under connections');
const identifier = z.string().regex(/^[A-Za-z_][A-Za-z0-9_$]*$/, 'expected a plain identifier');

export const conversionOptionsSchema = z
  .object({
    /** Source tables to take (by SQL Server name, case-insensitive); all when absent. */
    tables: z.array(z.string().min(1)).min(1).optional(),
    target_schema: identifier.default('public'),
    /** lower (an_ID → an_id), exact (quoted as is), or a rename map on top of either. */
    naming: z
      .union([
        z.enum(['lower', 'exact']),
        z
          .object({
            base: z.enum(['lower', 'exact']).optional(),
            tables: z.record(z.string(), z.string()).optional(),
            columns: z.record(z.string(), z.string()).optional(),
          })
          .strict(),
      ])
      .default('lower'),
    /** Per-column target types, e.g. { "dbo.Antrag.an_PLZ": "varchar(10)" }. */
    overrides: z
      .record(z.string().regex(/^[^.]+\.[^.]+\.[^.]+$/, 'expected schema.table.column'), z.string().min(1).max(64, 'expected a PostgreSQL type name of at most 64 characters, e.g. varchar(10)'))
      .default({}),
    /** How datetime values are read: the source's wall-clock time (default) or instants in a named zone. */
    timezone: z.union([z.literal('wall-clock'), z.object({ zone: z.string().min(1) }).strict()]).default('wall-clock'),
    postgis: z.boolean().default(false),
    /** What to do with keys that are unique only case-insensitively in SQL Server. */
    case_insensitive: z.enum(['report', 'citext', 'icu']).default('report'),
  })
  .strict();
export type ConversionParams = z.infer<typeof conversionOptionsSchema>;

const loadOptions = {
  chunk_rows: z.number().int().min(1000).max(10_000_000).default(100_000),
  parallel: z.number().int().min(1).max(16).default(2),
  /** Where the load keeps its checkpoints and quarantine in the target. */
  bookkeeping_schema: identifier.default('cutover_etl'),
  /**
   * Hand the chunks to every worker process as child jobs of the step (docs/engine.md, "Every worker"):
   * `auto` when a table has at least 1,000,000 rows, `always`, or `never` (the step's worker loads alone).
   */
  fan_out: z.enum(['auto', 'always', 'never']).default('auto'),
};

const snapshotDir = z.string().min(1, 'expected the snapshot directory (an absolute path on the worker host)');

export const schemaConvertParams = conversionOptionsSchema.extend({ source: connectionName }).strict();
export const schemaApplyParams = conversionOptionsSchema
  .extend({
    /** Read the schema from a live source connection or from a snapshot's manifest. */
    source: connectionName.optional(),
    snapshot: snapshotDir.optional(),
    target: connectionName,
    /** pre-load: bare tables; post-load: keys, indexes, checks, foreign keys, identity sequences. */
    phase: z.enum(['pre-load', 'post-load']),
    /** pre-load only: drop target tables that already exist (a rehearsal's leftovers) instead of refusing. */
    replace: z.boolean().default(false),
  })
  .strict()
  .refine((p) => (p.source === undefined) !== (p.snapshot === undefined), { message: 'expected exactly one of "source" or "snapshot"' });
export const etlCopyParams = conversionOptionsSchema
  .extend({
    source: connectionName,
    target: connectionName,
    ...loadOptions,
    /** Threads that read and encode chunks (default: as many as `parallel`); 0 does it all on the worker's own thread. */
    threads: z.number().int().min(0).max(16).optional(),
  })
  .strict();
export const extractParams = conversionOptionsSchema
  .extend({ source: connectionName, dir: snapshotDir, chunk_rows: loadOptions.chunk_rows, parallel: loadOptions.parallel })
  .strict();
/** Seed 000 step 2.2: check a transferred snapshot before the window relies on it. */
export const snapshotVerifyParams = z
  .object({
    dir: snapshotDir,
    /** Also decompress every chunk and check its row count and row hash (not only the files' sha256). */
    content: z.boolean().default(true),
  })
  .strict();

export const loadParams = z
  .object({
    dir: snapshotDir,
    target: connectionName,
    /** Only these of the snapshot's tables (source name, "dbo.Antrag" or "Antrag", case-insensitive): one group of a load split over steps. */
    tables: conversionOptionsSchema.shape.tables,
    parallel: loadOptions.parallel,
    bookkeeping_schema: loadOptions.bookkeeping_schema,
    fan_out: loadOptions.fan_out,
    /** Must match the extract's conversion: wall-clock times read as instants in this zone. */
    timezone: conversionOptionsSchema.shape.timezone,
  })
  .strict();

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

export type SchemaConvertParams = z.infer<typeof schemaConvertParams>;
export type SchemaApplyParams = z.infer<typeof schemaApplyParams>;
export type EtlCopyParams = z.infer<typeof etlCopyParams>;
export type ExtractParams = z.infer<typeof extractParams>;
export type LoadParams = z.infer<typeof loadParams>;
export type SnapshotVerifyParams = z.infer<typeof snapshotVerifyParams>;
export type EtlSyncParams = z.infer<typeof etlSyncParams>;
