/**
 * The T-SQL of freeze.source / unfreeze.source, pure so it is unit-tested
 * without a server. Database and login names are bracket-quoted (QUOTENAME's
 * rule) where T-SQL wants a name, and N'…'-quoted where it wants a value;
 * the database name for DB_ID / DATABASEPROPERTYEX travels as @db.
 */
export { quoteName } from '../backup/mssql-backup-sql.js';
import { quoteName } from '../backup/mssql-backup-sql.js';

/** N'text' with ' doubled: a Unicode string literal. */
export function nLiteral(text: string): string {
  if (text.includes('\u0000')) throw new RangeError('a SQL Server string cannot contain NUL here');
  return `N'${text.replaceAll("'", "''")}'`;
}

/**
 * Who is connected to the database: login, host, program, the age of the
 * last request, what runs now and open transactions. The action's own
 * session (@@SPID) is left out; system sessions too. The connection row is
 * taken once per session (MARS gives a session several).
 */
export const SESSIONS_SQL = `SELECT s.session_id AS id, s.login_name AS login, s.host_name AS host, s.program_name AS program,
       c.client_net_address AS address, s.status AS status, r.command AS command, r.status AS request_status,
       DATEDIFF(second, COALESCE(r.start_time, s.last_request_start_time), GETDATE()) AS idle_seconds,
       s.open_transaction_count AS open_transactions
  FROM sys.dm_exec_sessions AS s
  OUTER APPLY (SELECT TOP (1) cn.client_net_address FROM sys.dm_exec_connections AS cn WHERE cn.session_id = s.session_id ORDER BY cn.connect_time) AS c
  LEFT JOIN sys.dm_exec_requests AS r ON r.session_id = s.session_id
 WHERE s.database_id = DB_ID(@db) AND s.session_id <> @@SPID AND s.is_user_process = 1
 ORDER BY s.login_name, s.session_id;`;

/** Without VIEW SERVER STATE, sys.dm_exec_sessions shows a login only its own sessions: an empty list would prove nothing. */
export const VIEW_SERVER_STATE_SQL = `SELECT HAS_PERMS_BY_NAME(NULL, NULL, 'VIEW SERVER STATE') AS can_see;`;

/** The database's current name and whether it accepts writes ('READ_ONLY' / 'READ_WRITE'). */
export const UPDATEABILITY_SQL = `SELECT DB_NAME() AS current_db, CONVERT(nvarchar(20), DATABASEPROPERTYEX(@db, 'Updateability')) AS updateability;`;

/**
 * The freeze itself. Run from master: the statement needs exclusive access,
 * and WITH ROLLBACK IMMEDIATE rolls back and disconnects every other session
 * in the database at once (waiting would let writers go on).
 */
export function setReadOnlySql(database: string): string {
  return `USE [master];\nALTER DATABASE ${quoteName(database)} SET READ_ONLY WITH ROLLBACK IMMEDIATE;`;
}

/** The undo; READ_WRITE also needs exclusive access, and only readers remain to be rolled back. */
export function setReadWriteSql(database: string): string {
  return `USE [master];\nALTER DATABASE ${quoteName(database)} SET READ_WRITE WITH ROLLBACK IMMEDIATE;`;
}

/** Whether each login exists and is disabled. */
export function loginStateSql(logins: readonly string[]): string {
  return `SELECT name, is_disabled FROM sys.server_principals WHERE type IN ('S', 'U', 'G') AND name IN (${logins.map(nLiteral).join(', ')});`;
}

/** Disables (or enables) the application's logins; server-wide, as SQL Server has no per-database login switch. */
export function loginsSql(logins: readonly string[], action: 'DISABLE' | 'ENABLE'): string {
  return logins.map((l) => `ALTER LOGIN ${quoteName(l)} ${action};`).join('\n');
}

/** Ends every session of these logins except this one: a disabled login keeps the sessions it already has. */
export function killLoginSessionsSql(logins: readonly string[]): string {
  return `DECLARE @kill nvarchar(max) = N'';
SELECT @kill += N'KILL ' + CONVERT(nvarchar(10), session_id) + N'; '
  FROM sys.dm_exec_sessions
 WHERE login_name IN (${logins.map(nLiteral).join(', ')}) AND session_id <> @@SPID AND is_user_process = 1;
EXEC sys.sp_executesql @kill;`;
}

/**
 * The write probe: inside a transaction that is always rolled back, a write
 * that a frozen database must refuse (error 3906, "the database is
 * read-only"). The default creates a table, which needs no knowledge of the
 * application's schema.
 */
export function probeSql(database: string, probe: string | undefined, tag: string): string {
  const write = probe ?? `CREATE TABLE dbo.${quoteName(`cutover_freeze_probe_${tag}`)} (probe int);`;
  return `SET XACT_ABORT ON;\nUSE ${quoteName(database)};\nBEGIN TRANSACTION;\n${write}\nROLLBACK TRANSACTION;`;
}

/** SQL Server's "Failed to update database because the database is read-only". */
export const READ_ONLY_ERROR = 3906;
