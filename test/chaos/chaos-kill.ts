/**
 * The kill -9 chaos run of issue 12, repeatable: `web` and two `worker`
 * processes on one Redis (a prefix of their own), a short job lock
 * (WORKER_LOCK_MS=2000, stalled check every second), and a runbook of
 * transactional `sql` steps each inserting many rows in one transaction,
 * `schema.apply` pre-load + `load` of a snapshot, a chunked `sql` with
 * `transaction: false` written to resume (each chunk commits alone, under an
 * advisory lock, skipped when present; a done_when probe), and a `shell`
 * step with a `done_when` probe. While a person (this script) approves each
 * step and retries any that fails, processes are SIGKILLed at random
 * instants from a fixed seed — a worker with every process it started, as a
 * container or a systemd unit would die — and restarted; besides, the first
 * worker to reach them dies right after the COMMIT of two sql steps (the
 * test-only hook, engine/fault-injection.ts). At the end it prints, per step,
 * the rows expected and found (and distinct), how many success events the
 * step has, and whether the run completed. Exit code 1 when any effect is not
 * exactly once or the run did not complete.
 *
 * It lives with the tests, not in bench/: it drives the product through the
 * suite's fake Slack and process helpers, which benchmarks may not import.
 *
 *   npm run chaos:kill [-- --seed 7 --kills 25 --rows 250000]
 *   (TEST_DATABASE_URL, REDIS_URL; CPU heavy: run it once or twice, not in a loop)
 */
import { execFileSync } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { extractAction } from '../../engine/actions/extract.js';
import type { SchemaModel } from '../../engine/schema/model.js';
import { ACTIONS } from '../../runbook/action-catalog.js';
import type { RunState } from '../../runbook/state.js';
import { createInstallation, TEST_DATABASE_URL, type Installation, type ProductProcess } from '../support/cutover-processes.js';
import { click, migrate } from '../support/cutover-slack.js';
import { actionContext } from '../support/engine-context.js';
import { startFakeSlack, type FakeSlack } from '../support/fake-slack.js';
import { column, table } from '../support/fixtures/kgv-schema.js';
import { MemoryRowSource } from '../support/memory-row-source.js';
import { runbookHead } from '../support/e2e-runbooks.js';

const { values: args } = parseArgs({
  options: {
    seed: { type: 'string', default: '7' },
    kills: { type: 'string', default: '25' },
    rows: { type: 'string', default: '250000' },
    'sql-steps': { type: 'string', default: '4' },
    'timeout-min': { type: 'string', default: '20' },
  },
});
const SEED = Number(args.seed);
const KILLS = Number(args.kills);
const ROWS = Number(args.rows);
const SQL_STEPS = Number(args['sql-steps']);
const DEADLINE = Date.now() + Number(args['timeout-min']) * 60_000;
const LOAD_ROWS = 60_000;
const CHUNKS = 20;
const CHUNK_ROWS = 10_000;
const S = `chaos_${process.pid}`;
const SNAPSHOT = join(tmpdir(), `cutover-chaos-${process.pid}`);
/** Killed right after their COMMIT, once each: the instant the issue's chaos run found the double run at. */
const AFTER_COMMIT = ['sql-2', 'sql-4'].filter((id) => Number(id.slice(4)) <= SQL_STEPS).map((id) => `${id}@after-commit`);

/** mulberry32: a small seeded generator, so a schedule can be run again. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sqlSteps = Array.from({ length: SQL_STEPS }, (_, i) => `sql-${i + 1}`);
const chunkedSql = `DO $$ DECLARE k int; BEGIN
  FOR k IN 0..${CHUNKS - 1} LOOP
    PERFORM pg_advisory_xact_lock(hashtext('${S}.chunked'), k);
    IF NOT EXISTS (SELECT 1 FROM ${S}.rows WHERE step = 'chunked' AND n = k * ${CHUNK_ROWS} + 1) THEN
      INSERT INTO ${S}.rows SELECT 'chunked', g FROM generate_series(k * ${CHUNK_ROWS} + 1, (k + 1) * ${CHUNK_ROWS}) g;
    END IF;
    COMMIT;
  END LOOP; END $$`;

const runbook = `${runbookHead(`Chaos kill ${process.pid}`)}phases:
  - id: chaos
    title: Chaos
    steps:
      - { id: create, title: Tables, approve: dba, action: sql, params: { connection: target, sql: "CREATE TABLE ${S}.rows (step text NOT NULL, n int NOT NULL); CREATE INDEX ON ${S}.rows (step, n)" } }
${sqlSteps.map((id) => `      - { id: ${id}, title: Insert ${ROWS} rows, approve: dba, action: sql, params: { connection: target, sql: "INSERT INTO ${S}.rows SELECT '${id}', g FROM generate_series(1, ${ROWS}) g" } }`).join('\n')}
      - { id: apply, title: Pre-load schema, approve: dba, action: schema.apply, params: { snapshot: ${SNAPSHOT}, target: target, phase: pre-load, target_schema: ${S}_load } }
      - { id: load, title: Load the snapshot, approve: dba, action: load, params: { dir: ${SNAPSHOT}, target: target } }
      - id: chunked
        title: Chunked insert without a transaction
        approve: dba
        action: sql
        params: { connection: target, transaction: false, sql: ${JSON.stringify(chunkedSql)} }
        done_when: { connection: target, sql: "SELECT 1 WHERE (SELECT count(*) FROM ${S}.rows WHERE step = 'chunked') = ${CHUNKS * CHUNK_ROWS}" }
      - id: shell
        title: A command with a probe
        approve: dba
        action: shell
        params: { argv: [sh, -c, "sleep 2; psql -qX \\"$0\\" -c \\"INSERT INTO ${S}.rows VALUES ('shell', 1)\\"", "\${TEST_DATABASE_URL}"] }
        done_when: { connection: target, sql: "SELECT 1 FROM ${S}.rows WHERE step = 'shell'" }
`;

const model: SchemaModel = {
  sourceKind: 'mssql', database: 'chaos', serverVersion: 'test', collation: 'Latin1_General_CI_AS', others: [],
  tables: [table('Item', [column('it_ID', { nullable: false }), column('it_Name', { type: 'nvarchar', maxLength: 40, collation: 'Latin1_General_CI_AS' })], { primaryKey: { name: 'PK_Item', columns: ['it_ID'] }, rowCount: LOAD_ROWS })],
};

/** Every descendant of a process (children first found, then theirs), from ps. */
function descendants(pid: number): number[] {
  let out: string;
  try {
    out = execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' });
  } catch {
    return [];
  }
  const kids = out.split('\n').map((l) => Number(l.trim())).filter((n) => n > 0);
  return kids.flatMap((k) => [k, ...descendants(k)]);
}

/** SIGKILL a process with everything it started (a shell step's command runs in a group of its own), as a cgroup dies. */
function killTree(p: ProductProcess): void {
  const pid = p.child.pid;
  if (pid === undefined || !alive(p)) return;
  const all = [pid, ...descendants(pid)];
  for (const id of all) {
    try {
      process.kill(id, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

/** A process killed by a signal has a null exitCode: both say it ended. */
const alive = (p: ProductProcess | null): p is ProductProcess => p !== null && p.child.exitCode === null && p.child.signalCode === null;

interface Slot {
  name: 'web' | 'worker-a' | 'worker-b';
  proc: ProductProcess | null;
  starts: number;
}

async function main(): Promise<void> {
  const db = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 2 });
  db.on('error', () => undefined);
  await rm(SNAPSHOT, { recursive: true, force: true });
  const ctx = actionContext({ runId: `chaos-${process.pid}`, stepId: 'extract' });
  const items = Array.from({ length: LOAD_ROWS }, (_, i) => ({ it_ID: i + 1, it_Name: `item ${i + 1}` }));
  await extractAction(async () => new MemoryRowSource(model, { Item: items })).run(ctx, ACTIONS['extract']?.params.parse({ source: 'src', dir: SNAPSHOT, chunk_rows: 6000, target_schema: `${S}_load` }));
  await ctx.connections.close();
  await db.query(`DROP SCHEMA IF EXISTS ${S} CASCADE; DROP SCHEMA IF EXISTS ${S}_load CASCADE; CREATE SCHEMA ${S}`);

  const fake: FakeSlack = await startFakeSlack();
  const inst: Installation = await createInstallation(fake.apiUrl, { chaos: runbook });
  const hooks = new Set(AFTER_COMMIT);
  const web: Slot = { name: 'web', proc: null, starts: 0 };
  const workerA: Slot = { name: 'worker-a', proc: null, starts: 0 };
  const workerB: Slot = { name: 'worker-b', proc: null, starts: 0 };
  const slots = [web, workerA, workerB];
  const kills = { web: 0, 'worker-a': 0, 'worker-b': 0, hook: 0 };
  let stopping = false;
  const log = (line: string) => process.stdout.write(`[${((Date.now() - t0) / 1000).toFixed(1)}s] ${line}\n`);
  const t0 = Date.now();

  /** Keeps a slot's process running: restarts it whenever it dies, as a process supervisor would. */
  const supervise = async (slot: Slot): Promise<void> => {
    while (!stopping) {
      const env: Record<string, string> = slot.name === 'web' ? {} : { NODE_ENV: 'test', CUTOVER_TEST_KILL_AT: [...hooks].join(','), WORKER_LOCK_MS: '2000', WORKER_STALLED_INTERVAL_MS: '1000' };
      try {
        slot.starts++;
        slot.proc = slot.name === 'web' ? await inst.startWeb(env) : await inst.startWorker(env);
      } catch (err) {
        log(`${slot.name} did not start: ${String(err).split('\n')[0]}`);
        continue;
      }
      const proc = slot.proc;
      await proc.exitCode();
      const hooked = proc.output.find((l) => l.startsWith('fault injection: SIGKILL at'));
      if (hooked) {
        const m = /at (\S+) of step (\S+)/.exec(hooked);
        if (m) hooks.delete(`${m[2]}@${m[1]}`);
        kills.hook++;
        log(`${slot.name}: ${hooked}`);
      }
    }
  };
  const supervisors = slots.map((s) => supervise(s));
  while (slots.some((s) => !s.proc)) await sleep(200);

  await migrate(inst.botUrl, 'U0LEAD', 'start chaos');
  const runId = await until(() => inst.activeRunId('chaos'), 60_000);
  log(`run ${runId} started`);

  // The killer: a fixed schedule of pauses and victims from the seed. A victim still starting up is waited for
  // (on a loaded machine a start takes seconds), so every kill hits a running process.
  const random = seeded(SEED);
  const killer = (async () => {
    for (let i = 0; i < KILLS && !stopping; i++) {
      await sleep(1000 + random() * 5000);
      const r = random();
      const victim = r < 0.12 ? web : r < 0.56 ? workerA : workerB;
      while (!stopping && !alive(victim.proc)) await sleep(100);
      if (stopping || !victim.proc) break;
      killTree(victim.proc);
      kills[victim.name]++;
      log(`kill -9 ${victim.name} (${i + 1}/${KILLS})`);
    }
  })();

  // The person: approves the next step, retries one that failed (a person who checked and found the effect absent).
  const failures: string[] = [];
  const lastClick = new Map<string, number>();
  const order = ['create', ...sqlSteps, 'apply', 'load', 'chunked', 'shell'];
  let state: RunState | null = null;
  while (Date.now() < DEADLINE) {
    state = await inst.state(runId).catch(() => null);
    if (state?.status === 'completed' || state?.status === 'aborted') break;
    const next = order.find((id) => !['succeeded', 'skipped'].includes(state?.steps[id]?.status ?? ''));
    const step = next ? state?.steps[next] : undefined;
    const key = `${next}:${step?.status}:${step?.attempt}`;
    if (next && step && (step.status === 'awaiting_approval' || step.status === 'failed') && Date.now() - (lastClick.get(key) ?? 0) > 5000) {
      lastClick.set(key, Date.now());
      if (step.status === 'failed') {
        failures.push(`${next} attempt ${step.attempt}: ${step.error?.code}: ${step.error?.message}`);
        log(`${next} failed (${step.error?.code}); retrying`);
      }
      await click(fake, inst.botUrl, step.status === 'failed' ? 'U0DBA2' : 'U0DBA1', next, step.status === 'failed' ? 'retry' : 'approve').catch((err: unknown) => log(`click ${next} failed: ${String(err).split('\n')[0]}`));
    }
    await sleep(300);
  }
  stopping = true;
  await killer;

  const events = await inst.events(runId);
  const count = async (step: string, sql = `SELECT count(*) AS n, count(DISTINCT n) AS d FROM ${S}.rows WHERE step = $1`, params: unknown[] = [step]) =>
    (await db.query<{ n: string; d: string }>(sql, params)).rows[0] ?? { n: '?', d: '?' };
  const rows: Array<[string, number, { n: string; d: string }]> = [];
  for (const id of sqlSteps) rows.push([id, ROWS, await count(id)]);
  rows.push(['load', LOAD_ROWS, await count('load', `SELECT count(*) AS n, count(DISTINCT it_id) AS d FROM ${S}_load.item`, []).catch(() => ({ n: 'missing', d: '-' }))]);
  rows.push(['chunked', CHUNKS * CHUNK_ROWS, await count('chunked')]);
  rows.push(['shell', 1, await count('shell')]);
  const applied = await count('apply', `SELECT count(*) AS n, count(*) AS d FROM cutover.step_effects WHERE run_id = $1 AND step_id = 'apply'`, [runId]);
  rows.push(['apply (ledger rows)', 1, applied]);

  let ok = state?.status === 'completed';
  process.stdout.write(`\nseed ${SEED}; kills: ${Object.entries(kills).map(([k, v]) => `${k} ${v}`).join(', ')}; process starts: ${slots.map((s) => `${s.name} ${s.starts}`).join(', ')}\n`);
  process.stdout.write(`${'step'.padEnd(22)}${'expected'.padStart(10)}${'actual'.padStart(10)}${'distinct'.padStart(10)}${'successes'.padStart(11)}  status\n`);
  for (const [id, expected, got] of rows) {
    const stepId = id.split(' ')[0] ?? id;
    const successes = events.filter((e) => e.type === 'step.succeeded' && e.stepId === stepId).length;
    const once = Number(got.n) === expected && Number(got.d) === expected && successes === 1;
    ok &&= once;
    process.stdout.write(`${id.padEnd(22)}${String(expected).padStart(10)}${got.n.padStart(10)}${got.d.padStart(10)}${String(successes).padStart(11)}  ${state?.steps[stepId]?.status ?? '?'}${once ? '' : '  <-- NOT EXACTLY ONCE'}\n`);
  }
  process.stdout.write(`run ${runId}: ${state?.status ?? 'unknown'} in ${((Date.now() - t0) / 1000).toFixed(0)} s; steps that failed and were retried: ${failures.length}\n`);
  for (const f of failures) process.stdout.write(`  ${f.slice(0, 300)}\n`);
  process.stdout.write(ok ? 'every effect exactly once; the run completed\n' : 'FAILED: see the rows marked above\n');

  for (const s of slots) if (s.proc) killTree(s.proc);
  await Promise.race([Promise.all(supervisors), sleep(5000)]);
  await inst.cleanup();
  await fake.close();
  await db.query(`DROP SCHEMA IF EXISTS ${S} CASCADE; DROP SCHEMA IF EXISTS ${S}_load CASCADE`);
  await db.end();
  await rm(SNAPSHOT, { recursive: true, force: true });
  process.exit(ok ? 0 : 1);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until<T>(fn: () => Promise<T>, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > end) throw err;
      await sleep(200);
    }
  }
}

await main();
