import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { ensureKgvSample } from '../../engine/sample/kgv/index.js';
import { loadRunbook, type Runbook } from '../../runbook/load.js';
import type { PlanStep } from '../../runbook/plan.js';
import type { RunState } from '../../runbook/state.js';
import { sendBlockAction } from '../../workspace/signed-requests.js';
import { createInstallation, eventually, REPO, SIGNING_SECRET, TEST_DATABASE_URL, type Installation } from './cutover-processes.js';
import { CHANNEL, click, migrate, migrateConfirmed } from './cutover-slack.js';
import { buttonsIn, startFakeSlack, type FakeSlack } from './fake-slack.js';

/**
 * config/runbooks/kgv-local.yaml as shipped, through the fake Slack with real
 * web and worker processes, against the KGV sample and a PostgreSQL database
 * of its own (DATABASE_URL), as local mode runs it. Shared by the e2e tests
 * that rehearse it, so each drives runs the same way its team would.
 */
export interface KgvLocalRehearsal {
  fake: FakeSlack;
  inst: Installation;
  /** The rehearsal's own database. */
  db: pg.Pool;
  runbook: Runbook;
  work: string;
  sampleDir: string;
  forwardSteps(): PlanStep[];
  scenarioSteps(id: string): PlanStep[];
  /** The first column of the first row of `sql` on the rehearsal's database. */
  one(sql: string): Promise<unknown>;
  /** Starts a run as `starter` and waits until it is the active, running one. */
  start(starter: string): Promise<string>;
  /** Approves a step as its role (as many members as it needs, never the one who started the run) and waits until it succeeded; a failure throws with the step's error. */
  approveAndRun(runId: string, stepId: string, startedBy: string): Promise<RunState>;
  /** Approves forward steps in order, from the first not yet finished through `lastStepId`. */
  runThrough(runId: string, lastStepId: string, startedBy: string): Promise<RunState>;
  /** Requests a rollback (confirmed), has the rollback authority approve it, runs its steps, and waits until the run is rolled back. */
  rollBack(runId: string, scenario: string, requester: string, startedBy: string): Promise<RunState>;
  cleanup(): Promise<void>;
}

const RUNBOOK_FILE = join(REPO, 'config/runbooks/kgv-local.yaml');
const AUTHORITY = 'U0KGVRB1';

export async function startKgvLocalRehearsal(name: string): Promise<KgvLocalRehearsal> {
  const database = `${name}_${process.pid}`;
  const databaseUrl = Object.assign(new URL(TEST_DATABASE_URL), { pathname: `/${database}` }).toString();
  const admin = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 1 });
  admin.on('error', () => undefined);
  const work = await mkdtemp(join(tmpdir(), `cutover-${name}-`));
  const sampleDir = (await ensureKgvSample(join(work, 'kgv-sample'))).dir;
  await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
  await admin.query(`CREATE DATABASE "${database}"`);
  const db = new pg.Pool({ connectionString: databaseUrl });
  // The emergency rollback's restore terminates the database's other sessions (57P01): an idle pooled client of the test is among them.
  db.on('error', () => undefined);
  const text = await readFile(RUNBOOK_FILE, 'utf8');
  const env = { DATABASE_URL: databaseUrl, KGV_SAMPLE_DIR: sampleDir, BACKUP_DIR: join(work, 'backups') };
  const loaded = loadRunbook({ name: 'kgv-local', file: RUNBOOK_FILE, text, env });
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
  const runbook = loaded.runbook;
  const fake = await startFakeSlack();
  const inst = await createInstallation(fake.apiUrl, { 'kgv-local': text });
  // A 30 s job lock, not the suite's 2 s: these rehearsals test no lock loss, and a busy machine must not fake one mid-step.
  const processEnv = { ...env, WORKER_LOCK_MS: '30000', WORKER_STALLED_INTERVAL_MS: '30000' };
  await inst.startWeb(processEnv);
  await inst.startWorker(processEnv);

  const forwardSteps = () => runbook.plan.phases.flatMap((p) => p.steps);
  const scenarioSteps = (id: string) => runbook.plan.rollbackScenarios.find((s) => s.id === id)?.steps ?? [];
  const allSteps = () => [...forwardSteps(), ...runbook.plan.rollbackScenarios.flatMap((sc) => sc.steps ?? [])];

  function approversOf(stepId: string, startedBy: string): string[] {
    const role = runbook.plan.roles[allSteps().find((s) => s.id === stepId)?.approve ?? ''];
    if (!role) throw new Error(`no role for ${stepId}`);
    const members = role.requesterMayApprove ? role.members : role.members.filter((m) => m !== startedBy);
    return members.slice(0, role.minApprovals);
  }

  async function approveAndRun(runId: string, stepId: string, startedBy: string): Promise<RunState> {
    for (const user of approversOf(stepId, startedBy)) await click(fake, inst.botUrl, user, stepId, 'approve');
    return eventually(async () => {
      const state = await inst.state(runId);
      const step = state?.steps[stepId];
      if (step?.status === 'failed') throw new Error(`${stepId} failed: ${step.error?.message}`);
      return step?.status === 'succeeded' ? state : null;
    }, 180_000, `${stepId} succeeded`);
  }

  async function clickRollbackApprove(userId: string, requestedAt: number) {
    const found = await fake.waitFor(() => {
      for (const message of fake.messages.all({ channel: CHANNEL })) {
        const button = buttonsIn(message.blocks).find((b) => b.actionId === 'rollback.approve' && (b.value ?? '').includes(String(requestedAt)));
        if (button?.value && button.blockId) return { message, button };
      }
      return undefined;
    }, 30_000);
    return sendBlockAction(inst.botUrl, SIGNING_SECRET, {
      userId, channelId: CHANNEL, messageTs: found.message.ts, threadTs: found.message.threadTs, actionId: 'rollback.approve', blockId: found.button.blockId ?? '', value: found.button.value ?? '',
    });
  }

  return {
    fake,
    inst,
    db,
    runbook,
    work,
    sampleDir,
    forwardSteps,
    scenarioSteps,
    one: async (sql) => Object.values((await db.query(sql)).rows[0] ?? {})[0],
    async start(starter) {
      const before = new Set((await inst.store.recent(50)).map((r) => r.runId));
      await migrate(inst.botUrl, starter, 'start kgv-local');
      return eventually(async () => {
        const id = await inst.activeRunId('kgv-local').catch(() => null);
        return id && !before.has(id) && (await inst.state(id))?.status === 'active' ? id : null;
      }, 30_000, 'a new run of kgv-local');
    },
    approveAndRun,
    async runThrough(runId, lastStepId, startedBy) {
      let state = await inst.state(runId);
      for (const step of forwardSteps()) {
        const status = state?.steps[step.id]?.status;
        if (status !== 'succeeded' && status !== 'skipped') state = await approveAndRun(runId, step.id, startedBy);
        if (step.id === lastStepId) break;
      }
      if (!state) throw new Error(`run ${runId} not found`);
      return state;
    },
    async rollBack(runId, scenario, requester, startedBy) {
      await migrateConfirmed(fake, inst.botUrl, requester, `rollback ${scenario} rehearsal of the ${scenario} scenario`);
      const requested = await eventually(async () => {
        const rb = (await inst.state(runId))?.rollback;
        return rb?.status === 'requested' && rb.scenario === scenario ? rb : null;
      }, 30_000, `${scenario} rollback requested`);
      await clickRollbackApprove(AUTHORITY, requested.requestedAt);
      await eventually(async () => (await inst.state(runId))?.rollback?.status === 'running', 30_000, `${scenario} rollback approved`);
      for (const step of scenarioSteps(scenario)) await approveAndRun(runId, step.id, startedBy);
      return eventually(async () => {
        const s = await inst.state(runId);
        return s?.status === 'rolled_back' ? s : null;
      }, 60_000, `run rolled back (${scenario})`);
    },
    async cleanup() {
      await inst.cleanup();
      await fake.close();
      await db.end();
      await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
      await admin.end();
      await rm(work, { recursive: true, force: true });
    },
  };
}
