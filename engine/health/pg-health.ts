import { emptyHealth, type DatabaseHealth, type DiskVolume, type HeadBlocker, type LongStatement, type ReplicaLag, type WaitingSession } from '../../runbook/health-sample.js';
import { chainHeads, waitersPerHead } from './chains.js';
import type { DiskProbe } from './disk.js';
import { PG_OVERVIEW_SQL, PG_REPLICAS_SQL, PG_STANDBY_SQL, PG_TABLESPACES_SQL, pgActivitySql } from './pg-health-sql.js';
import { statementText } from './statement-text.js';
import { CutoverError } from '../../runbook/errors.js';

/** The one thing the sampler needs from a PostgreSQL connection. */
export interface PgQueryPort {
  query<R extends object>(sql: string, params?: unknown[]): Promise<{ rows: R[] }>;
}

interface OverviewRow {
  version: number;
  in_recovery: boolean;
  read_all_stats: boolean;
  data_directory: string | null;
  deadlocks: number | null;
  active: number;
  idle_in_transaction: number;
  total: number;
}

interface ActivityRow {
  pid: number;
  /** In the sampled database (blockers may be elsewhere in the cluster). */
  here: boolean;
  application_name: string | null;
  usename: string | null;
  client_addr: string | null;
  backend_type: string;
  state: string | null;
  wait_event_type: string | null;
  wait_event: string | null;
  xact_seconds: number | null;
  query_seconds: number | null;
  wait_seconds: number | null;
  blocked_by: number[];
  query: string | null;
}

export interface PostgresHealthOptions {
  connection: string;
  longStatementSeconds: number;
  /** How the worker reads free space where the server keeps its files; a string says why it cannot. */
  disk: DiskProbe | string;
  /** application_name of cutover's own sessions (the step's work). */
  ourApplication?: string;
  /** Tablespace sizes walk the data files; they are refreshed at most this often. */
  tablespaceRefreshMs?: number;
  now?: () => number;
}

/** The longest waits, blockers and statements kept per sample: enough to act on, small enough for an event. */
const KEEP = { waiting: 5, heads: 5, long: 3 } as const;

/**
 * Samples one PostgreSQL database: session counts, lock waits with the pids
 * blocking them (chains followed to their head), long statements, deadlocks
 * since the first sample, replication lag, and disk free where the worker
 * can see the server's data directory. Throws only when the server cannot be
 * queried at all; what a role may not read becomes a note.
 */
export class PostgresHealth {
  private deadlockBase: number | null = null;
  private tablespaces: { at: number; rows: Array<{ spcname: string; location: string; bytes: number | null }> } | null = null;

  constructor(private readonly db: PgQueryPort, private readonly opts: PostgresHealthOptions) {}

  async sample(): Promise<DatabaseHealth> {
    const health = emptyHealth(this.opts.connection, 'postgres');
    const overview = (await this.db.query<OverviewRow>(PG_OVERVIEW_SQL)).rows[0];
    if (!overview) throw new CutoverError('health.no_overview', 'pg_stat_activity returned no row');
    health.sessions = { total: overview.total, active: overview.active, idleInTransaction: overview.idle_in_transaction };
    if (overview.deadlocks !== null) {
      this.deadlockBase ??= overview.deadlocks;
      health.deadlocks = overview.deadlocks - this.deadlockBase;
    }
    if (!overview.read_all_stats) health.notes.push("other roles' sessions are partly hidden: grant pg_read_all_stats (or pg_monitor) to this connection's user");
    const hasWaitStart = overview.version >= 140000;
    if (!hasWaitStart) health.notes.push('lock waits are timed from the statement start (pg_locks.waitstart needs PostgreSQL 14)');

    const activity = (await this.db.query<ActivityRow>(pgActivitySql(hasWaitStart), [this.opts.longStatementSeconds])).rows;
    Object.assign(health, this.sessionsOf(activity));
    health.replication = await this.replication(overview.in_recovery, health.notes);
    health.disk = await this.disk(overview.data_directory, health.notes);
    return health;
  }

  private sessionsOf(rows: readonly ActivityRow[]): Pick<DatabaseHealth, 'waiting' | 'waitingTotal' | 'heads' | 'long' | 'longTotal'> {
    const ours = (r: ActivityRow): boolean => r.application_name === (this.opts.ourApplication ?? 'cutover');
    const waiters = rows.filter((r) => r.wait_event_type === 'Lock' && r.here);
    const heads = chainHeads(waiters.map((r) => ({ session: r.pid, blockedBy: r.blocked_by })));
    const behind = waitersPerHead(heads);
    const byPid = new Map(rows.map((r) => [r.pid, r]));
    const waiting: WaitingSession[] = waiters
      .map((r) => ({
        session: r.pid,
        ours: ours(r),
        waitSeconds: r.wait_seconds ?? 0,
        waitType: `Lock:${r.wait_event ?? '?'}`,
        lockWait: true,
        blockedBy: r.blocked_by,
        headBlocker: heads.get(r.pid) ?? null,
        who: who(r),
        statement: statementText(r.query),
      }))
      .sort((a, b) => b.waitSeconds - a.waitSeconds);
    const kept = waiting.slice(0, KEEP.waiting);
    const headIds = [...new Set(kept.map((w) => w.headBlocker).filter((h): h is number => h !== null && h !== 0))];
    const headRows: HeadBlocker[] = headIds.flatMap((id) => {
      const r = byPid.get(id);
      if (!r) return [];
      return [{ session: id, ours: ours(r), who: who(r), state: r.state ?? 'unknown', xactSeconds: r.xact_seconds, statement: statementText(r.query), blocking: behind.get(id) ?? 0 }];
    });
    const long: LongStatement[] = rows
      .filter((r) => r.state === 'active' && r.here && (r.query_seconds ?? 0) >= this.opts.longStatementSeconds)
      .map((r) => ({ session: r.pid, ours: ours(r), seconds: r.query_seconds ?? 0, who: who(r), statement: statementText(r.query) }))
      .sort((a, b) => b.seconds - a.seconds);
    return { waiting: kept, waitingTotal: waiting.length, heads: headRows.slice(0, KEEP.heads), long: long.slice(0, KEEP.long), longTotal: long.length };
  }

  private async replication(inRecovery: boolean, notes: string[]): Promise<ReplicaLag[] | null> {
    try {
      if (inRecovery) {
        const row = (await this.db.query<{ replay_lag_seconds: number | null; replay_lag_bytes: number | null }>(PG_STANDBY_SQL)).rows[0];
        return [{ name: 'this standby', state: 'replaying', replayLagSeconds: row?.replay_lag_seconds ?? null, replayLagBytes: row?.replay_lag_bytes ?? null }];
      }
      const rows = (await this.db.query<{ name: string; state: string; replay_lag_seconds: number | null; replay_lag_bytes: number | null }>(PG_REPLICAS_SQL)).rows;
      if (rows.length === 0) return null;
      return rows.map((r) => ({ name: r.name, state: r.state, replayLagSeconds: r.replay_lag_seconds, replayLagBytes: r.replay_lag_bytes }));
    } catch (err) {
      notes.push(`replication not readable: ${messageOf(err)}`);
      return null;
    }
  }

  private async disk(dataDirectory: string | null, notes: string[]): Promise<DiskVolume[] | null> {
    const probe = this.opts.disk;
    if (typeof probe === 'string') {
      notes.push(`disk free not readable: ${probe}`);
      return null;
    }
    if (!dataDirectory) {
      notes.push('disk free not readable: data_directory is shown only to superusers and pg_read_all_settings');
      return null;
    }
    try {
      const now = (this.opts.now ?? Date.now)();
      if (!this.tablespaces || now - this.tablespaces.at >= (this.opts.tablespaceRefreshMs ?? 60_000)) {
        this.tablespaces = { at: now, rows: (await this.db.query<{ spcname: string; location: string; bytes: number | null }>(PG_TABLESPACES_SQL)).rows };
      }
      const volumes = new Map<number, DiskVolume>();
      for (const t of this.tablespaces.rows) {
        const path = t.location || dataDirectory;
        const v = await probe.volume(path);
        const known = volumes.get(v.device);
        if (known) {
          known.tablespaces.push(t.spcname);
          known.tablespaceBytes = known.tablespaceBytes === null || t.bytes === null ? null : known.tablespaceBytes + t.bytes;
        } else {
          volumes.set(v.device, { path, tablespaces: [t.spcname], freeBytes: v.freeBytes, totalBytes: v.totalBytes, tablespaceBytes: t.bytes });
        }
      }
      return [...volumes.values()];
    } catch (err) {
      notes.push(`disk free not readable: ${messageOf(err)}`);
      return null;
    }
  }
}

function who(r: ActivityRow): string {
  if (r.backend_type === 'autovacuum worker') return 'autovacuum';
  const app = r.application_name || 'no application_name';
  return `${app} · ${r.usename ?? '?'}${r.client_addr ? `@${r.client_addr}` : ''}`;
}

const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));
