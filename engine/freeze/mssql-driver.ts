import mssql from 'mssql';
import { ActionError, type ActionContext } from '../action.js';
import { splitGoBatches } from '../actions/sql-result.js';
import { truthy, type FreezeDriver, type ProbeOutcome, type SessionInfo } from './driver.js';
import {
  killLoginSessionsSql,
  loginStateSql,
  loginsSql,
  probeSql,
  READ_ONLY_ERROR,
  SESSIONS_SQL,
  setReadOnlySql,
  setReadWriteSql,
  UPDATEABILITY_SQL,
  VIEW_SERVER_STATE_SQL,
} from './mssql-freeze-sql.js';

type Row = Record<string, unknown>;
const text = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

/** The SQL Server source: one private session for the step (so USE and SET carry), fresh ones for the probe. */
export async function openMssqlFreezeDriver(ctx: ActionContext, connection: string): Promise<FreezeDriver> {
  const control = await session(ctx, connection);
  const query = async (sql: string, db?: string): Promise<Row[]> => {
    const request = control.request();
    if (db !== undefined) request.input('db', mssql.NVarChar(128), db);
    return ((await request.query<Row>(sql)).recordset ?? []) as Row[];
  };
  const batches = async (pool: mssql.ConnectionPool, sql: string): Promise<void> => {
    for (const batch of splitGoBatches(sql)) await pool.request().batch(batch);
  };
  // Asked once, before anything moves this session to master.
  const current = String((await query('SELECT DB_NAME() AS current_db;'))[0]?.['current_db'] ?? '');
  const sessions = async (database: string): Promise<SessionInfo[]> => (await query(SESSIONS_SQL, database)).map(sessionOf);

  return {
    dialect: 'mssql',
    async currentDatabase() {
      return current;
    },
    sessions,
    async sessionsCaveat() {
      const row = (await query(VIEW_SERVER_STATE_SQL))[0];
      return truthy(row?.['can_see']) ? null : 'this login lacks VIEW SERVER STATE, so it sees only its own sessions: other sessions may be connected unseen';
    },
    async state(database, logins) {
      const updateability = text((await query(UPDATEABILITY_SQL, database))[0]?.['updateability']);
      const found = logins.length ? new Map((await query(loginStateSql(logins))).map((r) => [String(r['name']), !truthy(r['is_disabled'])])) : new Map<string, boolean>();
      return {
        readOnly: updateability === 'READ_ONLY',
        describe: `Updateability ${updateability ?? 'unknown (DATABASEPROPERTYEX returned NULL: no such database or no access)'}`,
        roles: logins.map((name) => ({ name, exists: found.has(name), canLogin: found.get(name) ?? false })),
      };
    },
    async freeze(database, logins) {
      const before = await sessions(database);
      if (logins.length) {
        await batches(control, loginsSql(logins, 'DISABLE'));
        await batches(control, killLoginSessionsSql(logins));
      }
      await batches(control, setReadOnlySql(database));
      // WITH ROLLBACK IMMEDIATE disconnected every other session; those that came back can only read.
      const after = new Set((await sessions(database)).map((s) => s.id));
      return { ended: before.filter((s) => !after.has(s.id)).map((s) => `${s.id} (${s.login ?? '?'})`), notEnded: [] };
    },
    async unfreeze(database, logins) {
      await batches(control, setReadWriteSql(database));
      if (logins.length) await batches(control, loginsSql(logins, 'ENABLE'));
    },
    async runScript(sql) {
      await batches(control, sql);
    },
    async verify(sql) {
      const fresh = await session(ctx, connection);
      try {
        const row = ((await fresh.request().query<Row>(sql)).recordset ?? [])[0];
        const value = row ? (Object.values(row)[0] ?? null) : null;
        return { ok: truthy(value), value: text(value) };
      } finally {
        await fresh.close().catch(() => undefined);
      }
    },
    async probe(database, probe, tag) {
      const fresh = await session(ctx, connection);
      try {
        await batches(fresh, probeSql(database, probe, tag));
        return { refused: false, readOnly: false, message: 'the write succeeded (rolled back)' } satisfies ProbeOutcome;
      } catch (err) {
        const number = err && typeof err === 'object' && 'number' in err ? Number(err.number) : undefined;
        const message = err instanceof Error ? err.message : String(err);
        return { refused: true, readOnly: number === READ_ONLY_ERROR || /read-only/i.test(message), message: `${message}${number ? ` (error ${number})` : ''}` };
      } finally {
        await fresh.close().catch(() => undefined);
      }
    },
    async residual() {
      return { writers: [], superusers: [], overrides: [] };
    },
    async close() {
      await control.close().catch(() => undefined);
    },
  };
}

async function session(ctx: ActionContext, connection: string): Promise<mssql.ConnectionPool> {
  try {
    return await ctx.connections.mssqlSession(connection);
  } catch (err) {
    throw new ActionError('freeze.connect', `cannot connect to "${connection}" (${ctx.connections.describe(connection)}): ${ctx.connections.redact(err instanceof Error ? err.message : String(err))}`, { cause: err });
  }
}

function sessionOf(r: Row): SessionInfo {
  const trimmed = (v: unknown): string | null => {
    const t = text(v)?.trim();
    return t ? t : null;
  };
  return {
    id: String(r['id']),
    login: trimmed(r['login']),
    host: trimmed(r['host']) ?? trimmed(r['address']),
    program: trimmed(r['program']),
    status: trimmed(r['request_status']) ?? trimmed(r['status']),
    command: trimmed(r['command']),
    idleSeconds: r['idle_seconds'] === null || r['idle_seconds'] === undefined ? null : Number(r['idle_seconds']),
    openTransactions: Number(r['open_transactions'] ?? 0),
  };
}
