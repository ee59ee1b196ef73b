/**
 * What freeze.source and unfreeze.source need from the source database, one
 * implementation per engine (SQL Server, PostgreSQL). Every method uses one
 * control session opened for the step; probes open a fresh session, since a
 * freeze applies to sessions opened after it.
 */
export interface SessionInfo {
  id: string;
  login: string | null;
  host: string | null;
  program: string | null;
  status: string | null;
  /** What the session runs now (SQL Server request command; PostgreSQL first word of the statement). */
  command: string | null;
  /** Seconds since its last request started (or its state last changed). */
  idleSeconds: number | null;
  openTransactions: number;
}

export interface RoleState {
  name: string;
  exists: boolean;
  canLogin: boolean;
}

export interface SourceState {
  readOnly: boolean;
  /** The engine's own words, e.g. "Updateability READ_ONLY" or "default_transaction_read_only = on". */
  describe: string;
  roles: RoleState[];
}

export interface ProbeOutcome {
  /** The write failed. */
  refused: boolean;
  /** It failed because the database is read-only (3906 / SQLSTATE 25006), which is the proof. */
  readOnly: boolean;
  message: string;
}

/** PostgreSQL only: who could still write after the freeze, and why. SQL Server's READ_ONLY holds for every login. */
export interface Residual {
  writers: Array<{ role: string; tables: number }>;
  superusers: string[];
  /** Roles whose own setting turns read-only off again. */
  overrides: string[];
}

export interface FreezeDriver {
  readonly dialect: 'postgres' | 'mssql';
  currentDatabase(): Promise<string>;
  sessions(database: string): Promise<SessionInfo[]>;
  /** Why the session list may be incomplete (SQL Server without VIEW SERVER STATE shows a login only its own sessions); null when it is complete. */
  sessionsCaveat(): Promise<string | null>;
  state(database: string, roles: readonly string[]): Promise<SourceState>;
  /** Freezes and ends the sessions that could go on writing; returns which were ended and which could not be. */
  freeze(database: string, roles: readonly string[]): Promise<{ ended: string[]; notEnded: string[] }>;
  unfreeze(database: string, roles: readonly string[]): Promise<void>;
  /** Runs the runbook's own statements (the alternative freeze, or its undo). */
  runScript(text: string): Promise<void>;
  /** The runbook's verify_sql: its first value must be 1 / true. */
  verify(sql: string): Promise<{ ok: boolean; value: string | null }>;
  probe(database: string, probeSql: string | undefined, tag: string): Promise<ProbeOutcome>;
  residual(database: string, excluded: readonly string[]): Promise<Residual>;
  close(): Promise<void>;
}

/** 1, true, on, yes (any case), as a database returns a flag. */
export const truthy = (value: unknown): boolean => value === true || value === 1 || (typeof value === 'string' && /^(1|true|on|yes|t)$/i.test(value.trim()));
