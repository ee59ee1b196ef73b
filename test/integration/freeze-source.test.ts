import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { StepRecord } from '../../engine/action.js';
import { freezeSourceAction } from '../../engine/actions/freeze-source.js';
import { unfreezeSourceAction } from '../../engine/actions/unfreeze-source.js';
import { freezeSourceParams } from '../../runbook/actions/freeze-source.js';
import { unfreezeSourceParams } from '../../runbook/actions/unfreeze-source.js';
import { actionContext, TEST_DATABASE_URL, thrown, type TestContext } from '../support/engine-context.js';

/**
 * PostgreSQL standing in for the source (and a real PG → PG move): a database
 * and application roles of its own, created here, frozen and unfrozen for real.
 */
const DB = `cutover_freeze_src_${process.pid}`;
const APP = `cutover_freeze_app_${process.pid}`;
const OTHER = `cutover_freeze_other_${process.pid}`;

const urlFor = (user: string | null, database = DB): string => {
  const u = new URL(TEST_DATABASE_URL);
  u.pathname = `/${database}`;
  if (user) u.username = user;
  return u.toString();
};

let admin: pg.Client;
let ctx: TestContext;

async function asApp(user = APP): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: urlFor(user), application_name: 'kgv-web' });
  c.on('error', () => undefined);
  await c.connect();
  return c;
}

/** The freeze step as the run knows it after it ran (what the step runner hands the unfreeze). */
function freezeRecord(params: unknown, started = true): (id: string) => StepRecord | null {
  return (id) => (id === 'freeze' ? { id, action: 'freeze.source', params, status: started ? 'succeeded' : 'pending', attempt: 1, startedAt: started ? Date.now() : null } : null);
}

beforeAll(async () => {
  admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
  for (const r of [APP, OTHER]) await admin.query(`DROP ROLE IF EXISTS ${r}`);
  await admin.query(`CREATE ROLE ${APP} LOGIN`);
  await admin.query(`CREATE ROLE ${OTHER} LOGIN`);
  await admin.query(`CREATE DATABASE ${DB}`);
  const db = new pg.Client({ connectionString: urlFor(null) });
  await db.connect();
  await db.query(`CREATE TABLE antrag (id int PRIMARY KEY, name text); INSERT INTO antrag VALUES (1, 'a'); GRANT SELECT, INSERT, UPDATE ON antrag TO ${APP}`);
  await db.end();
}, 30_000);

afterAll(async () => {
  await admin.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
  for (const r of [APP, OTHER]) await admin.query(`DROP ROLE IF EXISTS ${r}`);
  await admin.end();
});

beforeEach(() => {
  ctx = actionContext({ runId: 'run_freeze', connectionSpecs: { source: { kind: 'postgres', url: urlFor(null) } } });
});

afterEach(async () => {
  await ctx.connections.close();
  // Whatever a test did, the next one starts from a source in service.
  await admin.query(`ALTER DATABASE ${DB} RESET default_transaction_read_only`);
  await admin.query(`ALTER ROLE ${APP} LOGIN`);
  const db = new pg.Client({ connectionString: urlFor(null) });
  await db.connect();
  await db.query(`REVOKE ALL ON antrag FROM ${OTHER}`);
  await db.end();
});

describe('freeze.source on a PostgreSQL source', () => {
  it('lists the connected sessions and changes nothing without set_read_only; expect_no_sessions fails while the application is connected', async () => {
    const app = await asApp();
    try {
      const listed = await freezeSourceAction().run(ctx, freezeSourceParams.parse({ connection: 'source' }));
      expect(listed.summary).toMatch(/^1 session\(s\) on cutover_freeze_src_\d+ \(1 not cutover's\); nothing changed/);
      expect(String(listed.details?.['report'])).toContain(`${APP}@`);
      expect(String(listed.details?.['report'])).toContain('(kgv-web)');
      await app.query(`INSERT INTO antrag VALUES (2, 'still writable')`);

      const err = await thrown(() => freezeSourceAction().run(ctx, freezeSourceParams.parse({ connection: 'source', expect_no_sessions: true })));
      expect(err.code).toBe('freeze.sessions_connected');
      expect(err.userMessage).toContain(`${APP}@`);
    } finally {
      await app.end();
      await admin.query(`DELETE FROM antrag WHERE id = 2`).catch(() => undefined);
    }
  });

  it('after the freeze an application write fails (its session ended, its role cannot log in, new sessions are read-only); the unfreeze restores writes', async () => {
    const app = await asApp();
    await app.query('SELECT 1');
    const params = freezeSourceParams.parse({ connection: 'source', set_read_only: true, app_roles: [APP] });
    const result = await freezeSourceAction().run(ctx, params);

    expect(result.summary).toContain('frozen by default_transaction_read_only = on');
    expect(result.summary).toContain('write refused');
    const freeze = result.details?.['freeze'] as { checks: Array<{ name: string; ok: boolean }>; ended: string[] };
    expect(freeze.checks.map((c) => [c.name, c.ok])).toEqual([['read-only', true], ['write probe', true], [`login ${APP}`, true], ['other writers', true]]);
    expect(freeze.ended.some((e) => e.includes(APP))).toBe(true);
    // The sessions before the freeze are in the step's report.
    expect(String(result.details?.['report'])).toMatch(new RegExp(`Sessions on ${DB} before the freeze:\\* 1`));

    // The open application session was ended, and the role cannot come back.
    await expect(app.query(`INSERT INTO antrag VALUES (3, 'after freeze')`)).rejects.toThrow();
    await expect(asApp()).rejects.toThrow(/not permitted to log in/);
    // Any other new session starts read-only.
    const other = new pg.Client({ connectionString: urlFor(null) });
    await other.connect();
    await expect(other.query(`INSERT INTO antrag VALUES (4, 'after freeze')`)).rejects.toMatchObject({ code: '25006' });
    await other.end();

    // Re-running the built-in freeze (Retry, or a worker crash) sets the same settings again and proves the freeze again.
    const again = await freezeSourceAction().run(ctx, params);
    expect(again.summary).toContain('write refused');

    const undone = await unfreezeSourceAction().run({ ...ctx, stepRecord: freezeRecord(params) }, unfreezeSourceParams.parse({ freeze_step: 'freeze' }));
    expect(undone.summary).toContain('back in service');
    expect(undone.summary).toContain(`${APP} can log in`);
    const back = await asApp();
    try {
      await back.query(`INSERT INTO antrag VALUES (5, 'after unfreeze')`);
      expect((await back.query('SELECT count(*)::int AS n FROM antrag WHERE id = 5')).rows[0].n).toBe(1);
    } finally {
      await back.end();
      await admin.query('SELECT 1');
    }
  });

  it('refuses to call the freeze proven while another login role could still write, names it, and passes once it is trusted', async () => {
    const db = new pg.Client({ connectionString: urlFor(null) });
    await db.connect();
    await db.query(`GRANT INSERT ON antrag TO ${OTHER}`);
    await db.end();
    const params = freezeSourceParams.parse({ connection: 'source', set_read_only: true, app_roles: [APP] });
    const err = await thrown(() => freezeSourceAction().run(ctx, params));
    expect(err.code).toBe('freeze.not_proven');
    expect(err.userMessage).toContain(`other login roles could still write: ${OTHER}`);
    expect(err.userMessage).toContain('unfreeze.source puts the source back in service');
    expect(String(err.details?.['report'])).toContain(`${OTHER} (1 tables)`);

    const trusted = await freezeSourceAction().run(ctx, freezeSourceParams.parse({ connection: 'source', set_read_only: true, app_roles: [APP], trusted_roles: [OTHER] }));
    expect(trusted.summary).toContain('frozen');
  });

  it('a dry run lists and says what it would do, changing nothing; an unfreeze whose freeze never ran leaves the source alone', async () => {
    const params = freezeSourceParams.parse({ connection: 'source', set_read_only: true, app_roles: [APP] });
    const dry = await freezeSourceAction().run({ ...ctx, dryRun: true }, params);
    expect(dry.summary).toMatch(/^dry run: would freeze .* NOLOGIN for cutover_freeze_app_\d+; .*nothing changed$/);
    const app = await asApp();
    await app.query(`UPDATE antrag SET name = 'dry' WHERE id = 1`);
    await app.end();

    const untouched = await unfreezeSourceAction().run({ ...ctx, stepRecord: freezeRecord(params, false) }, unfreezeSourceParams.parse({ freeze_step: 'freeze' }));
    expect(untouched.summary).toMatch(/^nothing to undo: freeze step "freeze" never ran in this run \(pending\)/);
    expect(untouched.details?.['undone']).toBe(false);
  });

  it('freezes by the runbook\'s own statements, proven by verify_sql, and undoes them with unfreeze_statements', async () => {
    const params = freezeSourceParams.parse({
      connection: 'source',
      set_read_only: true,
      statements: [`ALTER ROLE ${APP} NOLOGIN`, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '${APP}'`],
      unfreeze_statements: [`ALTER ROLE ${APP} LOGIN`],
      verify_sql: `SELECT NOT rolcanlogin FROM pg_roles WHERE rolname = '${APP}'`,
    });
    const frozen = await freezeSourceAction().run(ctx, params);
    expect(frozen.summary).toContain("frozen by the runbook's statements (2 statements)");
    expect((frozen.details?.['freeze'] as { checks: unknown }).checks).toEqual([{ name: 'verify_sql', ok: true, message: 'verify_sql returned true' }]);
    await expect(asApp()).rejects.toThrow(/not permitted to log in/);

    const undone = await unfreezeSourceAction().run({ ...ctx, stepRecord: freezeRecord(params) }, unfreezeSourceParams.parse({ freeze_step: 'freeze' }));
    expect(undone.summary).toContain('back in service');
    const back = await asApp();
    await back.end();

    // Statements that do not freeze what verify_sql checks: the step fails and says the source was changed.
    const weak = freezeSourceParams.parse({ ...params, statements: ['SELECT 1'] });
    const err = await thrown(() => freezeSourceAction().run(ctx, weak));
    expect(err.code).toBe('freeze.not_proven');
    expect(err.userMessage).toMatch(/was changed but the freeze is NOT proven: verify_sql: verify_sql returned false/);
  });

  it('fails with a sentence when the role to block does not exist, having changed nothing (one transaction)', async () => {
    const err = await thrown(() => freezeSourceAction().run(ctx, freezeSourceParams.parse({ connection: 'source', set_read_only: true, app_roles: ['no_such_role_kgv'] })));
    expect(err.code).toBe('freeze.failed');
    expect(err.userMessage).toContain('role "no_such_role_kgv" does not exist');
    expect(err.userMessage).toContain('nothing changed');
    const app = await asApp();
    await app.query(`UPDATE antrag SET name = 'writable' WHERE id = 1`);
    await app.end();
  });
});
