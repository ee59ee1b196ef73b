/**
 * The effect ledger's cost per step (issue 12, goal: under 1 ms). The same
 * one-row INSERT step runs through the sql action with and without its
 * ledger row (claim first, result before COMMIT), interleaved so all see the
 * same machine: as a first attempt, and as a resumed step, which the worker
 * asks the ledger about first. Prints the medians and the ledger's cost per
 * step against the goal, one line per case.
 *
 *   npm run bench:ledger [-- steps]   (default 2000; DATABASE_URL or TEST_DATABASE_URL)
 */
import pg from 'pg';
import { pino } from 'pino';
import type { ActionContext } from '../engine/action.js';
import { sqlAction } from '../engine/actions/sql.js';
import { ConnectionRegistry } from '../engine/connections.js';
import { effectKeyOf } from '../engine/ledger/effect-key.js';
import { findEffect } from '../engine/ledger/find-effect.js';
import { sqlParams } from '../runbook/actions/sql.js';

const URL = process.env.DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const STEPS = Number(process.argv[2] ?? 2000);
const GOAL_MS = 1;
const SCHEMA = `bench_ledger_${process.pid}`;
const RUN = `bench-ledger-${process.pid}`;

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
};

async function main(): Promise<void> {
  const admin = new pg.Pool({ connectionString: URL, max: 1 });
  await admin.query(`CREATE SCHEMA ${SCHEMA}; CREATE TABLE ${SCHEMA}.t (id int)`);
  const connections = new ConnectionRegistry({ target: { kind: 'postgres', url: URL } });
  const base: ActionContext = {
    runId: RUN, stepId: 'x', attempt: 1, dryRun: false, effectKey: null, connections, sqlDir: '',
    signal: new AbortController().signal, progress: () => {}, stepRecord: () => null, log: pino({ level: 'silent' }),
  };
  const params = sqlParams.parse({ connection: 'target', sql: `INSERT INTO ${SCHEMA}.t VALUES (1)` });
  const plain: number[] = [];
  const ledgered: number[] = [];
  const lookups: number[] = [];
  const fresh: number[] = [];
  try {
    // Warm-up: the pool's connection, the ledger table (created on first use, outside the timing), the plans.
    for (let i = 0; i < 50; i++) {
      await sqlAction.run(base, params);
      await sqlAction.run({ ...base, stepId: `warm-${i}`, effectKey: effectKeyOf(RUN, `warm-${i}`, 1) }, params);
    }
    for (let i = 0; i < STEPS; i++) {
      let t = performance.now();
      await sqlAction.run(base, params);
      plain.push(performance.now() - t);
      // A first attempt: the step with its ledger row (claim with BEGIN, result with COMMIT).
      t = performance.now();
      await sqlAction.run({ ...base, stepId: `f-${i}`, effectKey: effectKeyOf(RUN, `f-${i}`, 1) }, params);
      fresh.push(performance.now() - t);
      // A resumed step (or a later attempt): the worker asks the ledger first, then runs it.
      t = performance.now();
      await findEffect(connections, 'target', RUN, `r-${i}`);
      const asked = performance.now();
      await sqlAction.run({ ...base, stepId: `r-${i}`, effectKey: effectKeyOf(RUN, `r-${i}`, 1) }, params);
      ledgered.push(performance.now() - t);
      lookups.push(asked - t);
    }
  } finally {
    await connections.close();
    await admin.query(`DROP SCHEMA ${SCHEMA} CASCADE; DELETE FROM cutover.step_effects WHERE run_id = $1`, [RUN]).catch(() => undefined);
    await admin.end();
  }
  const without = median(plain);
  const first = median(fresh) - without;
  const resumed = median(ledgered) - without;
  const host = new globalThis.URL(URL).host;
  const verdict = (ms: number): string => `${(ms / GOAL_MS).toFixed(2)}× the ${GOAL_MS} ms goal ${ms < GOAL_MS ? '(within)' : '(OVER)'}`;
  console.log(`effect ledger on PostgreSQL at ${host}, ${STEPS} one-row INSERT steps of each kind, medians:`);
  console.log(`  step without the ledger: ${without.toFixed(3)} ms; first attempt with it: ${median(fresh).toFixed(3)} ms; resumed, asking the ledger first: ${median(ledgered).toFixed(3)} ms (the lookup ${median(lookups).toFixed(3)} ms)`);
  console.log(`  ledger cost per step, first attempt (claim with BEGIN, result with COMMIT): ${first.toFixed(3)} ms = ${verdict(first)}`);
  console.log(`  ledger cost per step, resumed (lookup, claim, result):                   ${resumed.toFixed(3)} ms = ${verdict(resumed)}`);
}

await main();
