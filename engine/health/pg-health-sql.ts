/**
 * The PostgreSQL side of the health watch: read-only catalog queries, run on
 * a connection of their own (application_name HEALTH_APP, excluded from what
 * they report). None takes a heavyweight lock; pg_blocking_pids, which
 * briefly locks the lock manager, is called only for sessions already
 * waiting on a lock.
 */

/** The application_name of the sampler's own connections: never reported as a waiter or a blocker. */
export const HEALTH_APP = 'cutover-health';

/** Server facts, session counts and the cumulative deadlock counter of this database. */
export const PG_OVERVIEW_SQL = `
SELECT current_setting('server_version_num')::int AS version,
       pg_is_in_recovery() AS in_recovery,
       pg_has_role(current_user, 'pg_read_all_stats', 'USAGE') AS read_all_stats,
       (SELECT setting FROM pg_settings WHERE name = 'data_directory') AS data_directory,
       (SELECT deadlocks FROM pg_stat_database WHERE datname = current_database())::float8 AS deadlocks,
       count(*) FILTER (WHERE a.state = 'active')::int AS active,
       count(*) FILTER (WHERE a.state LIKE 'idle in transaction%')::int AS idle_in_transaction,
       count(*)::int AS total
FROM pg_stat_activity a
WHERE a.datname = current_database()
  AND a.backend_type = 'client backend'
  AND a.pid <> pg_backend_pid()
  AND a.application_name <> '${HEALTH_APP}'`;

/**
 * Sessions worth showing: lock waiters of this database with the pids
 * blocking them, every blocker (in whatever database, autovacuum included),
 * and statements running longer than $1 seconds. The wait is timed from
 * pg_locks.waitstart (PostgreSQL 14+), else from the statement's start.
 */
export function pgActivitySql(hasWaitStart: boolean): string {
  const waitStart = hasWaitStart ? 'coalesce(w.waitstart, a.query_start)' : 'a.query_start';
  const lockWaits = hasWaitStart ? 'SELECT pid, min(waitstart) AS waitstart FROM pg_locks WHERE NOT granted GROUP BY pid' : 'SELECT NULL::int AS pid, NULL::timestamptz AS waitstart WHERE false';
  return `
WITH activity AS (
  SELECT a.*,
         CASE WHEN a.wait_event_type = 'Lock' AND a.datname = current_database() THEN pg_blocking_pids(a.pid) ELSE '{}'::int[] END AS blocked_by
  FROM pg_stat_activity a
  WHERE a.pid <> pg_backend_pid()
    AND a.backend_type IN ('client backend', 'autovacuum worker')
    AND coalesce(a.application_name, '') <> '${HEALTH_APP}'
), blockers AS (
  SELECT DISTINCT unnest(blocked_by) AS pid FROM activity
), lock_waits AS (
  ${lockWaits}
)
SELECT a.pid, coalesce(a.datname = current_database(), false) AS here, a.application_name, a.usename, host(a.client_addr) AS client_addr, a.backend_type, a.state,
       a.wait_event_type, a.wait_event,
       extract(epoch FROM now() - a.xact_start)::float8 AS xact_seconds,
       extract(epoch FROM now() - a.query_start)::float8 AS query_seconds,
       CASE WHEN a.wait_event_type = 'Lock' THEN extract(epoch FROM now() - ${waitStart})::float8 END AS wait_seconds,
       a.blocked_by,
       left(a.query, 400) AS query
FROM activity a
LEFT JOIN lock_waits w ON w.pid = a.pid
WHERE (a.datname = current_database() AND a.wait_event_type = 'Lock')
   OR a.pid IN (SELECT pid FROM blockers)
   OR (a.datname = current_database() AND a.state = 'active' AND a.query_start < now() - make_interval(secs => $1))
ORDER BY wait_seconds DESC NULLS LAST, query_seconds DESC NULLS LAST
LIMIT 200`;
}

/** On a primary: each standby's state and how far its replay is behind, in time and in WAL bytes. */
export const PG_REPLICAS_SQL = `
SELECT coalesce(nullif(application_name, ''), host(client_addr), 'standby') AS name,
       coalesce(state, 'unknown') AS state,
       extract(epoch FROM replay_lag)::float8 AS replay_lag_seconds,
       pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::float8 AS replay_lag_bytes
FROM pg_stat_replication
ORDER BY 1`;

/** On a standby: how far replay is behind what was received (0 when caught up: an idle primary is not lag). */
export const PG_STANDBY_SQL = `
SELECT CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
            ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp()) END::float8 AS replay_lag_seconds,
       pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())::float8 AS replay_lag_bytes`;

/**
 * Tablespaces with their location ('' = the data directory) and size where
 * this role may compute it (pg_tablespace_size needs CREATE on it or
 * pg_read_all_stats, except for the database's default tablespace).
 */
export const PG_TABLESPACES_SQL = `
SELECT t.spcname, pg_tablespace_location(t.oid) AS location,
       CASE WHEN t.oid = d.dattablespace OR has_tablespace_privilege(t.oid, 'CREATE') OR pg_has_role(current_user, 'pg_read_all_stats', 'USAGE')
            THEN pg_tablespace_size(t.oid)::float8 END AS bytes
FROM pg_tablespace t
CROSS JOIN (SELECT dattablespace FROM pg_database WHERE datname = current_database()) d
WHERE t.spcname <> 'pg_global'
ORDER BY t.spcname`;
