import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { etlCopyAction } from '../../engine/actions/etl-copy.js';
import { etlSyncAction } from '../../engine/actions/etl-sync.js';
import { schemaApplyAction } from '../../engine/actions/schema-apply.js';
import { bookedName } from '../../engine/etl/checkpoints.js';
import { deleteMissing, deleteRanges } from '../../engine/etl/sync-deletes.js';
import { bookRange, ensureSyncTables, lockTable } from '../../engine/etl/sync-marks.js';
import type { FaultInstant } from '../../engine/fault-injection.js';
import { conversionOptions } from '../../engine/etl/conversion-options.js';
import { convertSchema } from '../../engine/schema/convert.js';
import { ACTIONS } from '../../runbook/action-catalog.js';
import { actionContext, TEST_DATABASE_URL } from '../support/engine-context.js';
import { etlFaultModel, etlFaultSource } from '../support/etl-fault-source.js';

/**
 * Issue 12 for etl.copy and etl.sync. The worker reads them from SQL Server
 * only (a runbook connection of kind mssql), so they cannot run in a worker
 * process on this machine; instead each runs here in a child process of its
 * own with the worker's fault hook (NODE_ENV=test, CUTOVER_TEST_KILL_AT),
 * against an in-memory SQL Server stand-in and real PostgreSQL, and is
 * SIGKILLed before its effect, inside it (a chunk's rows and checkpoint, or a
 * sync window's rows and its high-water mark, written and not committed), and
 * after it committed everything (the action returned, nothing reported). A
 * second child then runs the same step as the worker taking the job over
 * would. What happens after the success event is appended does not depend on
 * the action (the step is finished; test/e2e/fault-injection.test.ts covers it
 * with load, which shares etl.copy's chunk transaction).
 */
const P = process.pid;
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const ROWS = 6000;
const CHUNK_ROWS = 1000;
const CHANGES = 300;
const INSTANTS: Array<[FaultInstant, string]> = [
  ['before-effect', 'b'],
  ['in-effect', 'i'],
  ['after-commit', 'c'],
];
const BOOKS = `etlf_books_${P}`;
const schemaOf = (action: string, s: string) => `etlf_${P}_${action.replace(".", "_")}_${s}`;
const db = new pg.Pool({ connectionString: TEST_DATABASE_URL });
db.on('error', () => undefined);

interface Attempt {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** One attempt of the step in a child process; killAt makes it SIGKILL itself at that instant. */
function attempt(action: 'etl.copy' | 'etl.sync', s: string, killAt?: FaultInstant): Promise<Attempt> {
  const stepId = `${action === 'etl.copy' ? 'copy' : 'sync'}-${s}`;
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/etl-step-child.ts'], {
    cwd: REPO,
    env: {
      PATH: process.env.PATH ?? '', TEST_DATABASE_URL, NODE_ENV: 'test', ACTION: action, RUN_ID: `etlf-${P}-${s}`, STEP_ID: stepId,
      TARGET_SCHEMA: schemaOf(action, s), BOOKS, ROWS: String(ROWS), CHANGES: action === 'etl.sync' ? String(CHANGES) : '0', CHUNK_ROWS: String(CHUNK_ROWS),
      ...(killAt ? { CUTOVER_TEST_KILL_AT: `${stepId}@${killAt}` } : {}),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += String(d)));
  child.stderr.on('data', (d) => (stderr += String(d)));
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr })));
}

/** Kills one attempt at the instant, then runs the step again to its end; returns the second attempt's result. */
async function throughKill(action: 'etl.copy' | 'etl.sync', s: string, instant: FaultInstant): Promise<{ summary: string; details: Record<string, unknown> }> {
  const killed = await attempt(action, s, instant);
  expect(killed.signal, killed.stderr).toBe('SIGKILL');
  expect(killed.stderr).toContain(`fault injection: SIGKILL at ${instant}`);
  const again = await attempt(action, s);
  expect(again.code, again.stderr + again.stdout).toBe(0);
  const out = JSON.parse(again.stdout.trim().split('\n').pop() ?? '{}') as { ok: boolean; summary: string; details: Record<string, unknown> };
  expect(out.ok).toBe(true);
  return out;
}

const rowsOf = async (schema: string) =>
  (await db.query<{ n: string; ids: string; changed: string; fresh: string }>(
    `SELECT count(*) AS n, count(DISTINCT it_id) AS ids, count(*) FILTER (WHERE it_name LIKE 'changed %') AS changed, count(*) FILTER (WHERE it_name LIKE 'new %') AS fresh FROM "${schema}".item`,
  )).rows[0];
const bookedChunks = async (s: string) => Number((await db.query<{ n: string }>(`SELECT count(*) AS n FROM "${BOOKS}".chunks WHERE load_id = $1`, [`etlf-${P}-${s}/copy-${s}`])).rows[0]?.n);

beforeAll(async () => {
  for (const [, s] of INSTANTS) {
    for (const action of ['etl.copy', 'etl.sync']) {
      const ctx = actionContext({ runId: `etlf-${P}-${s}`, stepId: `pre-${action}` });
      await schemaApplyAction(async () => etlFaultSource(ROWS)).run(ctx, ACTIONS['schema.apply']?.params.parse({ source: 'src', target: 'target', phase: 'pre-load', target_schema: schemaOf(action, s) }));
      await ctx.connections.close();
    }
    // The sync's starting point, as a runbook has it: marks recorded, then the full copy; the source changes afterwards (in the child).
    const p = { source: 'src', target: 'target', target_schema: schemaOf('etl.sync', s), bookkeeping_schema: BOOKS, chunk_rows: CHUNK_ROWS };
    const source = etlFaultSource(ROWS);
    const marks = actionContext({ runId: `etlf-${P}-${s}`, stepId: 'initial' });
    await etlSyncAction(async () => source).run(marks, ACTIONS['etl.sync']?.params.parse({ ...p, initial: true }));
    await marks.connections.close();
    const copy = actionContext({ runId: `etlf-${P}-${s}`, stepId: 'full-copy' });
    await etlCopyAction(async () => source).run(copy, ACTIONS['etl.copy']?.params.parse(p));
    await copy.connections.close();
  }
}, 240_000);

afterAll(async () => {
  for (const [, s] of INSTANTS) for (const action of ['etl.copy', 'etl.sync']) await db.query(`DROP SCHEMA IF EXISTS "${schemaOf(action, s)}" CASCADE`);
  await db.query(`DROP SCHEMA IF EXISTS "${BOOKS}" CASCADE`);
  await db.end();
});

describe.each(INSTANTS)('the step\'s process is SIGKILLed %s', (instant, s) => {
  it('etl.copy (chunk checkpoints): the next attempt skips what committed; every row once, every chunk booked once, reconciled', async () => {
    const out = await throughKill('etl.copy', s, instant);
    expect(out.summary).toContain('every table reconciles');
    expect(out.details['rows']).toBe(ROWS);
    expect(await rowsOf(schemaOf('etl.copy', s))).toEqual({ n: String(ROWS), ids: String(ROWS), changed: '0', fresh: '0' });
    expect(await bookedChunks(s)).toBe(ROWS / CHUNK_ROWS);
  }, 120_000);

  it('etl.sync (windows with their marks): an uncommitted window is replayed, a committed one is not; the target equals the source', async () => {
    const out = await throughKill('etl.sync', s, instant);
    const upserted = instant === 'after-commit' ? 0 : 2 * CHANGES;
    // Committed before the kill: the second attempt finds nothing new after the stored mark and nothing left to delete.
    expect(out.details['upserted']).toBe(upserted);
    expect(out.details['deleted']).toBe(instant === 'after-commit' ? 0 : CHANGES);
    expect(await rowsOf(schemaOf('etl.sync', s))).toEqual({ n: String(ROWS), ids: String(ROWS), changed: String(CHANGES), fresh: String(CHANGES) });
  }, 120_000);
});

describe('etl.sync deletions, two attempts at once (a worker that lost the job\'s lock and the one that took it over)', () => {
  it('a range the other attempt compared and booked while this one waited for the table is skipped, not compared and booked again', async () => {
    const schema = schemaOf('etl.sync', 'race');
    const p = { source: 'src', target: 'target', target_schema: schema, bookkeeping_schema: BOOKS, chunk_rows: CHUNK_ROWS };
    const ctx = actionContext({ runId: `etlf-${P}-race`, stepId: 'pre' });
    await schemaApplyAction(async () => etlFaultSource(ROWS)).run(ctx, ACTIONS['schema.apply']?.params.parse({ source: 'src', target: 'target', target_schema: schema, phase: 'pre-load' }));
    await etlCopyAction(async () => etlFaultSource(ROWS)).run(ctx, ACTIONS['etl.copy']?.params.parse(p));
    await ctx.connections.close();
    await ensureSyncTables(db, BOOKS);
    const source = etlFaultSource(ROWS, CHANGES);
    const [mapping] = convertSchema(etlFaultModel(ROWS), conversionOptions(ACTIONS['etl.sync']?.params.parse(p))).mappings;
    if (!mapping) throw new Error('no mapping');
    const name = bookedName(mapping.target);
    const loadId = `etlf-${P}-race/sync`;
    const other = await db.connect();
    try {
      // The other attempt holds the table's sync lock, as it does while it compares.
      await other.query('BEGIN');
      await lockTable(other, name);
      const mine = deleteMissing({ pool: db, source, table: mapping, loadId, schema: BOOKS, signal: new AbortController().signal, chunkRows: CHUNK_ROWS, dryRun: false });
      const deadline = Date.now() + 30_000;
      while (!(await db.query("SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())")).rowCount) {
        if (Date.now() > deadline) throw new Error('this attempt never waited for the table');
        await new Promise((r) => setTimeout(r, 25));
      }
      // What the other attempt committed: the rows deleted at the source removed, every range booked.
      await other.query(`DELETE FROM "${schema}".item WHERE it_id > $1`, [ROWS - CHANGES]);
      for (const range of await deleteRanges(source, mapping, CHUNK_ROWS)) await bookRange(other, BOOKS, { loadId, table: name, rangeId: range.id, sourceRows: null, deleted: 0 });
      await other.query('COMMIT');
      const result = await mine;
      expect(result.deleted).toBe(0);
      expect(result.listed).toBe(0);
      expect(await rowsOf(schema)).toEqual({ n: String(ROWS - CHANGES), ids: String(ROWS - CHANGES), changed: '0', fresh: '0' });
    } finally {
      await other.query('ROLLBACK').catch(() => undefined);
      other.release();
      await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    }
  }, 120_000);
});
