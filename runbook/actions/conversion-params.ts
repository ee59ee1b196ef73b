import { z } from 'zod';
import { identifier } from './common-params.js';

/**
 * The conversion options schema.apply, etl.copy, extract, load and the
 * validations share, so that the steps of one runbook agree on the same table
 * mapping (recomputed from the same catalog, not stored); and the load options
 * of the actions that load chunks.
 */
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

export const loadOptions = {
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
