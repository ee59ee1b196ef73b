/**
 * The embedded PostgreSQL of local mode: it initialises once and keeps its
 * data, stops cleanly, and survives what a killed `npm start` leaves behind —
 * a postmaster still running, or a postmaster.pid whose PID now belongs to
 * another process.
 */
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../config/logger.js';
import { startEmbeddedPostgres } from '../../local/embedded-postgres.js';
import { CutoverError } from '../../runbook/errors.js';
import { REPO } from '../support/cutover-processes.js';

const log = createLogger('test', { level: 'silent' });

async function query(url: string, sql: string): Promise<unknown[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('embedded PostgreSQL for local mode', () => {
  let root: string;
  let dataDir: string;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'cutover-embedded-'));
    // As root the server runs as the postgres user, who must be able to enter the folder.
    await chmod(root, 0o755);
    dataDir = join(root, 'postgres');
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('initialises on first start, keeps data across a clean stop, and removes its pid file', async () => {
    const first = await startEmbeddedPostgres({ dataDir, log });
    expect(first.url).toMatch(/^postgres:\/\/postgres:[^@]+@127\.0\.0\.1:\d+\/cutover$/);
    await query(first.url, 'CREATE TABLE kept (n int); INSERT INTO kept VALUES (42)');
    await first.stop();
    expect(existsSync(join(dataDir, 'postmaster.pid'))).toBe(false);
    const second = await startEmbeddedPostgres({ dataDir, log });
    expect(await query(second.url, 'SELECT n FROM kept')).toEqual([{ n: 42 }]);
    expect(await query(second.url, "SELECT current_setting('server_encoding') AS e")).toEqual([{ e: 'UTF8' }]);
    await second.stop();
    await second.stop(); // idempotent
  }, 120_000);

  it('starts over a postmaster.pid whose PID now belongs to another process', async () => {
    await writeFile(join(dataDir, 'postmaster.pid'), `${process.pid}\n${dataDir}\n`);
    const server = await startEmbeddedPostgres({ dataDir, log });
    expect(await query(server.url, 'SELECT 1 AS ok')).toEqual([{ ok: 1 }]);
    await server.stop();
  }, 60_000);

  it('stops the postmaster a killed run left running, then starts afresh', async () => {
    // A child starts the server and is SIGKILLed: no cleanup runs, the postmaster is orphaned.
    const script = `import { startEmbeddedPostgres } from './local/embedded-postgres.js';
import { createLogger } from './config/logger.js';
const pg = await startEmbeddedPostgres({ dataDir: ${JSON.stringify(dataDir)}, log: createLogger('child', { level: 'silent' }) });
console.log('READY ' + pg.port);`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('READY') && resolve());
      child.once('exit', (code) => reject(new Error(`child exited ${code}`)));
    });
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const orphan = Number((await readFile(join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
    expect(alive(orphan)).toBe(true);

    const server = await startEmbeddedPostgres({ dataDir, log });
    expect(alive(orphan)).toBe(false);
    expect(await query(server.url, 'SELECT n FROM kept')).toEqual([{ n: 42 }]);
    await server.stop();
  }, 120_000);

  it('refuses clearly, stopping nothing it did not start, when its port is taken', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      const failure = await startEmbeddedPostgres({ dataDir, log, port }).catch((err: unknown) => err);
      expect(failure).toBeInstanceOf(CutoverError);
      expect((failure as CutoverError).message).toMatch(/could not start: postgres exited before it was ready[\s\S]*what to do:[\s\S]*DATABASE_URL[\s\S]*Address already in use/);
    } finally {
      taken.close();
    }
    expect(existsSync(join(dataDir, 'postmaster.pid'))).toBe(false);
  }, 60_000);
});

// The usual container: root, the clone in a private folder (/root, `mktemp -d`) the postgres user cannot enter (issue 16).
describe.skipIf(userInfo().uid !== 0)('embedded PostgreSQL as root in a mode-700 folder', () => {
  let root: string;
  let shared: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'cutover-private-')); // mode 700, as mktemp -d makes it
    shared = await mkdtemp(join(tmpdir(), 'cutover-shared-'));
    await chmod(shared, 0o755);
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
    await rm(shared, { recursive: true, force: true });
  });

  it('keeps its data where the postgres user can reach it, says where, and keeps it across starts', async () => {
    expect((await stat(root)).mode & 0o777).toBe(0o700);
    const dataDir = join(root, 'var', 'local', 'postgres');
    const first = await startEmbeddedPostgres({ dataDir, log, sharedDir: shared });
    expect(first.dataDir.startsWith(`${shared}/cluster-`)).toBe(true);
    await query(first.url, 'CREATE TABLE kept (n int); INSERT INTO kept VALUES (7)');
    await first.stop();
    const second = await startEmbeddedPostgres({ dataDir, log, sharedDir: shared });
    expect(second.dataDir).toBe(first.dataDir);
    expect(await query(second.url, 'SELECT n FROM kept')).toEqual([{ n: 7 }]);
    await second.stop();
    expect(await readFile(join(dirname(first.dataDir), 'WHOSE.txt'), 'utf8')).toContain(dataDir);
  }, 180_000);

  it('refuses a shared folder others may write to, saying how to fix it', async () => {
    const open = await mkdtemp(join(tmpdir(), 'cutover-open-'));
    await chmod(open, 0o777);
    try {
      await expect(startEmbeddedPostgres({ dataDir: join(root, 'other', 'postgres'), log, sharedDir: open })).rejects.toThrow(/writable by root only.*chmod 755/);
      expect(await readdir(open)).toEqual([]);
    } finally {
      await rm(open, { recursive: true, force: true });
    }
  }, 60_000);
});
