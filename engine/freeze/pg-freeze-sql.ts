import { quoteIdent } from '../schema/naming.js';

/**
 * The PostgreSQL side of freeze.source / unfreeze.source, pure. PostgreSQL
 * has no read-only database: `default_transaction_read_only` makes every new
 * session read-only by default, but any session may `SET` it off or `BEGIN
 * READ WRITE`. So the freeze also takes LOGIN from the application's roles,
 * ends every other session, and refuses to call itself proven while another
 * login role could still write (see residualWritersSql).
 */

/** Who is connected to the database, except this session; of a running statement only its first word (no literals, no personal data). */
export const SESSIONS_SQL = `SELECT pid::text AS id, usename AS login, coalesce(client_hostname, host(client_addr)) AS host,
       application_name AS program, state AS status,
       CASE WHEN state = 'active' THEN upper(substring(ltrim(query) FROM '^[A-Za-z]+')) END AS command,
       extract(epoch FROM now() - coalesce(state_change, backend_start))::int AS idle_seconds,
       (xact_start IS NOT NULL)::int AS open_transactions
  FROM pg_stat_activity
 WHERE datname = $1 AND pid <> pg_backend_pid() AND backend_type = 'client backend'
 ORDER BY usename, pid`;

/** Whether the database defaults new sessions to read-only (a per-database setting, role 0). */
export const READ_ONLY_SETTING_SQL = `SELECT EXISTS (
  SELECT 1 FROM pg_db_role_setting AS s JOIN pg_database AS d ON d.oid = s.setdatabase, unnest(s.setconfig) AS c(setting)
   WHERE d.datname = $1 AND s.setrole = 0
     AND lower(c.setting) IN ('default_transaction_read_only=on', 'default_transaction_read_only=true', 'default_transaction_read_only=1', 'default_transaction_read_only=yes')
) AS read_only`;

/** Roles whose own setting turns read-only off again (ALTER ROLE … [IN DATABASE …] SET default_transaction_read_only = off): they win over the database's. */
export const ROLE_OVERRIDES_SQL = `SELECT DISTINCT r.rolname AS role
  FROM pg_db_role_setting AS s JOIN pg_roles AS r ON r.oid = s.setrole, unnest(s.setconfig) AS c(setting)
 WHERE (s.setdatabase = 0 OR s.setdatabase = (SELECT oid FROM pg_database WHERE datname = $1))
   AND lower(c.setting) LIKE 'default_transaction_read_only=%'
   AND lower(split_part(c.setting, '=', 2)) IN ('off', 'false', '0', 'no')
 ORDER BY 1`;

/** Whether each named role exists and may log in. */
export const ROLE_STATE_SQL = `SELECT rolname AS name, rolcanlogin AS can_login FROM pg_roles WHERE rolname = ANY($1::text[]) ORDER BY rolname`;

/**
 * Login roles that could still write after the freeze: they may connect to
 * this database and hold a write privilege on one of its tables (directly,
 * through a group, or as owner), so they could set read-only off and write.
 * Superusers, this session's role and the given (frozen or trusted) roles are
 * left out; run it connected to the database itself (pg_class is per database).
 */
export const RESIDUAL_WRITERS_SQL = `SELECT r.rolname AS role, count(*)::int AS tables
  FROM pg_roles AS r
  JOIN pg_class AS c ON c.relkind IN ('r', 'p')
  JOIN pg_namespace AS n ON n.oid = c.relnamespace
 WHERE r.rolcanlogin AND NOT r.rolsuper AND r.rolname <> current_user AND NOT (r.rolname = ANY($1::text[]))
   AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'
   AND has_database_privilege(r.oid, current_database(), 'CONNECT')
   AND has_table_privilege(r.oid, c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE')
 GROUP BY r.rolname
 ORDER BY r.rolname`;

/** Superusers that may log in: they can always write; named in the report so nobody believes otherwise. */
export const SUPERUSERS_SQL = `SELECT rolname AS role FROM pg_roles WHERE rolsuper AND rolcanlogin AND rolname <> current_user ORDER BY 1`;

/**
 * The freeze, in one transaction so it is all or nothing: the application's
 * roles lose LOGIN first (so they cannot come back between the steps), then
 * the database defaults every new session to read-only. Statements are sent
 * one by one: in one multi-statement query the SET would come too late for
 * the implicit transaction around it.
 */
export function freezeSql(database: string, appRoles: readonly string[]): string[] {
  return [
    // A re-run finds the database frozen and this session read-only by default; it must still be able to ALTER.
    'SET default_transaction_read_only = off',
    'BEGIN',
    ...appRoles.map((r) => `ALTER ROLE ${quoteIdent(r)} NOLOGIN`),
    `ALTER DATABASE ${quoteIdent(database)} SET default_transaction_read_only = on`,
    'COMMIT',
  ];
}

/**
 * The undo. This session itself starts read-only once the database is
 * frozen, and ALTER is refused in a read-only transaction: the first
 * statement turns that off for this session only.
 */
export function unfreezeSql(database: string, appRoles: readonly string[]): string[] {
  return [
    'SET default_transaction_read_only = off',
    'BEGIN',
    `ALTER DATABASE ${quoteIdent(database)} RESET default_transaction_read_only`,
    ...appRoles.map((r) => `ALTER ROLE ${quoteIdent(r)} LOGIN`),
    'COMMIT',
  ];
}

/** Ends one session; run per pid so one refusal (a superuser's session) does not stop the others. */
export const TERMINATE_SQL = 'SELECT pg_terminate_backend($1::int) AS ended';

/** Other sessions of the database right now (after the freeze: ended one by one). */
export const OTHER_PIDS_SQL = `SELECT pid, usename AS login FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid() AND backend_type = 'client backend'`;

/** The default write probe: creating a table, which a read-only transaction refuses (SQLSTATE 25006) before any privilege check. */
export const probeTable = (tag: string): string => `CREATE TABLE ${quoteIdent(`cutover_freeze_probe_${tag}`)} (probe int)`;

/** SQLSTATE read_only_sql_transaction. */
export const READ_ONLY_SQLSTATE = '25006';
