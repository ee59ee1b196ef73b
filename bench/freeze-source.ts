/**
 * freeze.source benchmark (issue 8) on the PostgreSQL stand-in: how long the
 * source is in an in-between state. A database with N application sessions
 * connected — a third idle, a third idle in a transaction that updated a row,
 * a third in the middle of a long UPDATE — is frozen (list, NOLOGIN, read-only
 * default, every session ended, proof) and unfrozen. Prints the duration of
 * each, the sessions ended, and whether any application write got through.
 *
 *   npx tsx bench/freeze-source.ts [sessions]   (default 30; DATABASE_URL or TEST_DATABASE_URL)
 */
import pg from 'pg';
import { pino } from 'pino';
import type { ActionContext } from '../engine/action.js';
import { freezeSourceAction } from '../engine/actions/freeze-source.js';
import { unfreezeSourceAction } from '../engine/actions/unfreeze-source.js';
import { ConnectionRegistry } from '../engine/connections.js';
import { freezeSourceParams } from '../runbook/actions/freeze-source.js';
import { unfreezeSourceParams } from '../runbook/actions/unfreeze-source.js';

const BASE = process.env.DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const SESSIONS = Number(process.argv[2] ?? 30);
const DB = `bench_freeze_${process.pid}`;
const APP = `bench_freeze_app_${process.pid}`;
const url = (user?: string): string => {
  const u = new URL(BASE);
  u.pathname = `/${DB}`;
  if (user) u.username = user;
  return u.toString();
};

async function main(): Promise<void> {
  const admin = new pg.Client({ connectionString: BASE });
  await admin.connect();
  await admin.query(`CREATE ROLE ${APP} LOGIN`);
  await admin.query(`CREATE DATABASE ${DB}`);
  const apps: pg.Client[] = [];
  const connections = new ConnectionRegistry({ source: { kind: 'postgres', url: url() } });
  try {
    const owner = new pg.Client({ connectionString: url() });
    await owner.connect();
    await owner.query(`CREATE TABLE antrag (id int PRIMARY KEY, n int NOT NULL DEFAULT 0); INSERT INTO antrag SELECT g FROM generate_series(1, ${SESSIONS}) g; GRANT SELECT, UPDATE, INSERT ON antrag TO ${APP}`);
    await owner.end();
    let leaked = 0;
    for (let i = 0; i < SESSIONS; i++) {
      const c = new pg.Client({ connectionString: url(APP), application_name: 'kgv-web' });
      c.on('error', () => undefined);
      await c.connect();
      apps.push(c);
      if (i % 3 === 1) await c.query(`BEGIN; UPDATE antrag SET n = n + 1 WHERE id = ${i + 1}`);
      // A long writer: its transaction must be rolled back, not committed after the freeze.
      if (i % 3 === 2) void c.query(`UPDATE antrag SET n = n + 1 WHERE id = ${i + 1} AND pg_sleep(30) IS NOT NULL`).then(() => leaked++, () => undefined);
    }
    await new Promise((r) => setTimeout(r, 500));
    const stepRecord: ActionContext['stepRecord'] = (id) => (id === 'freeze' ? { id, action: 'freeze.source', params, status: 'succeeded', attempt: 1, startedAt: 1 } : null);
    const ctx: ActionContext = { runId: 'bench', stepId: 'freeze', attempt: 1, dryRun: false, effectKey: null, connections, sqlDir: '', signal: new AbortController().signal, progress: () => {}, stepRecord, log: pino({ level: 'silent' }) };
    const params = freezeSourceParams.parse({ connection: 'source', set_read_only: true, app_roles: [APP] });

    let t0 = performance.now();
    const frozen = await freezeSourceAction().run(ctx, params);
    const freezeMs = performance.now() - t0;
    const ended = ((frozen.details?.['freeze'] as { ended?: string[] } | undefined)?.ended ?? []).length;
    const left = Number((await admin.query(`SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND usename = $2`, [DB, APP])).rows[0].count);

    t0 = performance.now();
    await unfreezeSourceAction().run({ ...ctx, stepId: 'rb-unfreeze' }, unfreezeSourceParams.parse({ freeze_step: 'freeze' }));
    const unfreezeMs = performance.now() - t0;
    const check = new pg.Client({ connectionString: url() });
    await check.connect();
    const changed = Number((await check.query('SELECT count(*) FROM antrag WHERE n <> 0')).rows[0].count);
    await check.end();

    console.log(`application sessions connected      ${SESSIONS} (${Math.ceil(SESSIONS / 3)} idle, ${Math.floor((SESSIONS + 1) / 3)} idle in transaction, ${Math.floor(SESSIONS / 3)} in a long UPDATE)`);
    console.log(`freeze.source (list, freeze, end, prove) ${freezeMs.toFixed(0)} ms, ${ended} sessions ended`);
    console.log(`application sessions left           ${left}`);
    console.log(`rows changed by the application     ${changed} (long writers that committed: ${leaked})`);
    console.log(`unfreeze.source (undo, prove)       ${unfreezeMs.toFixed(0)} ms`);
  } finally {
    await Promise.all(apps.map((c) => c.end().catch(() => undefined)));
    await connections.close();
    await admin.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
    await admin.query(`DROP ROLE IF EXISTS ${APP}`);
    await admin.end();
  }
}

await main();
