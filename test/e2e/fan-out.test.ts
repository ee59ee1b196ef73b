import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extractAction } from '../../engine/actions/extract.js';
import type { SchemaModel } from '../../engine/schema/model.js';
import { ACTIONS } from '../../runbook/action-catalog.js';
import type { StepState } from '../../runbook/state.js';
import { eventually, TEST_DATABASE_URL, type Installation, type ProductProcess } from '../support/cutover-processes.js';
import { click, migrate } from '../support/cutover-slack.js';
import { actionContext } from '../support/engine-context.js';
import type { FakeSlack } from '../support/fake-slack.js';
import { column, table } from '../support/fixtures/kgv-schema.js';
import { MemoryRowSource } from '../support/memory-row-source.js';
import { startE2E, stopE2E } from '../support/e2e-installation.js';

/**
 * Issue 15, part 3: a load whose chunks are fanned out (`fan_out: always`)
 * as BullMQ child jobs of its step, loaded by two real worker processes on
 * one Redis: every row once, every chunk booked once, both workers booked
 * chunks; and a worker SIGKILLed inside a chunk's transaction loses nothing
 * and books nothing twice (its chunk rolls back and another worker takes it).
 */
const P = process.pid;
const ROWS = 40_000;
const CHUNK_ROWS = 2000;
const CHUNKS = ROWS / CHUNK_ROWS;
const target = (s: string) => `e2e_fanout_${P}_${s}`;
const snapshots = join(tmpdir(), `cutover-fanout-${P}`);
const dirOf = (s: string) => join(snapshots, s);

const steps = (s: string) => `
      - { id: apply-${s}, title: Pre-load schema ${s}, approve: dba, action: schema.apply, params: { snapshot: ${dirOf(s)}, target: target, phase: pre-load, target_schema: ${target(s)} } }
      - { id: load-${s}, title: Load ${s} on every worker, approve: dba, action: load, params: { dir: ${dirOf(s)}, target: target, fan_out: always } }`;

const runbook = `title: Fan-out ${P}
roles:
  lead: { title: Migration lead, members: [U0LEAD] }
  dba: { title: Database administrator, members: [U0DBA1] }
connections:
  target: { kind: postgres, url: "\${TEST_DATABASE_URL}" }
phases:
  - id: load
    title: Load
    steps:${steps('two')}${steps('kill')}
`;

const model: SchemaModel = {
  sourceKind: 'mssql',
  database: 'fanout',
  serverVersion: 'test',
  collation: 'Latin1_General_CI_AS',
  others: [],
  tables: [
    table('Item', [column('it_ID', { nullable: false }), column('it_Name', { type: 'nvarchar', maxLength: 40, collation: 'Latin1_General_CI_AS' })], {
      primaryKey: { name: 'PK_Item', columns: ['it_ID'] },
      rowCount: ROWS,
    }),
  ],
};
const items = Array.from({ length: ROWS }, (_, i) => ({ it_ID: i + 1, it_Name: `item ${i + 1}` }));

let fake: FakeSlack;
let inst: Installation;
let runId: string;
const db = new pg.Pool({ connectionString: TEST_DATABASE_URL });
db.on('error', () => undefined);

const count = async (sql: string, params: unknown[] = []): Promise<number> => Number((await db.query<{ n: string }>(sql, params)).rows[0]?.n);
const stepOf = async (stepId: string): Promise<StepState | undefined> => (await inst.state(runId))?.steps[stepId];
const settled = (stepId: string): Promise<StepState> =>
  eventually(async () => {
    const step = await stepOf(stepId);
    return step && (step.status === 'succeeded' || step.status === 'failed') ? step : null;
  }, 120_000, `${stepId} settled`);
const chunksLoaded = (w: ProductProcess): number => w.output.filter((l) => l.includes('"chunk loaded"')).length;

async function applied(s: string): Promise<void> {
  await click(fake, inst.botUrl, 'U0DBA1', `apply-${s}`, 'approve');
  expect((await settled(`apply-${s}`)).status).toBe('succeeded');
}

async function expectLoadedOnce(s: string): Promise<void> {
  expect(await count(`SELECT count(*) AS n FROM ${target(s)}.item`)).toBe(ROWS);
  expect(await count(`SELECT count(DISTINCT it_id) AS n FROM ${target(s)}.item`)).toBe(ROWS);
  // One checkpoint per chunk (the primary key forbids a second), and they add up to the table.
  expect(await count(`SELECT count(*) AS n FROM cutover_etl.chunks WHERE load_id = $1`, [`${runId}/load-${s}`])).toBe(CHUNKS);
  expect(await count(`SELECT sum(rows) AS n FROM cutover_etl.chunks WHERE load_id = $1`, [`${runId}/load-${s}`])).toBe(ROWS);
}

beforeAll(async () => {
  await rm(snapshots, { recursive: true, force: true });
  for (const s of ['two', 'kill']) {
    const ctx = actionContext({ runId: `extract-${P}`, stepId: `extract-${s}` });
    await extractAction(async () => new MemoryRowSource(model, { Item: items })).run(ctx, ACTIONS['extract']?.params.parse({ source: 'src', dir: dirOf(s), chunk_rows: CHUNK_ROWS, target_schema: target(s) }));
    await ctx.connections.close();
  }
  ({ fake, inst } = await startE2E({ runbooks: { fanout: runbook }, worker: false }));
}, 180_000);

afterAll(async () => {
  await stopE2E({ inst, fake });
  for (const s of ['two', 'kill']) await db.query(`DROP SCHEMA IF EXISTS ${target(s)} CASCADE`);
  await db.end();
  await rm(snapshots, { recursive: true, force: true });
});

describe('a load fanned out over two worker processes', () => {
  let a: ProductProcess;
  let b: ProductProcess;

  it('loads every row once, each chunk booked once, and both workers booked chunks', async () => {
    // One chunk at a time each, so neither can take every chunk before the other wakes.
    a = await inst.startWorker({ WORKER_CHUNK_CONCURRENCY: '1' });
    b = await inst.startWorker({ WORKER_CHUNK_CONCURRENCY: '1' });
    await migrate(inst.botUrl, 'U0LEAD', 'start fanout');
    runId = await eventually(() => inst.activeRunId('fanout'));
    await applied('two');
    await click(fake, inst.botUrl, 'U0DBA1', 'load-two', 'approve');
    const load = await settled('load-two');
    expect(load.error?.message).toBeUndefined();
    expect(load.status).toBe('succeeded');
    expect(load.result?.summary).toContain(`Loaded ${ROWS.toLocaleString('en-US')} rows`);
    expect(load.result?.summary).toContain('every table reconciles');
    await expectLoadedOnce('two');
    expect(chunksLoaded(a)).toBeGreaterThan(0);
    expect(chunksLoaded(b)).toBeGreaterThan(0);
    expect(chunksLoaded(a) + chunksLoaded(b)).toBe(CHUNKS);
  }, 240_000);

  it('a worker SIGKILLed inside a chunk\'s transaction: the chunk rolls back, another worker takes it, nothing is booked twice', async () => {
    await b.kill('SIGTERM');
    // The victim dies at the COMMIT of the first chunk it loads (rows and checkpoint written, not committed).
    const victim = await inst.startWorker({ WORKER_CHUNK_CONCURRENCY: '1', NODE_ENV: 'test', CUTOVER_TEST_KILL_AT: 'load-kill@in-effect' });
    const before = chunksLoaded(a);
    await applied('kill');
    await click(fake, inst.botUrl, 'U0DBA1', 'load-kill', 'approve');
    await victim.exitCode();
    expect(victim.output.join('\n')).toContain('fault injection: SIGKILL at in-effect of step load-kill');
    const load = await settled('load-kill');
    expect(load.error?.message).toBeUndefined();
    expect(load.status).toBe('succeeded');
    await expectLoadedOnce('kill');
    // The survivor loaded every chunk, the one the victim died in included.
    expect(chunksLoaded(a) - before).toBe(CHUNKS);
    expect(chunksLoaded(victim)).toBe(0);
  }, 240_000);
});
