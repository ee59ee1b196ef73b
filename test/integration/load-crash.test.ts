import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureCheckpointTables } from '../../engine/etl/checkpoints.js';
import { TEST_DATABASE_URL } from '../support/engine-context.js';
import { createTableSql, sampleLine, sampleTable } from '../support/memory-encoded-source.js';

const S = `cutover_load_crash_${process.pid}`;
const ETL = `${S}_etl`;
const ROWS = 210_000;
const CHUNKS = 20;
const LOAD_ID = 'run-crash/etl';
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
let pool: pg.Pool;

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the loader child; with killAt, SIGKILLs it once that many chunks are booked. */
async function runChild(killAt?: number): Promise<Exit & { bookedAtKill: number | null }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/load-child.ts'], {
    cwd: REPO,
    env: {
      PATH: process.env.PATH ?? '', DATABASE_URL: TEST_DATABASE_URL, TARGET_SCHEMA: S, ETL_SCHEMA: ETL, LOAD_ID: LOAD_ID,
      ROWS: String(ROWS), CHUNK_ROWS: String(ROWS / CHUNKS), BATCH_DELAY_MS: '25',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += String(d)));
  child.stderr.on('data', (d) => (stderr += String(d)));
  const exited = new Promise<Exit>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr })));
  let bookedAtKill: number | null = null;
  if (killAt !== undefined) {
    let done = false;
    void exited.then(() => (done = true));
    while (!done) {
      const n = await booked();
      if (n >= killAt) {
        child.kill('SIGKILL');
        bookedAtKill = n;
        break;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  return { ...(await exited), bookedAtKill };
}

const booked = async (): Promise<number> => Number((await pool.query(`SELECT count(*) AS n FROM ${ETL}.chunks WHERE load_id = $1`, [LOAD_ID])).rows[0].n);

/** Rows in the table and rows booked, read in one snapshot. */
async function tableAndBooks(): Promise<{ rows: number; booked: number }> {
  const { rows } = await pool.query(
    `SELECT (SELECT count(*) FROM ${S}.big) AS rows, (SELECT coalesce(sum(rows), 0) FROM ${ETL}.chunks WHERE load_id = $1) AS booked`,
    [LOAD_ID],
  );
  return { rows: Number(rows[0].rows), booked: Number(rows[0].booked) };
}

async function md5OfTable(): Promise<string> {
  const hash = createHash('md5');
  const client = await pool.connect();
  try {
    const sink = new Writable({ write: (chunk: Buffer, _e, cb) => (hash.update(chunk), cb()) });
    await pipeline(client.query(copyTo(`COPY (SELECT * FROM ${S}.big ORDER BY id) TO STDOUT`)), sink);
  } finally {
    client.release();
  }
  return hash.digest('hex');
}

function md5OfSource(): string {
  const hash = createHash('md5');
  for (let i = 1; i <= ROWS; i++) hash.update(`${sampleLine(i)}\n`);
  return hash.digest('hex');
}

beforeAll(async () => {
  pool = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 3 });
  await pool.query(`DROP SCHEMA IF EXISTS ${S} CASCADE; DROP SCHEMA IF EXISTS ${ETL} CASCADE; CREATE SCHEMA ${S}`);
  await pool.query(createTableSql(sampleTable(S, 'big', ROWS).mapping));
  // Leftovers of a rehearsal: the fresh load must clear them (truncate 'if-fresh').
  await pool.query(`INSERT INTO ${S}.big (id, name) VALUES (-1, 'rehearsal'), (-2, 'rehearsal')`);
  await ensureCheckpointTables(pool, ETL);
});

afterAll(async () => {
  await pool.query(`DROP SCHEMA IF EXISTS ${S} CASCADE; DROP SCHEMA IF EXISTS ${ETL} CASCADE`);
  await pool.end();
});

describe('a loader process killed with SIGKILL mid-load', () => {
  it('resumes from its checkpoints: every row exactly once, the same bytes as the source', async () => {
    const kills: number[] = [];
    for (const killAt of [1, CHUNKS / 2, CHUNKS - 2]) {
      const exit = await runChild(killAt);
      expect(exit.signal, `child finished before the kill at ${killAt}: ${exit.stdout}${exit.stderr}`).toBe('SIGKILL');
      kills.push(exit.bookedAtKill ?? -1);
      // Whatever was in flight rolled back with the connection: the table holds exactly the booked chunks.
      const state = await tableAndBooks();
      expect(state.rows).toBe(state.booked);
      expect(state.booked).toBeLessThan(ROWS);
    }
    expect(kills[0]).toBeGreaterThanOrEqual(1);
    expect(kills[2]).toBeGreaterThan(kills[1] ?? 0);
    const bookedBefore = await booked();
    expect(bookedBefore).toBeLessThan(CHUNKS);

    const last = await runChild();
    expect(last.code, last.stderr).toBe(0);
    const report = JSON.parse(last.stdout.trim()) as { ok: boolean; totals: { chunksSkipped: number; chunksLoaded: number } };
    expect(report.ok).toBe(true);
    expect(report.totals.chunksSkipped).toBe(bookedBefore);
    expect(report.totals.chunksLoaded).toBe(CHUNKS - bookedBefore);

    const { rows } = await pool.query(`SELECT count(*) AS n, count(DISTINCT id) AS d, min(id) AS lo, max(id) AS hi FROM ${S}.big`);
    expect(rows[0]).toEqual({ n: String(ROWS), d: String(ROWS), lo: 1, hi: ROWS });
    expect(await booked()).toBe(CHUNKS);
    expect(await md5OfTable()).toBe(md5OfSource());
  }, 120_000);
});
