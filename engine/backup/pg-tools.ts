import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { CutoverError } from '../../runbook/errors.js';

/**
 * Small wrappers around the PostgreSQL client programs the backup actions
 * (and the emergency restore) use. Programs are run from argv, never a shell.
 */
const run = promisify(execFile);
/** A listing of a dump with many thousand objects is a few MB at most. */
const LIST_MAX_BUFFER = 64 * 1024 * 1024;

/**
 * How a client program reaches a database without the password in its argv
 * (visible in `ps`): the URL minus its password as --dbname, the password in
 * PGPASSWORD. Only PATH and locale are inherited; the worker's secrets stay out.
 */
export function libpqConnection(url: string): { dbname: string; env: NodeJS.ProcessEnv } {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C.UTF-8', PGCONNECT_TIMEOUT: '15' };
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new CutoverError('backup.bad_url', 'the connection URL is not a postgres:// URL, so pg_dump cannot be pointed at it');
  }
  if (u.password) env.PGPASSWORD = decodeURIComponent(u.password);
  u.password = '';
  return { dbname: u.toString(), env };
}

/** The major version of a client program (`pg_dump --version` → 16). */
export async function clientMajor(program: 'pg_dump' | 'pg_restore', signal: AbortSignal): Promise<number> {
  let stdout: string;
  try {
    ({ stdout } = await run(program, ['--version'], { signal }));
  } catch (err) {
    throw new CutoverError('backup.tool_missing', `${program} is not installed on the worker (or not on its PATH)`, { cause: err });
  }
  const major = /\)\s*(\d+)/.exec(stdout)?.[1] ?? /(\d+)\./.exec(stdout)?.[1];
  if (!major) throw new CutoverError('backup.tool_version', `could not read the version of ${program} from "${stdout.trim()}"`);
  return Number(major);
}

export interface DumpListing {
  /** TABLE DATA entries: the tables whose rows the dump holds. */
  tables: number;
  entries: number;
}

/** `pg_restore --list`: reads the dump's table of contents; throws a CutoverError when the file is not a readable dump. */
export async function listDump(file: string, signal: AbortSignal): Promise<DumpListing> {
  let stdout: string;
  try {
    ({ stdout } = await run('pg_restore', ['--list', file], { signal, maxBuffer: LIST_MAX_BUFFER, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } }));
  } catch (err) {
    const stderr = err && typeof err === 'object' && 'stderr' in err ? String(err.stderr).trim().split('\n').pop() : '';
    throw new CutoverError('backup.unreadable', `pg_restore cannot read ${file}${stderr ? `: ${stderr}` : ''}`, { cause: err });
  }
  const lines = stdout.split('\n').filter((l) => l && !l.startsWith(';'));
  return { entries: lines.length, tables: lines.filter((l) => / TABLE DATA /.test(l)).length };
}

/** sha256 of a file, hex, streamed (dumps are large). */
export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}
