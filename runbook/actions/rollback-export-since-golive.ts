import { z } from 'zod';
import { connectionName } from './common-params.js';
import { conversionOptionsSchema } from './conversion-params.js';
import { defineAction, rerun } from './spec.js';

const qualifiedName = z.string().regex(/^[^.\s]+\.[^.\s]+$/, 'expected schema.table');

/** A source column filled from the target row: a target column's name, or a PostgreSQL expression over the row `t`. */
const columnSource = z.union([
  z.string().min(1),
  z.object({ sql: z.string().min(1, 'expected a PostgreSQL expression over the target row t, e.g. "t.is_active::int"') }).strict(),
]);

export const exportTableSpec = z
  .object({
    /** The target table (schema.table) the application writes. */
    table: qualifiedName,
    /** Its modified-at column: rows with a value at or after go-live are replayed. */
    changed_column: z.string().min(1),
    /**
     * The SQL Server table the rows go back to. A table the conversion made (in its target_schema) finds its
     * source there; a table built by a transform names it with its `columns`.
     */
    source_table: qualifiedName.optional(),
    /** Transformed tables: each source column filled → the target column or { sql } that fills it. */
    columns: z.record(z.string().min(1), columnSource).optional(),
    /**
     * After the replay the SQL Server table must hold as many rows as the target table (the script checks
     * it before COMMIT); false where the transform does not keep rows 1:1.
     */
    same_row_count: z.boolean().default(true),
  })
  .strict()
  .refine((t) => t.columns === undefined || t.source_table !== undefined, {
    message: 'a table with "columns" needs its "source_table" (the SQL Server table the columns belong to)',
    path: ['source_table'],
  });
export type ExportTableSpec = z.infer<typeof exportTableSpec>;

/**
 * rollback.export_since_golive: the rows are mapped back through the same conversion the load used
 * (the snapshot's manifest, or the live source's catalog, with the step's conversion options).
 */
export const exportSinceGoliveParams = conversionOptionsSchema
  .extend({
    target: connectionName,
    /** The catalog the load converted: a live source connection, or the snapshot the load read. */
    source: connectionName.optional(),
    snapshot: z.string().min(1, 'expected the snapshot directory the load read').optional(),
    tables: z.array(exportTableSpec).min(1),
    /** The go-live time; when absent the engine asks the run for its recorded go-live time. */
    since: z.iso.datetime({ offset: true }).optional(),
    /** Directory the T-SQL script and CSV files are written to: absolute, or relative to the worker's working directory. */
    dir: z.string().min(1, 'expected a directory on the worker host'),
  })
  .strict()
  .refine((p) => (p.source === undefined) !== (p.snapshot === undefined), {
    message: 'expected exactly one of "source" (the SQL Server connection) or "snapshot" (the directory the load read): the export maps rows back through the same conversion',
  })
  .superRefine((p, ctx) => {
    // A table outside the conversion's schema was not loaded 1:1, so nothing says which source columns it fills.
    p.tables.forEach((t, i) => {
      if (t.columns !== undefined || t.table.slice(0, t.table.indexOf('.')) === p.target_schema) return;
      ctx.addIssue({
        code: 'custom',
        path: ['tables', i, 'columns'],
        message: `${t.table} is not in the conversion's target_schema "${p.target_schema}", so it was built by a transform: give source_table and columns (each SQL Server column → the target column or { sql } that fills it)`,
      });
    });
  });
export type ExportSinceGoliveParams = z.infer<typeof exportSinceGoliveParams>;

export const rollbackExportSinceGoliveSpec = defineAction({
  id: 'rollback.export_since_golive',
  summary: 'post-go-live rollback: export rows written in PostgreSQL since go-live as a T-SQL replay script and CSVs',
  params: exportSinceGoliveParams,
  recovery: rerun('it only reads the target; each file is written under a temporary name and renamed once complete, so a re-run rewrites the same files'),
  connections: (p: ExportSinceGoliveParams) => [p.target, ...(p.source ? [p.source] : [])],
});
