/**
 * The T-SQL of backup.mssql, pure so it is unit-tested without a server.
 * Names are bracket-quoted; the file path and database name travel as
 * parameters (@file, @db): BACKUP … TO DISK and RESTORE … FROM DISK accept a
 * variable, so no path is ever spliced into SQL.
 */

/** [name] with `]` doubled, the way QUOTENAME does it; refuses names SQL Server could not have. */
export function quoteName(name: string): string {
  if (name.length === 0 || name.length > 128) throw new RangeError(`expected a SQL Server name of 1 to 128 characters, got ${name.length}`);
  if (name.includes('\u0000')) throw new RangeError('a SQL Server name cannot contain NUL');
  return `[${name.replaceAll(']', ']]')}]`;
}

/** Full copy-only backup: it must not reset the differential base or break the log chain of the regular backups. */
export function backupDatabaseSql(database: string, options: { compression: boolean }): string {
  const withs = ['COPY_ONLY', 'CHECKSUM', ...(options.compression ? ['COMPRESSION'] : []), 'INIT', 'FORMAT', 'STATS = 10'];
  return `BACKUP DATABASE ${quoteName(database)} TO DISK = @file WITH ${withs.join(', ')};`;
}

/** VERIFYONLY alone checks the media; WITH CHECKSUM also re-checks the page checksums BACKUP … WITH CHECKSUM wrote. */
export const VERIFY_SQL = 'RESTORE VERIFYONLY FROM DISK = @file WITH CHECKSUM;';

/** The msdb record of the backup just written (newest for this file); needs read access to msdb. */
export const BACKUPSET_SQL = `SELECT TOP (1) CONVERT(varchar(40), bs.first_lsn) AS first_lsn, CONVERT(varchar(40), bs.last_lsn) AS last_lsn,
       bs.backup_size, bs.compressed_backup_size, bs.backup_start_date, bs.backup_finish_date
  FROM msdb.dbo.backupset AS bs
  JOIN msdb.dbo.backupmediafamily AS mf ON mf.media_set_id = bs.media_set_id
 WHERE bs.database_name = @db AND mf.physical_device_name = @file AND bs.type = 'D'
 ORDER BY bs.backup_finish_date DESC;`;

/** Seed 000 "transaction log backup chain intact": the recovery model and the age of the last log backup. */
export const LOG_CHAIN_SQL = `SELECT d.recovery_model_desc AS recovery_model,
       DATEDIFF(second, (SELECT MAX(b.backup_finish_date) FROM msdb.dbo.backupset AS b WHERE b.database_name = d.name AND b.type = 'L'), GETDATE()) AS log_backup_age_seconds
  FROM sys.databases AS d
 WHERE d.name = @db;`;

export const DATABASE_SQL = 'SELECT DB_NAME() AS db, @@VERSION AS version;';

export type CheckVerdict = 'green' | 'amber';

export interface LogChainCheck {
  check: 'log-chain';
  verdict: CheckVerdict;
  recoveryModel: string | null;
  lastLogBackupAgeSeconds: number | null;
  message: string;
}

/**
 * The log-chain checklist item as a verdict. Amber, not a failure: a SIMPLE
 * database has no chain to keep, which the team should know, not be stopped by.
 */
export function logChainCheck(recoveryModel: string | null, ageSeconds: number | null, maxAgeSeconds: number): LogChainCheck {
  const base = { check: 'log-chain' as const, recoveryModel, lastLogBackupAgeSeconds: ageSeconds };
  const minutes = (s: number): string => `${Math.round(s / 60)} min`;
  if (recoveryModel === null) return { ...base, verdict: 'amber', message: 'recovery model not readable; check the log backup chain by hand' };
  if (recoveryModel === 'SIMPLE') return { ...base, verdict: 'amber', message: 'recovery model SIMPLE: there is no log backup chain, so no point-in-time restore of the source' };
  if (ageSeconds === null) return { ...base, verdict: 'amber', message: `recovery model ${recoveryModel} but no log backup recorded in msdb: the log chain is not established` };
  if (ageSeconds > maxAgeSeconds) return { ...base, verdict: 'amber', message: `recovery model ${recoveryModel}; the last log backup is ${minutes(ageSeconds)} old (more than ${minutes(maxAgeSeconds)})` };
  return { ...base, verdict: 'green', message: `recovery model ${recoveryModel}; last log backup ${minutes(ageSeconds)} ago` };
}

/** Where the backup goes on the SQL Server host; the separator follows the directory's own (Windows or Linux server). */
export function backupFilePath(dir: string, name: string): string {
  const sep = dir.includes('\\') && !dir.includes('/') ? '\\' : '/';
  return dir.endsWith(sep) ? `${dir}${name}` : `${dir}${sep}${name}`;
}
