import { emptyHealth, type DatabaseHealth, type HeadBlocker, type LongStatement, type WaitingSession } from '../../runbook/health-sample.js';
import { chainHeads, waitersPerHead } from './chains.js';
import { MSSQL_HEALTH_BATCH, MSSQL_PERMISSION_SQL } from './mssql-health-sql.js';
import { statementText } from './statement-text.js';

/** The one thing the sampler needs from a SQL Server session: a batch with integer inputs, all its result sets. */
export interface MssqlQueryPort {
  query(sql: string, inputs?: Record<string, number>): Promise<Array<Array<Record<string, unknown>>>>;
}

export interface MssqlHealthOptions {
  connection: string;
  longStatementSeconds: number;
  /** program_name of cutover's own sessions (the step's work). */
  ourProgram?: string;
}

const KEEP = { waiting: 5, heads: 5, long: 3 } as const;

/**
 * Samples one SQL Server database through the DMVs: blocking chains (head
 * blocker, blocked sessions, wait type and time), lock waits, long-running
 * requests, session counts and deadlocks since the first sample. Throws only
 * when the server cannot be queried; a missing permission is an error in the
 * sample, never a calm-looking empty one.
 */
export class MssqlHealth {
  private deadlockBase: number | null = null;

  constructor(private readonly db: MssqlQueryPort, private readonly opts: MssqlHealthOptions) {}

  async sample(): Promise<DatabaseHealth> {
    const [perm] = await this.db.query(MSSQL_PERMISSION_SQL);
    if (num(perm?.[0]?.['view_server_state']) !== 1) {
      return emptyHealth(this.opts.connection, 'mssql', 'this login lacks VIEW SERVER STATE (SQL Server 2022: VIEW SERVER PERFORMANCE STATE), so other sessions are invisible; GRANT it to watch blocking');
    }
    const [waits = [], blockers = [], long = [], counts = []] = await this.db.query(MSSQL_HEALTH_BATCH, { long_ms: this.opts.longStatementSeconds * 1000 });
    const health = emptyHealth(this.opts.connection, 'mssql');
    const c = counts[0];
    if (c) {
      health.sessions = { total: num(c['total']) ?? 0, active: num(c['active']) ?? 0, idleInTransaction: num(c['idle_in_transaction']) ?? 0 };
      const deadlocks = num(c['deadlocks']);
      if (deadlocks !== null) {
        this.deadlockBase ??= deadlocks;
        health.deadlocks = deadlocks - this.deadlockBase;
      } else {
        health.notes.push('deadlocks not counted: the "Number of Deadlocks/sec" performance counter is not readable');
      }
    }
    Object.assign(health, this.waitsOf(waits, blockers));
    const longRows: LongStatement[] = long.map((r) => ({
      session: num(r['session_id']) ?? 0,
      ours: this.ours(r),
      seconds: (num(r['elapsed_ms']) ?? 0) / 1000,
      who: who(r),
      statement: statementText(str(r['statement'])),
    }));
    health.long = longRows.slice(0, KEEP.long);
    health.longTotal = num(long[0]?.['total']) ?? 0;
    return health;
  }

  private waitsOf(rows: ReadonlyArray<Record<string, unknown>>, blockerRows: ReadonlyArray<Record<string, unknown>>): Pick<DatabaseHealth, 'waiting' | 'waitingTotal' | 'heads'> {
    const edges = rows.map((r) => {
      const by = num(r['blocking_session_id']);
      // 0 and negative ids are not sessions (-2 orphaned DTC, -3 deferred recovery, -4 latch owner unknown).
      return { session: num(r['session_id']) ?? 0, blockedBy: by !== null && by > 0 ? [by] : [] };
    });
    const heads = chainHeads(edges);
    const behind = waitersPerHead(heads);
    const waiting: WaitingSession[] = rows.map((r, i) => {
      const waitType = str(r['wait_type']) ?? '?';
      const session = edges[i]?.session ?? 0;
      return {
        session,
        ours: this.ours(r),
        waitSeconds: (num(r['wait_duration_ms']) ?? 0) / 1000,
        waitType,
        lockWait: waitType.startsWith('LCK_M_'),
        blockedBy: edges[i]?.blockedBy ?? [],
        headBlocker: heads.get(session) ?? null,
        who: who(r),
        statement: statementText(str(r['statement'])),
      };
    });
    const kept = waiting.slice(0, KEEP.waiting);
    const wanted = new Set(kept.map((w) => w.headBlocker).filter((h): h is number => h !== null));
    const headRows: HeadBlocker[] = blockerRows
      .filter((r) => wanted.has(num(r['session_id']) ?? -1))
      .map((r) => {
        const session = num(r['session_id']) ?? 0;
        const open = num(r['open_transaction_count']) ?? 0;
        const status = str(r['status']) ?? 'unknown';
        return {
          session,
          ours: this.ours(r),
          who: who(r),
          state: status === 'sleeping' && open > 0 ? 'sleeping in an open transaction' : status,
          xactSeconds: num(r['xact_seconds']),
          statement: statementText(str(r['statement'])),
          blocking: behind.get(session) ?? 0,
        };
      });
    return { waiting: kept, waitingTotal: waiting.length, heads: headRows.slice(0, KEEP.heads) };
  }

  private ours(r: Record<string, unknown>): boolean {
    return str(r['program_name']) === (this.opts.ourProgram ?? 'cutover');
  }
}

function who(r: Record<string, unknown>): string {
  const host = str(r['host_name']);
  return `${str(r['program_name']) || 'no program_name'} · ${str(r['login_name']) ?? '?'}${host ? `@${host}` : ''}`;
}

/** DMV numbers arrive as numbers, or as strings for bigint columns. */
function num(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  if (typeof v === 'bigint') return Number(v);
  return null;
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v.trim() : null);
