import type pg from 'pg';
import { ActionError, type ActionContext } from '../action.js';
import { truthy, type FreezeDriver, type ProbeOutcome, type Residual, type SessionInfo, type SourceState } from './driver.js';
import {
  freezeSql,
  OTHER_PIDS_SQL,
  probeTable,
  READ_ONLY_SETTING_SQL,
  READ_ONLY_SQLSTATE,
  RESIDUAL_WRITERS_SQL,
  ROLE_OVERRIDES_SQL,
  ROLE_STATE_SQL,
  SESSIONS_SQL,
  SUPERUSERS_SQL,
  TERMINATE_SQL,
  unfreezeSql,
} from './pg-freeze-sql.js';

type Row = Record<string, unknown>;
const text = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

/** The PostgreSQL source: one control session for the step, fresh sessions for what a frozen database must refuse. */
export async function openPgFreezeDriver(ctx: ActionContext, connection: string): Promise<FreezeDriver> {
  const control = await connect(ctx, connection);
  const query = async (sql: string, values?: unknown[]): Promise<Row[]> => (await control.query<Row>(sql, values)).rows;
  const onFresh = async <T>(fn: (c: pg.Client) => Promise<T>): Promise<T> => {
    const c = await connect(ctx, connection);
    try {
      return await fn(c);
    } finally {
      await c.end().catch(() => undefined);
    }
  };

  return {
    dialect: 'postgres',
    async currentDatabase() {
      return String((await query('SELECT current_database() AS db'))[0]?.['db']);
    },
    async sessions(database) {
      return (await query(SESSIONS_SQL, [database])).map(sessionOf);
    },
    // pg_stat_activity lists every session to every role (only query texts are hidden).
    sessionsCaveat: async () => null,
    async state(database, roles) {
      const readOnly = truthy((await query(READ_ONLY_SETTING_SQL, [database]))[0]?.['read_only']);
      const found = new Map((await query(ROLE_STATE_SQL, [roles])).map((r) => [String(r['name']), truthy(r['can_login'])]));
      return {
        readOnly,
        describe: `default_transaction_read_only ${readOnly ? 'on' : 'off'} for new sessions`,
        roles: roles.map((name) => ({ name, exists: found.has(name), canLogin: found.get(name) ?? false })),
      } satisfies SourceState;
    },
    async freeze(database, roles) {
      await inOrder(control, freezeSql(database, roles));
      // After the commit: a session opening from now on is read-only, and the app roles cannot log in; end the ones already there.
      const ended: string[] = [];
      const notEnded: string[] = [];
      for (const row of await query(OTHER_PIDS_SQL, [database])) {
        const who = `${String(row['pid'])} (${text(row['login']) ?? '?'})`;
        try {
          if (truthy((await query(TERMINATE_SQL, [row['pid']]))[0]?.['ended'])) ended.push(who);
          else notEnded.push(`${who}: already gone`);
        } catch (err) {
          notEnded.push(`${who}: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
      return { ended, notEnded };
    },
    async unfreeze(database, roles) {
      // A fresh session: it is read-only by default now, which unfreezeSql turns off for itself first.
      await onFresh((c) => inOrder(c, unfreezeSql(database, roles)));
    },
    async runScript(sql) {
      await onFresh(async (c) => {
        await c.query('SET default_transaction_read_only = off');
        await c.query(sql);
      });
    },
    async verify(sql) {
      return onFresh(async (c) => {
        const row = (await c.query<Row>({ text: sql })).rows[0];
        const value = row ? (Object.values(row)[0] ?? null) : null;
        return { ok: truthy(value), value: text(value) };
      });
    },
    async probe(_database, probeSql, tag) {
      return onFresh((c) => pgProbe(c, probeSql ?? probeTable(tag)));
    },
    async residual(database, excluded) {
      const writers = (await query(RESIDUAL_WRITERS_SQL, [excluded])).map((r) => ({ role: String(r['role']), tables: Number(r['tables']) }));
      const superusers = (await query(SUPERUSERS_SQL)).map((r) => String(r['role']));
      const overrides = (await query(ROLE_OVERRIDES_SQL, [database])).map((r) => String(r['role']));
      return { writers, superusers, overrides } satisfies Residual;
    },
    async close() {
      await control.end().catch(() => undefined);
    },
  };
}

/** Statements one by one; a failure inside BEGIN … COMMIT rolls the transaction back before the error is reported. */
async function inOrder(c: pg.Client, statements: readonly string[]): Promise<void> {
  try {
    for (const sql of statements) await c.query(sql);
  } catch (err) {
    await c.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

async function connect(ctx: ActionContext, connection: string): Promise<pg.Client> {
  const client = ctx.connections.postgresClient(connection);
  // A session ended by the freeze (another worker's) or a restart must not crash the worker.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => undefined);
    throw new ActionError('freeze.connect', `cannot connect to "${connection}" (${ctx.connections.describe(connection)}): ${ctx.connections.redact(err instanceof Error ? err.message : String(err))}`, { cause: err });
  }
  return client;
}

/** The write inside a transaction that is always rolled back; only SQLSTATE 25006 proves the freeze. */
async function pgProbe(c: pg.Client, write: string): Promise<ProbeOutcome> {
  await c.query('BEGIN');
  try {
    await c.query(write);
    return { refused: false, readOnly: false, message: 'the write succeeded (rolled back)' };
  } catch (err) {
    const code = err && typeof err === 'object' && 'code' in err ? String(err.code) : '';
    const message = err instanceof Error ? err.message : String(err);
    return { refused: true, readOnly: code === READ_ONLY_SQLSTATE, message: `${message}${code ? ` (SQLSTATE ${code})` : ''}` };
  } finally {
    await c.query('ROLLBACK').catch(() => undefined);
  }
}

function sessionOf(r: Row): SessionInfo {
  return {
    id: String(r['id']),
    login: text(r['login']),
    host: text(r['host']),
    program: text(r['program']) || null,
    status: text(r['status']),
    command: text(r['command']) || null,
    idleSeconds: r['idle_seconds'] === null || r['idle_seconds'] === undefined ? null : Number(r['idle_seconds']),
    openTransactions: Number(r['open_transactions'] ?? 0),
  };
}
