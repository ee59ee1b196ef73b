import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { userInfo } from 'node:os';
import { CutoverError } from '../runbook/errors.js';

const run = promisify(execFile);

/** Who the embedded PostgreSQL runs as: null when it runs as this process's own user. */
export interface Runner {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
}

/**
 * PostgreSQL refuses to run as root, so as root it runs as the `postgres`
 * user (created when missing, as in a fresh container); any other user runs
 * it as themselves.
 */
export async function postgresRunner(): Promise<Runner | null> {
  if (userInfo().uid !== 0) return null;
  const existing = await lookup('postgres');
  if (existing) return existing;
  try {
    await run('groupadd', ['--system', 'postgres']).catch(() => undefined); // the group may exist without the user
    await run('useradd', ['--system', '--gid', 'postgres', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres']);
  } catch (cause) {
    throw new CutoverError('local.postgres_user', 'PostgreSQL cannot run as root, and the postgres user it would run as could not be created.', {
      cause,
      detail: 'create it (useradd --system postgres), run npm start as an ordinary user, or set DATABASE_URL to a PostgreSQL of yours',
    });
  }
  const created = await lookup('postgres');
  if (!created) throw new CutoverError('local.postgres_user', 'The postgres user was created but cannot be found.', { detail: 'id -u postgres fails' });
  return created;
}

async function lookup(name: string): Promise<Runner | null> {
  try {
    const [uid, gid] = await Promise.all([run('id', ['-u', name]), run('id', ['-g', name])]);
    return { name, uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  } catch {
    return null;
  }
}

/**
 * Whether `runner` can enter `dir` (search permission on it and every folder
 * above), asked the way PostgreSQL will meet it: a shell started with the
 * same uid and gid and no supplementary groups (what spawn does). Never throws.
 */
export function canEnter(runner: Runner | null, dir: string): Promise<boolean> {
  if (runner === null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', 'cd -- "$1"', 'sh', dir], { uid: runner.uid, gid: runner.gid, stdio: 'ignore' });
    child.once('error', () => resolve(false));
    child.once('close', (code) => resolve(code === 0));
  });
}
