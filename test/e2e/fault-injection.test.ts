import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extractAction } from '../../engine/actions/extract.js';
import type { FaultInstant } from '../../engine/fault-injection.js';
import type { SchemaModel } from '../../engine/schema/model.js';
import { ACTIONS } from '../../runbook/action-catalog.js';
import type { StepState } from '../../runbook/state.js';
import { eventually, TEST_DATABASE_URL, type Installation, type ProductProcess } from '../support/cutover-processes.js';
import { click, migrate, migrateConfirmed } from '../support/cutover-slack.js';
import { actionContext } from '../support/engine-context.js';
import type { FakeSlack } from '../support/fake-slack.js';
import { column, table } from '../support/fixtures/kgv-schema.js';
import { MemoryRowSource } from '../support/memory-row-source.js';
import { runbookHead } from '../support/e2e-runbooks.js';
import { startE2E, stopE2E } from '../support/e2e-installation.js';

/**
 * Issue 12, the proof: a real worker process is SIGKILLed at each instant of
 * a step — before its effect, inside it, after its COMMIT before the success
 * event, after the event before the job completes — for each kind of crash
 * recovery: the effect ledger (sql, schema.apply), a load's chunk checkpoints,
 * a shell step with a done_when probe, and a shell step only a person can
 * judge. After each kill a fresh worker takes the job over. Every effect
 * happens exactly once, and the run completes, a person answering only the
 * steps that stop for one (Retry when the effect is absent, Skip when present).
 */
const P = process.pid;
const INSTANTS: Array<[FaultInstant, string]> = [
  ['before-effect', 'b'],
  ['in-effect', 'i'],
  ['after-commit', 'c'],
  ['after-append', 'a'],
];
const ROWS = 4000;
const marks = `e2e_faults_${P}`;
const target = (s: string) => `e2e_faults_${P}_${s}`;
const snapshots = join(tmpdir(), `cutover-faults-${P}`);
const dirOf = (s: string) => join(snapshots, s);

/** The command a shell step runs: its effect (one row) lands after a pause, so a kill at its start comes before it. */
const shellEffect = (step: string) => `[sh, -c, "sleep 0.3; psql -qX \\"$0\\" -c \\"INSERT INTO ${marks}.applied (step) VALUES ('${step}')\\"", "\${TEST_DATABASE_URL}"]`;

function stepsFor(s: string): string {
  return `
      - { id: apply-${s}, title: Pre-load schema ${s}, approve: dba, action: schema.apply, params: { snapshot: ${dirOf(s)}, target: target, phase: pre-load, target_schema: ${target(s)} } }
      - { id: load-${s}, title: Load ${s}, approve: dba, action: load, params: { dir: ${dirOf(s)}, target: target } }
      - { id: sql-${s}, title: Transactional SQL ${s}, approve: dba, action: sql, params: { connection: target, sql: "INSERT INTO ${marks}.applied (step) VALUES ('sql-${s}')" } }
      - id: probed-${s}
        title: Shell with a probe ${s}
        approve: dba
        action: shell
        params: { argv: ${shellEffect(`probed-${s}`)} }
        done_when: { connection: target, sql: "SELECT 1 FROM ${marks}.applied WHERE step = 'probed-${s}'" }
      - { id: shell-${s}, title: Shell only a person can judge ${s}, approve: dba, skippable_by: [dba], action: shell, params: { argv: ${shellEffect(`shell-${s}`)} } }`;
}

const runbook = `${runbookHead(`Fault injection ${P}`)}phases:
  - id: prepare
    title: Prepare
    steps:
      - { id: create, title: Marker table, approve: dba, action: sql, params: { connection: target, sql: "CREATE TABLE ${marks}.applied (step text NOT NULL)" } }
  - id: faults
    title: Faults
    steps:${INSTANTS.map(([, s]) => stepsFor(s)).join('')}
`;

const model: SchemaModel = {
  sourceKind: 'mssql',
  database: 'faults',
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
let worker: ProductProcess;
let runId: string;
const kills = new Set<string>();
const db = new pg.Pool({ connectionString: TEST_DATABASE_URL });

const count = async (sql: string, params: unknown[] = []): Promise<number> => Number((await db.query<{ n: string }>(sql, params)).rows[0]?.n);
const marked = (step: string) => count(`SELECT count(*) AS n FROM ${marks}.applied WHERE step = $1`, [step]);
const stepOf = async (stepId: string): Promise<StepState | undefined> => (await inst.state(runId))?.steps[stepId];
const workerEnv = () => ({ NODE_ENV: 'test', CUTOVER_TEST_KILL_AT: [...kills].join(',') });

/** Approves a step, waits for the worker to kill itself at the step's instant, brings up a fresh worker, and waits for the step to settle. */
async function runThroughKill(stepId: string, instant: FaultInstant): Promise<StepState> {
  await click(fake, inst.botUrl, 'U0DBA1', stepId, 'approve');
  await worker.exitCode();
  expect(worker.output.join('\n')).toContain(`fault injection: SIGKILL at ${instant} of step ${stepId}`);
  kills.delete(`${stepId}@${instant}`);
  worker = await inst.startWorker(workerEnv());
  return settled(stepId);
}

const settled = (stepId: string): Promise<StepState> =>
  eventually(async () => {
    const step = await stepOf(stepId);
    return step && (step.status === 'succeeded' || step.status === 'failed' || step.status === 'skipped') ? step : null;
  }, 60_000, `${stepId} settled`);

beforeAll(async () => {
  await rm(snapshots, { recursive: true, force: true });
  for (const [, s] of INSTANTS) {
    const ctx = actionContext({ runId: `extract-${P}`, stepId: `extract-${s}` });
    await extractAction(async () => new MemoryRowSource(model, { Item: items })).run(ctx, ACTIONS['extract']?.params.parse({ source: 'src', dir: dirOf(s), chunk_rows: 1000, target_schema: target(s) }));
    await ctx.connections.close();
  }
  await db.query(`DROP SCHEMA IF EXISTS ${marks} CASCADE; CREATE SCHEMA ${marks}`);
  for (const [instant, s] of INSTANTS) for (const kind of ['apply', 'load', 'sql', 'probed', 'shell']) kills.add(`${kind}-${s}@${instant}`);
  ({ fake, inst, worker } = await startE2E({ runbooks: { faults: runbook }, worker: workerEnv() }));
  await migrate(inst.botUrl, 'U0LEAD', 'start faults');
  runId = await eventually(() => inst.activeRunId('faults'));
  await click(fake, inst.botUrl, 'U0DBA1', 'create', 'approve');
  await eventually(async () => (await stepOf('create'))?.status === 'succeeded', 30_000, 'create succeeded');
}, 120_000);

afterAll(async () => {
  await stopE2E({ inst, fake });
  for (const [, s] of INSTANTS) await db.query(`DROP SCHEMA IF EXISTS ${target(s)} CASCADE`);
  await db.query(`DROP SCHEMA IF EXISTS ${marks} CASCADE`);
  await db.end();
  await rm(snapshots, { recursive: true, force: true });
});

describe.each(INSTANTS)('the worker is SIGKILLed %s', (instant, s) => {
  // In the runbook's order: each step is approved once the one before it settled.
  it('schema.apply pre-load (effect ledger): created once, one ledger row', async () => {
    const apply = await runThroughKill(`apply-${s}`, instant);
    expect(apply.status).toBe('succeeded');
    expect(await count(`SELECT count(*) AS n FROM cutover.step_effects WHERE run_id = $1 AND step_id = $2`, [runId, `apply-${s}`])).toBe(1);
    if (instant === 'after-commit') expect(apply.result?.summary).toContain('from the effect ledger');
  }, 150_000);

  it('load (chunk checkpoints): every row once, reconciled', async () => {
    const load = await runThroughKill(`load-${s}`, instant);
    expect(load.status).toBe('succeeded');
    expect(load.result?.summary).toContain('every table reconciles');
    expect(await count(`SELECT count(*) AS n FROM ${target(s)}.item`)).toBe(ROWS);
    expect(await count(`SELECT count(DISTINCT it_id) AS n FROM ${target(s)}.item`)).toBe(ROWS);
  }, 150_000);

  it('sql (effect ledger): committed once, reported once', async () => {
    const sql = await runThroughKill(`sql-${s}`, instant);
    expect(sql.status).toBe('succeeded');
    expect(await marked(`sql-${s}`)).toBe(1);
    const succeeded = (await inst.events(runId)).filter((e) => e.type === 'step.succeeded' && e.stepId === `sql-${s}`);
    expect(succeeded).toHaveLength(1);
    if (instant === 'after-commit') expect(sql.result?.summary).toContain('from the effect ledger');
  }, 150_000);

  it('shell with a done_when probe: the probe decides, the effect happens once', async () => {
    const probed = await runThroughKill(`probed-${s}`, instant);
    expect(probed.status).toBe('succeeded');
    expect(await marked(`probed-${s}`)).toBe(1);
    if (instant === 'after-commit') expect(probed.result?.summary).toContain('Already done (done_when matched');
  }, 150_000);

  it('shell only a person can judge: stops retryable with the reason; Retry (effect absent) or Skip (present) leaves it once', async () => {
    const step = await runThroughKill(`shell-${s}`, instant);
    if (instant === 'after-append') {
      expect(step.status).toBe('succeeded');
    } else {
      expect(step.status).toBe('failed');
      expect(step.error?.code).toBe('worker.crashed');
      expect(step.error?.message).toContain('a command may have taken effect before the worker stopped');
      // Before the effect nothing ran; inside it the kill took the command with the worker; after it the row is there.
      expect(await marked(`shell-${s}`)).toBe(instant === 'after-commit' ? 1 : 0);
      if (instant === 'after-commit') {
        await migrateConfirmed(fake, inst.botUrl, 'U0DBA1', `skip shell-${s} its row is there, checked by hand`);
        await eventually(async () => (await stepOf(`shell-${s}`))?.status === 'skipped', 30_000, `shell-${s} skipped`);
      } else {
        await click(fake, inst.botUrl, 'U0DBA2', `shell-${s}`, 'retry');
        await eventually(async () => (await stepOf(`shell-${s}`))?.status === 'succeeded', 60_000, `shell-${s} retried`);
      }
    }
    expect(await marked(`shell-${s}`)).toBe(1);
  }, 150_000);
});

describe('after every kill', () => {
  it('the run completed, and no kill was left unreached', async () => {
    expect(kills.size).toBe(0);
    await eventually(async () => (await inst.state(runId))?.status === 'completed', 30_000, 'run completed');
  });
});
