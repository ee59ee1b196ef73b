import { z } from 'zod';
import { connectionName } from './common-params.js';
import { defineAction } from './spec.js';

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

export const restorePostgresSpec = defineAction({
  id: 'restore.postgres',
  watchHealth: true,
  summary: 'emergency rollback: verify a pg_dump backup, restore it with pg_restore --clean, count the restored rows',
  params: restorePostgresParams,
  recovery: () => ({ kind: 'ask', why: 'pg_restore --clean replaces what it restores: a second restore would drop anything written since the first' }),
  connections: (p: RestorePostgresParams) => [p.target],
});
