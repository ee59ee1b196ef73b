import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { evaluateProbe } from '../../engine/probe.js';
import { doneWhenSchema } from '../../runbook/action-catalog.js';
import { actionContext, TEST_DATABASE_URL, urlWithPassword, type TestContext } from '../support/engine-context.js';

const S = `cutover_probe_${process.pid}`;
const probe = (p: Record<string, unknown>) => doneWhenSchema.parse(p);

let admin: pg.Pool;
let server: Server;
let base: string;
let ctx: TestContext;

beforeAll(async () => {
  admin = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 2 });
  await admin.query(`DROP SCHEMA IF EXISTS ${S} CASCADE; CREATE SCHEMA ${S}; CREATE TABLE ${S}.migrated (name text)`);
  server = createServer((req, res) => res.writeHead(req.url === '/live' ? 200 : 503).end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await admin.query(`DROP SCHEMA IF EXISTS ${S} CASCADE`);
  await admin.end();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(async () => {
  await admin.query(`TRUNCATE ${S}.migrated`);
  ctx = actionContext();
});

afterEach(async () => {
  await ctx.connections.close();
});

describe('evaluateProbe with sql', () => {
  const sql = `SELECT 1 FROM ${S}.migrated WHERE name = 'orders'`;

  it('is not done while the query returns no row', async () => {
    expect(await evaluateProbe(probe({ connection: 'target', sql }), ctx)).toEqual({
      done: false,
      detail: 'probe on "target" returned no rows',
    });
  });

  it('is done once the query returns a row', async () => {
    await admin.query(`INSERT INTO ${S}.migrated VALUES ('orders'), ('orders')`);
    expect(await evaluateProbe(probe({ connection: 'target', sql }), ctx)).toEqual({
      done: true,
      detail: 'probe on "target" returned 2 rows',
    });
  });

  it('cannot change anything: it runs read-only and reports the refusal as not done', async () => {
    const result = await evaluateProbe(
      probe({ connection: 'target', sql: `INSERT INTO ${S}.migrated VALUES ('orders') RETURNING 1` }),
      ctx,
    );
    expect(result.done).toBe(false);
    expect(result.detail).toContain('cannot execute INSERT in a read-only transaction');
    expect(Number((await admin.query(`SELECT count(*) AS n FROM ${S}.migrated`)).rows[0].n)).toBe(0);
  });

  it('returns the reason instead of throwing when the SQL is wrong', async () => {
    const result = await evaluateProbe(probe({ connection: 'target', sql: `SELECT 1 FROM ${S}.missing` }), ctx);
    expect(result).toEqual({ done: false, detail: expect.stringMatching(/^probe failed: SQL failed on "target".*does not exist/) });
  });

  it('returns the reason for an unknown connection', async () => {
    const result = await evaluateProbe(probe({ connection: 'nowhere', sql: 'SELECT 1' }), ctx);
    expect(result.done).toBe(false);
    expect(result.detail).toMatch(/^probe failed: no connection named "nowhere"/);
  });

  it('gives up after its timeout when blocked (a lock held by a stuck step)', async () => {
    const locker = await admin.connect();
    try {
      await locker.query(`BEGIN; LOCK TABLE ${S}.migrated IN ACCESS EXCLUSIVE MODE`);
      const started = Date.now();
      const result = await evaluateProbe(probe({ connection: 'target', sql }), { ...ctx, timeoutMs: 500 });
      expect(result).toEqual({ done: false, detail: 'probe failed: no answer within 0.5s' });
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      await locker.query('ROLLBACK');
      locker.release();
    }
  });

  it('never puts a password in its detail', async () => {
    const password = 'Pr0be-S3cret';
    const c = actionContext({ connectionSpecs: { target: { kind: 'postgres', url: urlWithPassword(password) } } });
    try {
      const result = await evaluateProbe(probe({ connection: 'target', sql: `SELECT '${password}'::int` }), c);
      expect(result.done).toBe(false);
      expect(result.detail).toContain('invalid input syntax');
      expect(result.detail).not.toContain(password);
    } finally {
      await c.connections.close();
    }
  });
});

describe('evaluateProbe with http', () => {
  it('is done when the status equals', async () => {
    expect(await evaluateProbe(probe({ http: `${base}/live` }), ctx)).toEqual({ done: true, detail: `GET ${base}/live returned 200` });
  });

  it('is not done when the status differs', async () => {
    expect(await evaluateProbe(probe({ http: `${base}/live`, status: 204 }), ctx)).toEqual({
      done: false,
      detail: `GET ${base}/live returned 200, done when 204`,
    });
    expect((await evaluateProbe(probe({ http: `${base}/other` }), ctx)).done).toBe(false);
  });

  it('returns the reason instead of throwing when the server is unreachable', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    expect(await evaluateProbe(probe({ http: `http://127.0.0.1:${port}/` }), ctx)).toEqual({
      done: false,
      detail: `probe failed: GET http://127.0.0.1:${port}/ failed: ECONNREFUSED`,
    });
  });
});
