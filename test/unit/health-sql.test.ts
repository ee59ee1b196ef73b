import { describe, expect, it } from 'vitest';
import { chainHeads, waitersPerHead } from '../../engine/health/chains.js';
import { diskProbeFor, localDisk, type DiskProbe } from '../../engine/health/disk.js';
import { MssqlHealth, type MssqlQueryPort } from '../../engine/health/mssql-health.js';
import { HEALTH_PROGRAM, MSSQL_HEALTH_BATCH, MSSQL_PERMISSION_SQL } from '../../engine/health/mssql-health-sql.js';
import { HEALTH_APP, PG_OVERVIEW_SQL, PG_REPLICAS_SQL, PG_STANDBY_SQL, PG_TABLESPACES_SQL, pgActivitySql } from '../../engine/health/pg-health-sql.js';
import { PostgresHealth, type PgQueryPort } from '../../engine/health/pg-health.js';
import { statementText } from '../../engine/health/statement-text.js';

const squash = (sql: string): string => sql.replace(/\s+/g, ' ').trim();

describe('statement text shown in Slack', () => {
  it('masks string literals (escaped quotes included), dollar-quoted bodies and a literal cut off by truncation', () => {
    expect(statementText("UPDATE kunde SET name = 'O''Brien', plz = '10115' WHERE id = $1")).toBe("UPDATE kunde SET name = '…', plz = '…' WHERE id = $1");
    expect(statementText("ALTER LOGIN app WITH PASSWORD = N'S3cr3t!'")).toBe("ALTER LOGIN app WITH PASSWORD = N'…'");
    expect(statementText('DO $body$ BEGIN RAISE NOTICE \'x\'; END $body$; SELECT $$secret$$')).toBe('DO $…$; SELECT $…$');
    expect(statementText("SELECT * FROM t WHERE email = 'anna@exam")).toBe("SELECT * FROM t WHERE email = '…");
  });

  it('collapses whitespace and clips', () => {
    expect(statementText('SELECT\n   1,\n\t2')).toBe('SELECT 1, 2');
    expect(statementText('x'.repeat(500), 20)).toBe(`${'x'.repeat(19)}…`);
    expect(statementText(null)).toBe('');
  });
});

describe('blocking chains', () => {
  it('follows each waiter to the head of its chain and counts who stands behind each head', () => {
    // 30 ← 20 ← 10, and 40 ← 10: session 10 (not itself waiting) heads both chains.
    const heads = chainHeads([{ session: 30, blockedBy: [20] }, { session: 20, blockedBy: [10] }, { session: 40, blockedBy: [10] }]);
    expect(Object.fromEntries(heads)).toEqual({ 30: 10, 20: 10, 40: 10 });
    expect(Object.fromEntries(waitersPerHead(heads))).toEqual({ 10: 3 });
  });

  it('a cycle has no head (a deadlock not yet broken), nor has a waiter with no blocker; a prepared transaction (0) heads its chain', () => {
    expect(Object.fromEntries(chainHeads([{ session: 1, blockedBy: [2] }, { session: 2, blockedBy: [1] }]))).toEqual({ 1: null, 2: null });
    expect(chainHeads([{ session: 5, blockedBy: [] }]).get(5)).toBeNull();
    expect(chainHeads([{ session: 5, blockedBy: [0] }]).get(5)).toBe(0);
  });
});

describe('PostgreSQL health SQL', () => {
  it('calls pg_blocking_pids only for sessions waiting on a lock, and leaves out its own backend and the sampler connections', () => {
    const sql = squash(pgActivitySql(true));
    expect(sql).toContain("CASE WHEN a.wait_event_type = 'Lock' AND a.datname = current_database() THEN pg_blocking_pids(a.pid) ELSE '{}'::int[] END AS blocked_by");
    expect(sql).toContain('a.pid <> pg_backend_pid()');
    expect(sql).toContain(`coalesce(a.application_name, '') <> '${HEALTH_APP}'`);
    expect(sql).toContain("a.backend_type IN ('client backend', 'autovacuum worker')");
    expect(squash(PG_OVERVIEW_SQL)).toContain(`a.application_name <> '${HEALTH_APP}'`);
  });

  it('times a lock wait from pg_locks.waitstart on PostgreSQL 14+, from the statement start before', () => {
    expect(squash(pgActivitySql(true))).toContain('SELECT pid, min(waitstart) AS waitstart FROM pg_locks WHERE NOT granted GROUP BY pid');
    expect(squash(pgActivitySql(true))).toContain('extract(epoch FROM now() - coalesce(w.waitstart, a.query_start))::float8 END AS wait_seconds');
    expect(pgActivitySql(false)).not.toContain('waitstart FROM pg_locks');
    expect(squash(pgActivitySql(false))).toContain('extract(epoch FROM now() - a.query_start)::float8 END AS wait_seconds');
  });

  it('selects lock waiters and long statements of this database, and blockers wherever they are; long is the $1 parameter', () => {
    const sql = squash(pgActivitySql(true));
    expect(sql).toContain("WHERE (a.datname = current_database() AND a.wait_event_type = 'Lock') OR a.pid IN (SELECT pid FROM blockers) OR (a.datname = current_database() AND a.state = 'active' AND a.query_start < now() - make_interval(secs => $1))");
    expect(sql).toContain('LIMIT 200');
  });

  it('reads replica lag on a primary, replay delay on a standby, and tablespace sizes only where permitted', () => {
    expect(squash(PG_REPLICAS_SQL)).toContain('pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::float8 AS replay_lag_bytes FROM pg_stat_replication');
    expect(squash(PG_STANDBY_SQL)).toContain('WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0');
    expect(squash(PG_TABLESPACES_SQL)).toContain("CASE WHEN t.oid = d.dattablespace OR has_tablespace_privilege(t.oid, 'CREATE') OR pg_has_role(current_user, 'pg_read_all_stats', 'USAGE') THEN pg_tablespace_size(t.oid)::float8 END");
    expect(squash(PG_OVERVIEW_SQL)).toContain("(SELECT setting FROM pg_settings WHERE name = 'data_directory') AS data_directory");
  });
});

/** A fake PostgreSQL answering each health query from fixtures, recording what was asked. */
function fakePg(over: { overview?: Record<string, unknown>; activity?: Array<Record<string, unknown>>; replicas?: Array<Record<string, unknown>>; fail?: RegExp } = {}) {
  const asked: Array<{ sql: string; params?: unknown[] }> = [];
  let deadlocks = 7;
  const port: PgQueryPort = {
    async query<R extends object>(sql: string, params?: unknown[]) {
      asked.push({ sql, params });
      if (over.fail?.test(sql)) throw new Error('permission denied for function pg_current_wal_lsn');
      const rows = sql === PG_OVERVIEW_SQL
        ? [{ version: 150004, in_recovery: false, read_all_stats: true, data_directory: '/var/lib/postgresql/15/main', deadlocks: deadlocks++, active: 3, idle_in_transaction: 1, total: 5, ...over.overview }]
        : sql === PG_REPLICAS_SQL ? over.replicas ?? []
          : sql === PG_STANDBY_SQL ? [{ replay_lag_seconds: 4, replay_lag_bytes: 8192 }]
            : sql === PG_TABLESPACES_SQL ? [{ spcname: 'pg_default', location: '', bytes: 1000 }, { spcname: 'fast', location: '/ssd/pg', bytes: 500 }, { spcname: 'more', location: '/ssd/pg2', bytes: null }]
              : over.activity ?? [];
      return { rows: rows as R[] };
    },
  };
  return { port, asked };
}

const row = (over: Record<string, unknown>): Record<string, unknown> => ({
  pid: 1, here: true, application_name: 'app', usename: 'kgv', client_addr: '10.0.0.9', backend_type: 'client backend', state: 'active',
  wait_event_type: null, wait_event: null, xact_seconds: 1, query_seconds: 1, wait_seconds: null, blocked_by: [], query: 'SELECT 1', ...over,
});

const disk: DiskProbe = {
  async volume(path) {
    return path.startsWith('/ssd') ? { device: 2, freeBytes: 50, totalBytes: 200 } : { device: 1, freeBytes: 10, totalBytes: 100 };
  },
};

describe('PostgresHealth', () => {
  it('turns lock waiters into chains with their head, lists long statements, and counts deadlocks from the first sample', async () => {
    const activity = [
      row({ pid: 300, application_name: 'cutover', wait_event_type: 'Lock', wait_event: 'relation', wait_seconds: 95, blocked_by: [200], query: "COPY t FROM STDIN" }),
      row({ pid: 200, wait_event_type: 'Lock', wait_event: 'transactionid', wait_seconds: 40, blocked_by: [100], query: "UPDATE t SET a = 'x'" }),
      row({ pid: 100, state: 'idle in transaction', xact_seconds: 600, query: "DELETE FROM t WHERE name = 'Anna'" }),
      row({ pid: 400, here: true, query_seconds: 700, query: 'CREATE INDEX ON big (a)' }),
      row({ pid: 500, here: false, query_seconds: 9000, query: 'elsewhere' }),
    ];
    const { port, asked } = fakePg({ activity });
    const h = new PostgresHealth(port, { connection: 'target', longStatementSeconds: 600, disk });
    const first = await h.sample();
    expect(first.deadlocks).toBe(0);
    expect(first.sessions).toEqual({ total: 5, active: 3, idleInTransaction: 1 });
    expect(first.waiting.map((w) => [w.session, w.ours, w.waitType, w.headBlocker, w.blockedBy])).toEqual([[300, true, 'Lock:relation', 100, [200]], [200, false, 'Lock:transactionid', 100, [100]]]);
    expect(first.waitingTotal).toBe(2);
    expect(first.heads).toEqual([{ session: 100, ours: false, who: 'app · kgv@10.0.0.9', state: 'idle in transaction', xactSeconds: 600, statement: "DELETE FROM t WHERE name = '…'", blocking: 2 }]);
    expect(first.long.map((l) => l.session)).toEqual([400]);
    expect(first.longTotal).toBe(1);
    expect(asked.find((a) => a.params)?.params).toEqual([600]);
    expect((await h.sample()).deadlocks).toBe(1);
  });

  it('groups tablespaces by filesystem with their sizes, and says when the data directory is not visible', async () => {
    const h = new PostgresHealth(fakePg().port, { connection: 'target', longStatementSeconds: 600, disk });
    expect((await h.sample()).disk).toEqual([
      { path: '/var/lib/postgresql/15/main', tablespaces: ['pg_default'], freeBytes: 10, totalBytes: 100, tablespaceBytes: 1000 },
      { path: '/ssd/pg', tablespaces: ['fast', 'more'], freeBytes: 50, totalBytes: 200, tablespaceBytes: null },
    ]);
    const hidden = await new PostgresHealth(fakePg({ overview: { data_directory: null, read_all_stats: false } }).port, { connection: 'target', longStatementSeconds: 600, disk }).sample();
    expect(hidden.disk).toBeNull();
    expect(hidden.notes).toEqual([
      "other roles' sessions are partly hidden: grant pg_read_all_stats (or pg_monitor) to this connection's user",
      'disk free not readable: data_directory is shown only to superusers and pg_read_all_settings',
    ]);
    const remote = await new PostgresHealth(fakePg().port, { connection: 'target', longStatementSeconds: 600, disk: diskProbeFor('postgres://u:p@db.example.org/kgv') as string }).sample();
    expect(remote.notes).toEqual(["disk free not readable: the server (db.example.org) is not on the worker's host"]);
  });

  it('reads the tablespace sizes (a directory walk) at most once a minute', async () => {
    let clock = 0;
    const { port, asked } = fakePg();
    const h = new PostgresHealth(port, { connection: 'target', longStatementSeconds: 600, disk, now: () => clock });
    await h.sample();
    clock = 59_000;
    await h.sample();
    clock = 60_000;
    await h.sample();
    expect(asked.filter((a) => a.sql === PG_TABLESPACES_SQL)).toHaveLength(2);
  });

  it('reports replicas on a primary and the replay delay on a standby; an unreadable view is a note, not a failure', async () => {
    const primary = await new PostgresHealth(fakePg({ replicas: [{ name: 'standby1', state: 'streaming', replay_lag_seconds: 2, replay_lag_bytes: 4096 }] }).port, { connection: 't', longStatementSeconds: 600, disk }).sample();
    expect(primary.replication).toEqual([{ name: 'standby1', state: 'streaming', replayLagSeconds: 2, replayLagBytes: 4096 }]);
    const standby = await new PostgresHealth(fakePg({ overview: { in_recovery: true } }).port, { connection: 't', longStatementSeconds: 600, disk }).sample();
    expect(standby.replication).toEqual([{ name: 'this standby', state: 'replaying', replayLagSeconds: 4, replayLagBytes: 8192 }]);
    const denied = await new PostgresHealth(fakePg({ fail: /pg_stat_replication/ }).port, { connection: 't', longStatementSeconds: 600, disk }).sample();
    expect(denied.replication).toBeNull();
    expect(denied.notes).toContain('replication not readable: permission denied for function pg_current_wal_lsn');
  });

  it('notes that waits are timed from the statement start before PostgreSQL 14, and asks the matching SQL', async () => {
    const { port, asked } = fakePg({ overview: { version: 130011 } });
    const old = await new PostgresHealth(port, { connection: 't', longStatementSeconds: 600, disk }).sample();
    expect(old.notes).toContain('lock waits are timed from the statement start (pg_locks.waitstart needs PostgreSQL 14)');
    expect(asked.some((a) => a.sql === pgActivitySql(false))).toBe(true);
  });
});

describe('where disk free can be read', () => {
  it('only for a server on the worker host: loopback or a Unix socket', () => {
    expect(diskProbeFor('postgres://u@127.0.0.1:5432/db')).toBe(localDisk);
    expect(diskProbeFor('postgres://u@localhost/db')).toBe(localDisk);
    expect(diskProbeFor('postgres://u@[::1]/db')).toBe(localDisk);
    expect(diskProbeFor('postgres:///db?host=/var/run/postgresql')).toBe(localDisk);
    expect(diskProbeFor('postgres://u:***@10.1.2.3/db')).toBe("the server (10.1.2.3) is not on the worker's host");
  });
});

describe('SQL Server health SQL', () => {
  it('checks VIEW SERVER STATE (or 2022\'s VIEW SERVER PERFORMANCE STATE) before trusting the DMVs', () => {
    expect(squash(MSSQL_PERMISSION_SQL)).toContain("COALESCE(HAS_PERMS_BY_NAME(NULL, NULL, 'VIEW SERVER STATE'), 0) = 1 OR COALESCE(HAS_PERMS_BY_NAME(NULL, NULL, 'VIEW SERVER PERFORMANCE STATE'), 0) = 1");
  });

  it('reads blocked tasks from sys.dm_os_waiting_tasks, leaving out its own session, self-blocking parallel tasks and other databases', () => {
    const sql = squash(MSSQL_HEALTH_BATCH);
    expect(sql).toMatch(/^SET NOCOUNT ON; SET LOCK_TIMEOUT 5000; SET TRANSACTION ISOLATION LEVEL READ UNCOMMITTED;/);
    expect(sql).toContain('FROM sys.dm_os_waiting_tasks AS wt WHERE wt.session_id IS NOT NULL AND wt.session_id <> @me');
    expect(sql).toContain("((wt.blocking_session_id IS NOT NULL AND wt.blocking_session_id <> wt.session_id) OR wt.wait_type LIKE N'LCK[_]M[_]%')");
    expect(sql).toContain('ROW_NUMBER() OVER (PARTITION BY wt.session_id ORDER BY wt.wait_duration_ms DESC) AS rn');
    expect(sql).toContain('WHERE w.rn = 1 AND s.is_user_process = 1 AND COALESCE(r.database_id, s.database_id) = @db');
    expect(sql).toContain(`COALESCE(s.program_name, N'') <> N'${HEALTH_PROGRAM}'`);
  });

  it('finds head blockers with no request through their connection\'s most recent statement and their transaction\'s age', () => {
    const sql = squash(MSSQL_HEALTH_BATCH);
    expect(sql).toContain('WHERE wt.blocking_session_id > 0 AND wt.blocking_session_id <> wt.session_id');
    expect(sql).toContain('OUTER APPLY sys.dm_exec_sql_text(c.most_recent_sql_handle) AS t');
    expect(sql).toContain('DATEDIFF(SECOND, MIN(tat.transaction_begin_time), GETDATE())');
  });

  it('lists long requests from @long_ms with their total count, and reads the cumulative deadlock counter', () => {
    const sql = squash(MSSQL_HEALTH_BATCH);
    expect(sql).toContain('r.total_elapsed_time >= @long_ms');
    expect(sql).toContain('COUNT(*) OVER () AS total');
    expect(sql).toContain("WHERE RTRIM(counter_name) = N'Number of Deadlocks/sec' AND RTRIM(instance_name) = N'_Total'");
    // The result sets come in the order MssqlHealth reads them: waiters, blockers, long requests, counts.
    const order = ['SELECT TOP (200) w.session_id', 'SELECT TOP (50) s.session_id', 'SELECT TOP (10) r.session_id', 'SELECT (SELECT COUNT(*) FROM sys.dm_exec_sessions'].map((head) => sql.indexOf(head));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });
});

function fakeMssql(sets: Array<Array<Record<string, unknown>>>, permitted = 1) {
  const asked: Array<{ sql: string; inputs?: Record<string, number> }> = [];
  let deadlocks = 40;
  const port: MssqlQueryPort = {
    async query(sql, inputs) {
      asked.push({ sql, ...(inputs ? { inputs } : {}) });
      if (sql === MSSQL_PERMISSION_SQL) return [[{ view_server_state: permitted }]];
      const counts = [{ total: 12, active: 3, idle_in_transaction: 1, deadlocks: String(deadlocks++) }];
      return [...sets.slice(0, 3), counts];
    },
  };
  return { port, asked };
}

describe('MssqlHealth', () => {
  const waits = [
    { session_id: 57, blocking_session_id: 61, wait_type: 'LCK_M_S', wait_duration_ms: 75_000, program_name: 'cutover', login_name: 'etl', host_name: 'worker1', statement: "SELECT * FROM dbo.Antrag WHERE x = N'y'" },
    { session_id: 61, blocking_session_id: 52, wait_type: 'LCK_M_X', wait_duration_ms: 20_000, program_name: 'KGV App', login_name: 'kgv', host_name: 'web1', statement: 'UPDATE dbo.Antrag SET ...' },
    { session_id: 70, blocking_session_id: null, wait_type: 'LCK_M_IX', wait_duration_ms: 5_000, program_name: 'KGV App', login_name: 'kgv', host_name: 'web2', statement: null },
  ];
  const blockers = [
    { session_id: 61, status: 'suspended', program_name: 'KGV App', login_name: 'kgv', host_name: 'web1', open_transaction_count: 1, xact_seconds: 30, statement: 'UPDATE dbo.Antrag SET ...' },
    { session_id: 52, status: 'sleeping', program_name: 'SSMS', login_name: 'dba', host_name: 'laptop', open_transaction_count: 2, xact_seconds: 900, statement: "BEGIN TRAN; UPDATE dbo.Antrag SET name = 'x'" },
  ];
  const long = [{ session_id: 57, elapsed_ms: 700_000, status: 'suspended', command: 'SELECT', program_name: 'cutover', login_name: 'etl', host_name: 'worker1', statement: 'SELECT …', total: 2 }];

  it('builds the chain to the head blocker asleep in an open transaction, with the long request count', async () => {
    const { port, asked } = fakeMssql([waits, blockers, long]);
    const h = new MssqlHealth(port, { connection: 'source', longStatementSeconds: 600 });
    const s = await h.sample();
    expect(s.error).toBeNull();
    expect(asked[1]?.inputs).toEqual({ long_ms: 600_000 });
    expect(s.waiting.map((w) => [w.session, w.ours, w.waitSeconds, w.lockWait, w.blockedBy, w.headBlocker])).toEqual([
      [57, true, 75, true, [61], 52],
      [61, false, 20, true, [52], 52],
      [70, false, 5, true, [], null],
    ]);
    expect(s.waiting[0]?.statement).toBe("SELECT * FROM dbo.Antrag WHERE x = N'…'");
    expect(s.heads).toEqual([{ session: 52, ours: false, who: 'SSMS · dba@laptop', state: 'sleeping in an open transaction', xactSeconds: 900, statement: "BEGIN TRAN; UPDATE dbo.Antrag SET name = '…'", blocking: 2 }]);
    expect(s.sessions).toEqual({ total: 12, active: 3, idleInTransaction: 1 });
    expect([s.long[0]?.session, s.long[0]?.seconds, s.longTotal]).toEqual([57, 700, 2]);
    expect(s.deadlocks).toBe(0);
    expect((await h.sample()).deadlocks).toBe(1);
  });

  it('without VIEW SERVER STATE the sample is an error saying what to grant, never a calm empty one', async () => {
    const { port, asked } = fakeMssql([waits, blockers, long], 0);
    const s = await new MssqlHealth(port, { connection: 'source', longStatementSeconds: 600 }).sample();
    expect(s.error).toMatch(/lacks VIEW SERVER STATE .* GRANT it to watch blocking/);
    expect(asked).toHaveLength(1);
  });

  it('a negative blocking session (orphaned DTC, latch owner unknown) is no session to blame', async () => {
    const { port } = fakeMssql([[{ ...waits[2], session_id: 80, blocking_session_id: -2, wait_type: 'LCK_M_U' }], [], []]);
    const s = await new MssqlHealth(port, { connection: 'source', longStatementSeconds: 600 }).sample();
    expect(s.waiting[0]).toMatchObject({ session: 80, blockedBy: [], headBlocker: null, lockWait: true });
  });
});
