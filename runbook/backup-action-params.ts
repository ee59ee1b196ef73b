import { z } from 'zod';
import { durationSchema } from './duration.js';

/**
 * Parameters of the backup actions (issue 5). A backup step's id is what
 * other steps name in `requires: [backup.<id>]`, and what `/migrate backups`
 * lists.
 */
const connectionName = z.string().min(1, 'expected the name of a connection declared under connections');
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

export const backupMssqlParams = z
  .object({
    connection: connectionName,
    /** The database to back up; absent: the connection's database. */
    database: z.string().min(1).max(128, 'expected a database name of at most 128 characters').optional(),
    /** Directory on the SQL Server host (its service account must be able to write there). */
    dir: z.string().min(1, 'expected a directory on the SQL Server host, e.g. D:\\Backups'),
    compression: z.boolean().default(false),
    /** The log-chain check turns amber when the last log backup is older than this (seed 000: "log backup chain intact"). */
    max_log_backup_age: durationSchema.default(3600),
  })
  .strict();
export type BackupMssqlParams = z.infer<typeof backupMssqlParams>;

/** Action ids that produce a catalogued backup; `requires: backup.<id>` must name a step with one of them. */
export const BACKUP_ACTIONS: readonly string[] = ['backup.postgres', 'backup.mssql'];
