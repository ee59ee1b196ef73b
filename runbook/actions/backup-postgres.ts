import { z } from 'zod';
import { connectionName } from './common-params.js';
import { defineAction, rerun } from './spec.js';

const schemaName = z.string().min(1, 'expected a schema name');

export const backupPostgresParams = z
  .object({
    connection: connectionName,
    /** Directory on the worker host the dump is written to: absolute, or relative to the worker's working directory. */
    dir: z.string().min(1, 'expected a directory on the worker host'),
    /** Only these schemas (exact names); absent: the whole database. */
    schemas: z.array(schemaName).min(1, 'expected at least one schema, or leave `schemas` out for the whole database').optional(),
    /** Also record a go-live checkpoint: pg_current_wal_lsn() and now() after the dump (seed 000 step 7.3). */
    checkpoint: z.boolean().default(false),
  })
  .strict();
export type BackupPostgresParams = z.infer<typeof backupPostgresParams>;

export const backupPostgresSpec = defineAction({
  id: 'backup.postgres',
  watchHealth: true,
  summary: 'pg_dump -Fc of the target (database or schemas) to a file with its sha256, verified with pg_restore --list',
  params: backupPostgresParams,
  recovery: rerun('a re-run writes another dump under a new name; a file is listed only once verified'),
  connections: (p: BackupPostgresParams) => [p.connection],
});
