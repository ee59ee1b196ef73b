import { z } from 'zod';
import { durationSchema } from '../duration.js';
import { connectionName } from './common-params.js';
import { defineAction, rerun } from './spec.js';

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

export const backupMssqlSpec = defineAction({
  id: 'backup.mssql',
  watchHealth: true,
  summary: 'BACKUP DATABASE … WITH COPY_ONLY, CHECKSUM, then RESTORE VERIFYONLY; reports the log-chain check',
  params: backupMssqlParams,
  recovery: rerun('a re-run writes another COPY_ONLY backup under a new name, which leaves the log chain alone'),
  connections: (p: BackupMssqlParams) => [p.connection],
});
