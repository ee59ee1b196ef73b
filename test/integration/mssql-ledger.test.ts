import { randomBytes } from 'node:crypto';
import mssql from 'mssql';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sqlAction } from '../../engine/actions/sql.js';
import { mssqlConfigFromUrl } from '../../engine/connections.js';
import { quoteName } from '../../engine/freeze/mssql-freeze-sql.js';
import { EffectAlreadyCommitted, effectKeyOf } from '../../engine/ledger/effect-key.js';
import { findEffect } from '../../engine/ledger/find-effect.js';
import { sqlParams } from '../../runbook/actions/sql.js';
import { actionContext, thrown, type TestContext } from '../support/engine-context.js';

/** The effect ledger on SQL Server (its own cutover.step_effects), through the sql action, in a database of its own. */
const URL = process.env.MSSQL_URL;
const suiteName = `the effect ledger on SQL Server${URL ? '' : ' (skipped: set MSSQL_URL to run against SQL Server)'}`;

describe.skipIf(!URL)(suiteName, () => {
  const database = `cutover_ledger_${randomBytes(4).toString('hex')}`;
  const RUN = `run-mssql-ledger-${process.pid}`;
  let admin: mssql.ConnectionPool;
  let db: mssql.ConnectionPool;
  let babelfish = false;
  const contexts: TestContext[] = [];
  const dbUrl = (): string => {
    const u = new globalThis.URL(URL ?? '');
    u.pathname = `/${database}`;
    return u.toString();
  };
  const ctxFor = (stepId: string, attempt = 1): TestContext => {
    const ctx = actionContext({ runId: RUN, stepId, attempt, effectKey: effectKeyOf(RUN, stepId, attempt), connectionSpecs: { source: { kind: 'mssql', url: dbUrl() } } });
    contexts.push(ctx);
    return ctx;
  };
  const insert = (id: number, extra = '') => sqlParams.parse({ connection: 'source', sql: `INSERT INTO dbo.effects (id) VALUES (${id});${extra}` });
  const rows = async (id: number): Promise<number> => (await db.request().query<{ n: number }>(`SELECT count(*) AS n FROM dbo.effects WHERE id = ${id}`)).recordset[0]?.n ?? -1;

  beforeAll(async () => {
    admin = await new mssql.ConnectionPool({ ...mssqlConfigFromUrl(URL ?? ''), database: 'master' }).connect();
    await admin.request().batch(`CREATE DATABASE ${quoteName(database)}`);
    db = await new mssql.ConnectionPool({ ...mssqlConfigFromUrl(URL ?? ''), database }).connect();
    babelfish = /babelfish/i.test(String((await db.request().query('SELECT @@VERSION AS v')).recordset[0]?.v));
    await db.request().batch('CREATE TABLE dbo.effects (id int NOT NULL)');
  }, 120_000);

  afterEach(async () => {
    await Promise.all(contexts.splice(0).map((c) => c.connections.close()));
  });

  afterAll(async () => {
    await db?.close();
    await admin?.request().batch(`ALTER DATABASE ${quoteName(database)} SET SINGLE_USER WITH ROLLBACK IMMEDIATE`).catch(() => undefined);
    await admin?.request().batch(`DROP DATABASE ${quoteName(database)}`).catch(() => undefined);
    await admin?.close();
  }, 120_000);

  it('creates the ledger on first use and records the result with the effect', async () => {
    const ctx = ctxFor('first');
    expect(await findEffect(ctx.connections, 'source', RUN, 'first')).toBeNull();
    const result = await sqlAction.run(ctx, insert(1));
    expect(await rows(1)).toBe(1);
    // Recorded as JSON: what the ledger gives back is the result as JSON keeps it (undefined fields dropped).
    expect(await findEffect(ctx.connections, 'source', RUN, 'first')).toMatchObject({ attempt: 1, result: JSON.parse(JSON.stringify(result)) });
  });

  it('refuses a second attempt once the effect committed: nothing runs again', async () => {
    await sqlAction.run(ctxFor('twice', 1), insert(2));
    expect(await thrown(() => sqlAction.run(ctxFor('twice', 2), insert(2)))).toBeInstanceOf(EffectAlreadyCommitted);
    expect(await rows(2)).toBe(1);
  });

  it('makes a concurrent attempt wait on the ledger key and roll back once the first commits', async (test) => {
    test.skip(babelfish, "Babelfish has no WAITFOR, which holds the first attempt's transaction open here; SQL Server runs this");
    // Whichever claims the key first commits; the other waits on it, then rolls back.
    const outcomes = await Promise.allSettled([0, 1].map(() => sqlAction.run(ctxFor('concurrent'), insert(3, "\nWAITFOR DELAY '00:00:01';"))));
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    const refused = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    expect(refused?.reason).toBeInstanceOf(EffectAlreadyCommitted);
    expect(await rows(3)).toBe(1);
  });

  it('fails a step whose T-SQL commits on its own', async () => {
    const err = await thrown(() => sqlAction.run(ctxFor('self-commit'), insert(4, '\nCOMMIT;')));
    expect(err.code).toMatch(/^sql\./);
    expect(await findEffect(ctxFor('lookup').connections, 'source', RUN, 'self-commit')).toMatchObject({ result: null });
  });
});
