/**
 * Which errors are transient: a try that met one may simply be run again
 * (when the step's action allows it, runbook/retry-policy.ts). Everything not
 * named here fails the step at once: a syntax error, a constraint violation, a
 * login refused or a missing table will not go away by waiting.
 *
 * Errors reach the step runner wrapped (ActionError with the driver's error as
 * `cause`, mssql's `originalError`, Node's AggregateError for a host with
 * several addresses), so the whole chain is looked at.
 */
export interface TransientError {
  /** Namespaced, for the event and the thread: postgres.40P01, mssql.1205, net.ECONNRESET… */
  code: string;
  /** What it was, in a few words for people. */
  reason: string;
}

/** PostgreSQL SQLSTATEs that a second try can get past (docs/crash-recovery.md has the table). */
const POSTGRES: Record<string, string> = {
  '40001': 'serialization failure',
  '40P01': 'deadlock detected',
  '55P03': 'lock not available',
  // The backend went away (pg_terminate_backend, a restart, a failover): the transaction died with it, nothing committed.
  '57P01': 'server connection terminated by an administrator',
  '57P02': 'server shut down after a crash',
  '57P03': 'server not accepting connections yet',
  '08000': 'connection failure',
  '08001': 'could not establish the connection',
  '08003': 'connection does not exist',
  '08006': 'connection failure',
};

/** SQL Server error numbers a second try can get past. */
const MSSQL_NUMBERS: Record<number, string> = {
  1205: 'chosen as deadlock victim',
  1222: 'lock request timed out',
};

/** Codes of the mssql/tedious drivers (a timeout, a socket that broke) and of Node's sockets. */
const DRIVER_CODES: Record<string, string> = {
  ETIMEOUT: 'SQL Server request or connection timed out',
  ESOCKET: 'SQL Server connection broke (socket error)',
  ECONNCLOSED: 'SQL Server connection closed',
};
const NET_CODES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ETIMEDOUT: 'connection timed out',
  EPIPE: 'connection broken (EPIPE)',
  ECONNABORTED: 'connection aborted',
};

/** node-postgres says these in words only (no code): the socket ended or the connect timed out. */
const PG_MESSAGES: Array<[RegExp, string, string]> = [
  [/^Connection terminated unexpectedly/, 'postgres.connection_lost', 'connection to PostgreSQL lost'],
  [/^Connection terminated due to connection timeout/, 'postgres.connect_timeout', 'connecting to PostgreSQL timed out'],
  [/^timeout exceeded when trying to connect/, 'postgres.connect_timeout', 'connecting to PostgreSQL timed out'],
];

const MAX_DEPTH = 8;

/** The transient error somewhere in err's chain, or null when there is none (then the step fails at once). */
export function transientError(err: unknown): TransientError | null {
  const seen = new Set<unknown>();
  const queue: Array<{ node: unknown; depth: number }> = [{ node: err, depth: 0 }];
  for (let next = queue.shift(); next; next = queue.shift()) {
    const { node, depth } = next;
    if (node === null || typeof node !== 'object' || seen.has(node) || depth > MAX_DEPTH) continue;
    seen.add(node);
    const found = classify(node);
    if (found) return found;
    for (const inner of linked(node)) queue.push({ node: inner, depth: depth + 1 });
  }
  return null;
}

function classify(node: object): TransientError | null {
  const code = field(node, 'code');
  const number = field(node, 'number');
  if (typeof code === 'string') {
    if (POSTGRES[code]) return { code: `postgres.${code}`, reason: POSTGRES[code] };
    if (DRIVER_CODES[code]) return { code: `mssql.${code}`, reason: DRIVER_CODES[code] };
    if (NET_CODES[code]) return { code: `net.${code}`, reason: NET_CODES[code] };
  }
  if (typeof number === 'number' && MSSQL_NUMBERS[number]) return { code: `mssql.${number}`, reason: MSSQL_NUMBERS[number] };
  const message = field(node, 'message');
  if (typeof message === 'string') {
    for (const [pattern, c, reason] of PG_MESSAGES) if (pattern.test(message.slice(0, 200))) return { code: c, reason };
  }
  return null;
}

/** The errors an error carries: its cause, mssql's originalError, an AggregateError's errors. */
function linked(node: object): unknown[] {
  const errors = field(node, 'errors');
  return [field(node, 'cause'), field(node, 'originalError'), ...(Array.isArray(errors) ? errors.slice(0, 10) : [])];
}

const field = (node: object, key: string): unknown => Reflect.get(node, key);
