/**
 * What the worker saw in one database while a long step ran. Plain JSON: a
 * sample travels in the run's events (`step.health`), so it stays small —
 * the engine keeps the longest waits and statements, and counts the rest.
 */

/** A session (PostgreSQL pid, SQL Server session_id) waiting on a lock or on another session. */
export interface WaitingSession {
  session: number;
  /** Opened by cutover itself (application_name / program_name "cutover"): the step's own work. */
  ours: boolean;
  waitSeconds: number;
  /** `Lock:relation` (PostgreSQL wait_event_type:wait_event), `LCK_M_IX` (SQL Server wait_type). */
  waitType: string;
  /** A heavyweight lock wait (PostgreSQL wait_event_type Lock, SQL Server LCK_M_*). */
  lockWait: boolean;
  /** The sessions it waits on directly; 0 stands for a prepared transaction (PostgreSQL). Empty: none named. */
  blockedBy: number[];
  /** The session at the head of its chain (itself blocked by nobody), when the chain can be followed. */
  headBlocker: number | null;
  /** "application · user@host" */
  who: string;
  /** The statement, string literals masked, clipped. */
  statement: string;
}

/** A session at the head of a blocking chain: what it is and what it last did. */
export interface HeadBlocker {
  session: number;
  ours: boolean;
  who: string;
  /** `idle in transaction`, `active`, `sleeping`… as the database says. */
  state: string;
  /** How long its transaction has been open; null when the database does not tell. */
  xactSeconds: number | null;
  statement: string;
  /** Sessions waiting behind it, directly or through others. */
  blocking: number;
}

export interface LongStatement {
  session: number;
  ours: boolean;
  seconds: number;
  who: string;
  statement: string;
}

/** One filesystem under the database's data directory or a tablespace, as the worker's host sees it. */
export interface DiskVolume {
  /** A directory on it (the data directory or a tablespace location). */
  path: string;
  tablespaces: string[];
  freeBytes: number;
  totalBytes: number;
  /** What those tablespaces occupy (pg_tablespace_size); null where not readable. */
  tablespaceBytes: number | null;
}

export interface ReplicaLag {
  /** The standby's application_name, or "this standby" when the sampled server is one. */
  name: string;
  state: string;
  replayLagSeconds: number | null;
  replayLagBytes: number | null;
}

export interface DatabaseHealth {
  connection: string;
  kind: 'postgres' | 'mssql';
  /** Set when this database could not be sampled (the other fields are then empty): reported, never thrown. */
  error: string | null;
  sessions: { total: number; active: number; idleInTransaction: number } | null;
  /** The longest waits, longest first (at most a handful); `waitingTotal` counts them all. */
  waiting: WaitingSession[];
  waitingTotal: number;
  heads: HeadBlocker[];
  long: LongStatement[];
  longTotal: number;
  /** Deadlocks since the watch began (the database's cumulative counter minus its first reading); null: not readable. */
  deadlocks: number | null;
  /** Replicas of this server and their lag (PostgreSQL), or this standby's replay delay; null: none or not sampled. */
  replication: ReplicaLag[] | null;
  /** Free space per filesystem; null: not readable from the worker (see notes). */
  disk: DiskVolume[] | null;
  /** What could not be read and why, in words for the thread (e.g. missing VIEW SERVER STATE). */
  notes: string[];
}

/** A wait over the runbook's threshold: the condition that opens an alert episode. */
export interface HealthFinding {
  kind: 'blocking' | 'lock_wait';
  connection: string;
  session: number;
  ours: boolean;
  waitSeconds: number;
  thresholdSeconds: number;
  /** One sentence naming the waiter, what it waits on and the head blocker. */
  text: string;
}

export interface HealthSample {
  at: number;
  databases: DatabaseHealth[];
  /** The waits over threshold in this sample (empty: nothing to alert on). */
  findings: HealthFinding[];
  /** Every database answered: only a complete sample without findings can clear an alert. */
  complete: boolean;
}

/** An empty reading of one database, for a sampling error or as a starting point. */
export function emptyHealth(connection: string, kind: DatabaseHealth['kind'], error: string | null = null): DatabaseHealth {
  return {
    connection,
    kind,
    error,
    sessions: null,
    waiting: [],
    waitingTotal: 0,
    heads: [],
    long: [],
    longTotal: 0,
    deadlocks: null,
    replication: null,
    disk: null,
    notes: [],
  };
}
