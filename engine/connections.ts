import pg from 'pg';
import mssql from 'mssql';
import type { Logger } from 'pino';
import { CutoverError } from '../runbook/errors.js';
import { SECRET_NAME, scrub } from './secrets.js';

export type ConnectionKind = 'postgres' | 'mssql';
export interface ConnectionSpec {
  kind: ConnectionKind;
  url: string;
}

/** Shows a connection URL without its password (or password-like query parameters). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    for (const key of [...u.searchParams.keys()]) if (SECRET_NAME.test(key)) u.searchParams.set(key, '***');
    return u.toString().replaceAll('%2A%2A%2A', '***');
  } catch {
    // Not parseable (or an ADO-style "Password=…;" string): still never echo a password.
    return url.replace(/(\/\/[^/:@\s]*:)[^@\s]*@/g, '$1***@').replace(/\b(password|pwd)(\s*=\s*)[^;]*/gi, '$1$2***');
  }
}

/** The secrets a URL carries (password, raw and decoded; password-like parameters). */
function urlSecrets(url: string): string[] {
  try {
    const u = new URL(url);
    const out = [url];
    if (u.password) out.push(u.password, decodeURIComponent(u.password));
    for (const [key, value] of u.searchParams) if (SECRET_NAME.test(key)) out.push(value);
    return out;
  } catch {
    return [url];
  }
}

const MSSQL_FLAGS = ['encrypt', 'trustServerCertificate', 'multiSubnetFailover', 'readOnlyIntent'] as const;
const MSSQL_MS = ['connectTimeout', 'connectionTimeout', 'requestTimeout'] as const;

/**
 * Turns mssql://user:pass@host:1433/db?encrypt=false&trustServerCertificate=true
 * into an mssql config. Unknown parameters are refused so a typo cannot
 * silently turn encryption back on or off.
 */
export function mssqlConfigFromUrl(url: string): mssql.config {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    // Not echoed: text that is no URL may be a connection string whose password we cannot locate.
    throw new CutoverError('connection.bad_url', 'expected a URL like mssql://user:pass@host:1433/db?encrypt=true');
  }
  if (u.protocol !== 'mssql:' && u.protocol !== 'sqlserver:') {
    throw new CutoverError('connection.bad_url', `expected an mssql:// URL, got ${redactUrl(url)}`);
  }
  if (!u.hostname) throw new CutoverError('connection.bad_url', `expected a host in ${redactUrl(url)}`);
  // lowerCaseGuids: PostgreSQL prints a uuid in lower case, and the driver writes either case from the GUID's 16 bytes
  // at the same cost, so the encoder takes the value as it comes (engine/etl/encoder.ts uuidText).
  const options: NonNullable<mssql.config['options']> = { encrypt: true, trustServerCertificate: false, appName: 'cutover', lowerCaseGuids: true };
  // requestTimeout 0 = none: the step timeout (ctx.signal) bounds a statement, not the driver's 15 s default.
  const config: mssql.config = { server: u.hostname, options, requestTimeout: 0, connectionTimeout: 15_000 };
  if (u.port) config.port = Number(u.port);
  if (u.username) config.user = decodeURIComponent(u.username);
  if (u.password) config.password = decodeURIComponent(u.password);
  const database = decodeURIComponent(u.pathname.replace(/^\//, ''));
  if (database) config.database = database;
  for (const [key, value] of u.searchParams) {
    if ((MSSQL_FLAGS as readonly string[]).includes(key)) {
      if (value !== 'true' && value !== 'false') {
        throw new CutoverError('connection.bad_url', `expected ${key}=true or ${key}=false in ${redactUrl(url)}`);
      }
      Object.assign(options, { [key]: value === 'true' });
    } else if ((MSSQL_MS as readonly string[]).includes(key)) {
      const ms = Number(value);
      if (!Number.isInteger(ms) || ms < 0) {
        throw new CutoverError('connection.bad_url', `expected ${key} in milliseconds in ${redactUrl(url)}`);
      }
      if (key === 'requestTimeout') config.requestTimeout = ms;
      else config.connectionTimeout = ms;
    } else if (key === 'instanceName' || key === 'appName') {
      options[key] = value;
      if (key === 'instanceName') delete config.port; // a named instance is found through the browser service
    } else if (key === 'domain') {
      config.domain = value;
    } else {
      throw new CutoverError(
        'connection.bad_url',
        `unknown parameter "${key}" in ${redactUrl(url)}; expected one of ${[...MSSQL_FLAGS, ...MSSQL_MS, 'instanceName', 'appName', 'domain'].join(', ')}`,
      );
    }
  }
  return config;
}

/**
 * Opens the connections one job's runbook declares; the job closes them when
 * it ends. Chosen by the process wiring (createActions), so a test can run the
 * step runner on a registry that never connects.
 */
export type ConnectionOpener = (specs: Record<string, ConnectionSpec>, log: Logger) => ConnectionRegistry;

/** The production opener: a registry that connects lazily, on an action's first query. */
export const openConnections: ConnectionOpener = (specs, log) => new ConnectionRegistry(specs, log);

/**
 * The connections a runbook declares, opened lazily and at most one pool per
 * name, so a runbook naming a server the worker never touches costs nothing.
 */
export class ConnectionRegistry {
  private readonly pgPools = new Map<string, pg.Pool>();
  private readonly msPools = new Map<string, Promise<mssql.ConnectionPool>>();
  private readonly secrets: string[];

  constructor(
    private readonly specs: Record<string, ConnectionSpec>,
    private readonly log?: Logger,
  ) {
    this.secrets = Object.values(specs).flatMap((s) => urlSecrets(s.url));
  }

  names(): string[] {
    return Object.keys(this.specs);
  }

  kind(name: string): ConnectionKind {
    return this.spec(name).kind;
  }

  /** Where a connection points, without its password: fit for messages. */
  describe(name: string): string {
    return redactUrl(this.spec(name).url);
  }

  /** Removes every password and URL these connections carry from text (driver messages, output). */
  redact(text: string): string {
    return scrub(text, this.secrets);
  }

  postgres(name: string): pg.Pool {
    const existing = this.pgPools.get(name);
    if (existing) return existing;
    const pool = new pg.Pool(this.postgresConfig(name));
    // An idle client dying (server restart, failover) must not crash the worker; the next query reconnects.
    pool.on('error', (err) => this.log?.warn({ connection: name, err: this.redact(err.message) }, 'idle postgres client failed'));
    this.pgPools.set(name, pool);
    return pool;
  }

  /**
   * A new unpooled client for control work (cancelling a backend, the health
   * watch) when the pool may be exhausted; the caller ends it.
   */
  postgresClient(name: string, overrides: Pick<pg.ClientConfig, 'application_name' | 'statement_timeout'> = {}): pg.Client {
    return new pg.Client({ ...this.postgresConfig(name), ...overrides });
  }

  async mssql(name: string): Promise<mssql.ConnectionPool> {
    const spec = this.spec(name, 'mssql');
    let pending = this.msPools.get(name);
    if (!pending) {
      const pool = new mssql.ConnectionPool(mssqlConfigFromUrl(spec.url));
      pool.on('error', (err: Error) => this.log?.warn({ connection: name, err: this.redact(err.message) }, 'mssql pool error'));
      pending = pool.connect();
      // A failed connect is forgotten so the next attempt retries instead of replaying the failure.
      pending.catch(() => this.msPools.delete(name));
      this.msPools.set(name, pending);
    }
    return pending;
  }

  /**
   * The settings of an mssql connection, for encode threads that open
   * connections of their own (engine/etl/threads/). Holds the password: hand
   * it to nothing that logs or leaves the process.
   */
  mssqlConfig(name: string): mssql.config {
    return mssqlConfigFromUrl(this.spec(name, 'mssql').url);
  }

  /**
   * A private one-connection pool, connected; the caller closes it. mssql
   * hands each request any pooled connection, so GO batches outside a
   * transaction need this to share one session (temp tables, SET options).
   */
  async mssqlSession(name: string, overrides: { appName?: string; requestTimeout?: number } = {}): Promise<mssql.ConnectionPool> {
    const config = mssqlConfigFromUrl(this.spec(name, 'mssql').url);
    const options = { ...config.options, ...(overrides.appName ? { appName: overrides.appName } : {}) };
    const timeout = overrides.requestTimeout !== undefined ? { requestTimeout: overrides.requestTimeout } : {};
    const pool = new mssql.ConnectionPool({ ...config, ...timeout, options, pool: { min: 0, max: 1 } });
    pool.on('error', () => undefined);
    return pool.connect();
  }

  async close(): Promise<void> {
    const ending = [
      ...[...this.pgPools.values()].map((p) => p.end()),
      ...[...this.msPools.values()].map(async (p) => (await p).close()),
    ];
    this.pgPools.clear();
    this.msPools.clear();
    await Promise.allSettled(ending);
  }

  private postgresConfig(name: string): pg.PoolConfig {
    return {
      connectionString: this.spec(name, 'postgres').url,
      application_name: 'cutover',
      // pg waits forever for a connection by default; an unreachable server must fail the step instead.
      connectionTimeoutMillis: 15_000,
      // Long ETL statements sit silent for hours; keepalives stop NATs and firewalls from dropping them.
      keepAlive: true,
    };
  }

  private spec(name: string, expected?: ConnectionKind): ConnectionSpec {
    const spec = Object.hasOwn(this.specs, name) ? this.specs[name] : undefined;
    if (!spec) {
      throw new CutoverError(
        'connection.unknown',
        `no connection named "${name}" in this runbook (declared: ${this.names().join(', ') || 'none'})`,
      );
    }
    if (expected && spec.kind !== expected) {
      throw new CutoverError('connection.kind', `connection "${name}" is ${spec.kind}, not ${expected}`);
    }
    return spec;
  }
}
