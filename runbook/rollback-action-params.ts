import { z } from 'zod';
import type { HttpParams, ShellParams, SqlParams } from './command-action-params.js';
import { conversionOptionsSchema } from './etl-action-params.js';

/**
 * Parameters of the go-live switch and of the rollback actions (issue 5).
 * The switch wraps other catalog actions; their schemas are handed in by the
 * catalog (switchParamsSchema) so this module never imports the catalog at
 * runtime and no import cycle arises.
 */

const connectionName = z.string().min(1, 'expected the name of a connection declared under connections');

/** A flip or smoke step as the switch runs it, its params already parsed by the inner action's schema. */
export type SwitchStep =
  | { action: 'shell'; params: ShellParams }
  | { action: 'http'; params: HttpParams }
  | { action: 'sql'; params: SqlParams };
/** The target tables whose deletions after go-live are recorded (cutover.deleted_since_golive), on one connection. */
export interface TrackDeletes {
  connection: string;
  tables: string[];
}
export interface SwitchParams {
  flip: SwitchStep;
  smoke: SwitchStep[];
  track_deletes?: TrackDeletes;
}

export interface SwitchInnerSchemas {
  shell: z.ZodType<ShellParams>;
  http: z.ZodType<HttpParams>;
  sql: z.ZodType<SqlParams>;
}

const rawStep = (actions: readonly ['shell', 'http', 'sql'] | readonly ['http', 'sql']) =>
  z.object({ action: z.enum(actions), params: z.record(z.string(), z.unknown()) }).strict();

/**
 * `switch`: a flip (shell, http or sql) then smoke checks (http or sql). The
 * inner params are validated with the catalog schema of their action inside
 * superRefine, so a bad inner step is a load-time error carrying its path
 * (e.g. flip.params.argv).
 */
export function switchParamsSchema(inner: SwitchInnerSchemas): z.ZodType<SwitchParams> {
  const parseStep = (step: { action: 'shell' | 'http' | 'sql'; params: unknown }) => inner[step.action].safeParse(step.params);
  return z
    .object({
      flip: rawStep(['shell', 'http', 'sql']),
      smoke: z.array(rawStep(['http', 'sql'])).default([]),
      /**
       * Tables whose deletions the post-go-live export must replay: the switch installs a trigger on each
       * (in the flip's transaction when the flip is SQL on this connection) that keeps their deleted keys.
       */
      track_deletes: z
        .object({ connection: connectionName, tables: z.array(z.string().regex(/^[^.\s]+\.[^.\s]+$/, 'expected schema.table')).min(1) })
        .strict()
        .optional(),
    })
    .strict()
    .superRefine((p, ctx) => {
      const steps = [{ step: p.flip, path: ['flip'] as (string | number)[] }, ...p.smoke.map((step, i) => ({ step, path: ['smoke', i] }))];
      for (const { step, path } of steps) {
        const parsed = parseStep(step);
        if (parsed.success) continue;
        for (const issue of parsed.error.issues) {
          ctx.addIssue({ code: 'custom', message: issue.message, path: [...path, 'params', ...issue.path.map((k) => (typeof k === 'symbol' ? String(k) : k))] });
        }
      }
    })
    .transform((p): SwitchParams => ({ flip: toStep(p.flip), smoke: p.smoke.map(toStep), ...(p.track_deletes ? { track_deletes: p.track_deletes } : {}) }));

  // Only reached after superRefine accepted every step, so parse cannot throw here.
  function toStep(step: { action: 'shell' | 'http' | 'sql'; params: unknown }): SwitchStep {
    switch (step.action) {
      case 'shell':
        return { action: 'shell', params: inner.shell.parse(step.params) };
      case 'http':
        return { action: 'http', params: inner.http.parse(step.params) };
      case 'sql':
        return { action: 'sql', params: inner.sql.parse(step.params) };
    }
  }
}

/** Connections a switch touches (its sql flip and sql smoke checks), for load-time checks. */
export const switchConnections = (p: SwitchParams): string[] => [
  ...[p.flip, ...p.smoke].flatMap((s) => (s.action === 'sql' ? [s.params.connection] : [])),
  ...(p.track_deletes ? [p.track_deletes.connection] : []),
];

export const truncateLoadedParams = z
  .object({
    target: connectionName,
    /** Schema of the ETL bookkeeping (cutover_etl.chunks) on the target. */
    etl_schema: z.string().min(1).default('cutover_etl'),
  })
  .strict();
export type TruncateLoadedParams = z.infer<typeof truncateLoadedParams>;

export const verifySourceParams = z
  .object({
    source: connectionName,
    sql: z.string().min(1).default('SELECT 1'),
    /**
     * A rollback.export_since_golive step whose replay script was run on the source: each of its tables must
     * now hold the rows the target held (the script's own "rows after" figures).
     */
    export_step: z.string().min(1, 'expected the id of the rollback.export_since_golive step').optional(),
  })
  .strict();
export type VerifySourceParams = z.infer<typeof verifySourceParams>;

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

const backupRef = z.string().regex(/^backup\.[a-z0-9][a-z0-9_-]*$/, 'expected "backup.<id of a backup.postgres step>", e.g. backup.pg-golive');

export const restorePostgresParams = z
  .object({
    target: connectionName,
    /** A dump file and its sha256, known when the runbook is written … */
    file: z.string().regex(/^\//, 'expected an absolute path to a pg_dump -Fc file').optional(),
    sha256: z.string().regex(/^[0-9a-f]{64}$/i, 'expected the 64 hex digits of the backup\'s sha256').optional(),
    /**
     * … or the backups this run made: the first of these steps (in the order given) whose
     * verified dump is in the run's backup catalogue, e.g. [backup.pg-golive, backup.pg-before].
     */
    from: z
      .union([backupRef, z.array(backupRef).min(1)])
      .transform((r) => (Array.isArray(r) ? r : [r]))
      .optional(),
    schemas: z.array(z.string().min(1)).min(1).optional(),
    /** Row counts the backup catalogue recorded per schema.table; when given, the restored counts must equal them. */
    expect_rows: z.record(z.string(), z.number().int().nonnegative()).optional(),
  })
  .strict()
  .refine((p) => (p.from === undefined ? p.file !== undefined && p.sha256 !== undefined : p.file === undefined && p.sha256 === undefined), {
    message: 'expected either "file" with its "sha256", or "from: backup.<step id>" (a backup this run makes)',
  });
export type RestorePostgresParams = z.infer<typeof restorePostgresParams>;
