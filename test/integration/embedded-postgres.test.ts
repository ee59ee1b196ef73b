/**
 * The embedded PostgreSQL of local mode: it initialises once and keeps its
 * data, stops cleanly, and survives what a killed `npm start` leaves behind —
 * a postmaster still running, or a postmaster.pid whose PID now belongs to
 * another process.
 */
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../config/logger.js';
import { startEmbeddedPostgres } from '../../local/embedded-postgres.js';
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
});
