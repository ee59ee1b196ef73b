/**
 * The SQL Server side of the health watch, read-only DMV queries run on a
 * session of their own (program_name HEALTH_PROGRAM, excluded from what they
 * report). They need VIEW SERVER STATE (SQL Server 2022: VIEW SERVER
 * PERFORMANCE STATE); without it the DMVs show the caller's own session
 * only, so the sampler checks first and says so instead of reporting calm.
 *
 * Deadlocks are counted with the "Number of Deadlocks/sec" performance
 * counter (cumulative despite its name), which is cheap to read every few
 * seconds; their graphs stay in the system_health Extended Events session,
 * whose ring buffer is too heavy to parse on every sample.
 */

export const HEALTH_PROGRAM = 'cutover-health';

/** 1 when this login may read other sessions in the DMVs. */
export const MSSQL_PERMISSION_SQL = `
SELECT CAST(CASE WHEN COALESCE(HAS_PERMS_BY_NAME(NULL, NULL, 'VIEW SERVER STATE'), 0) = 1
                   OR COALESCE(HAS_PERMS_BY_NAME(NULL, NULL, 'VIEW SERVER PERFORMANCE STATE'), 0) = 1
            THEN 1 ELSE 0 END AS int) AS view_server_state`;

/** The statement a request is executing, cut from its batch by the request's offsets. */
const CURRENT_STATEMENT = `LEFT(SUBSTRING(t.text, r.statement_start_offset / 2 + 1,
         CASE WHEN r.statement_end_offset = -1 THEN 8000 ELSE (r.statement_end_offset - r.statement_start_offset) / 2 + 1 END), 400)`;

/**
 * One batch, four result sets (input @long_ms):
 *  0. waiters in this database: per session its longest-waiting task that is
 *     blocked by another session or waits on a lock (parallel tasks waiting
 *     on their own session are not blocking);
 *  1. every session blocking another, with its status, open transaction age
 *     and most recent statement (a head blocker is often asleep in an open
 *     transaction and has no request);
 *  2. requests in this database running longer than @long_ms (top 10, and the count);
 *  3. session counts and the cumulative deadlock counter.
 */
export const MSSQL_HEALTH_BATCH = `
SET NOCOUNT ON;
SET LOCK_TIMEOUT 5000;
SET TRANSACTION ISOLATION LEVEL READ UNCOMMITTED;
DECLARE @me int = @@SPID;
DECLARE @db int = DB_ID();

WITH waits AS (
  SELECT wt.session_id, wt.blocking_session_id, wt.wait_type, wt.wait_duration_ms,
         ROW_NUMBER() OVER (PARTITION BY wt.session_id ORDER BY wt.wait_duration_ms DESC) AS rn
  FROM sys.dm_os_waiting_tasks AS wt
  WHERE wt.session_id IS NOT NULL AND wt.session_id <> @me
    AND ((wt.blocking_session_id IS NOT NULL AND wt.blocking_session_id <> wt.session_id) OR wt.wait_type LIKE N'LCK[_]M[_]%')
)
SELECT TOP (200) w.session_id, w.blocking_session_id, w.wait_type, w.wait_duration_ms,
       s.program_name, s.login_name, s.host_name,
       ${CURRENT_STATEMENT} AS statement
FROM waits AS w
JOIN sys.dm_exec_sessions AS s ON s.session_id = w.session_id
LEFT JOIN sys.dm_exec_requests AS r ON r.session_id = w.session_id
OUTER APPLY sys.dm_exec_sql_text(r.sql_handle) AS t
WHERE w.rn = 1 AND s.is_user_process = 1 AND COALESCE(r.database_id, s.database_id) = @db
  AND COALESCE(s.program_name, N'') <> N'${HEALTH_PROGRAM}'
ORDER BY w.wait_duration_ms DESC;

WITH blockers AS (
  SELECT DISTINCT wt.blocking_session_id AS session_id
  FROM sys.dm_os_waiting_tasks AS wt
  WHERE wt.blocking_session_id > 0 AND wt.blocking_session_id <> wt.session_id
)
SELECT TOP (50) s.session_id, s.status, s.program_name, s.login_name, s.host_name, s.open_transaction_count,
       (SELECT DATEDIFF(SECOND, MIN(tat.transaction_begin_time), GETDATE())
          FROM sys.dm_tran_session_transactions AS st
          JOIN sys.dm_tran_active_transactions AS tat ON tat.transaction_id = st.transaction_id
         WHERE st.session_id = s.session_id) AS xact_seconds,
       LEFT(t.text, 400) AS statement
FROM blockers AS b
JOIN sys.dm_exec_sessions AS s ON s.session_id = b.session_id
LEFT JOIN sys.dm_exec_connections AS c ON c.session_id = s.session_id AND c.parent_connection_id IS NULL
OUTER APPLY sys.dm_exec_sql_text(c.most_recent_sql_handle) AS t;

SELECT TOP (10) r.session_id, r.total_elapsed_time AS elapsed_ms, r.status, r.command,
       s.program_name, s.login_name, s.host_name,
       ${CURRENT_STATEMENT} AS statement,
       COUNT(*) OVER () AS total
FROM sys.dm_exec_requests AS r
JOIN sys.dm_exec_sessions AS s ON s.session_id = r.session_id
OUTER APPLY sys.dm_exec_sql_text(r.sql_handle) AS t
WHERE s.is_user_process = 1 AND r.session_id <> @me AND r.database_id = @db AND r.total_elapsed_time >= @long_ms
  AND COALESCE(s.program_name, N'') <> N'${HEALTH_PROGRAM}'
ORDER BY r.total_elapsed_time DESC;

SELECT
  (SELECT COUNT(*) FROM sys.dm_exec_sessions
    WHERE is_user_process = 1 AND database_id = @db AND session_id <> @me) AS total,
  (SELECT COUNT(*) FROM sys.dm_exec_requests AS r JOIN sys.dm_exec_sessions AS s ON s.session_id = r.session_id
    WHERE s.is_user_process = 1 AND r.database_id = @db AND r.session_id <> @me) AS active,
  (SELECT COUNT(*) FROM sys.dm_exec_sessions
    WHERE is_user_process = 1 AND database_id = @db AND session_id <> @me AND status = N'sleeping' AND open_transaction_count > 0) AS idle_in_transaction,
  (SELECT TOP (1) cntr_value FROM sys.dm_os_performance_counters
    WHERE RTRIM(counter_name) = N'Number of Deadlocks/sec' AND RTRIM(instance_name) = N'_Total') AS deadlocks;`;
