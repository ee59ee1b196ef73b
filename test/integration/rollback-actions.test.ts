import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { restorePostgresAction } from '../../engine/actions/restore-postgres.js';
import { rollbackTruncateAction } from '../../engine/actions/rollback-truncate.js';
import { rollbackVerifySourceAction } from '../../engine/actions/rollback-verify-source.js';
import { switchAction } from '../../engine/actions/switch.js';
import { ensureCheckpointTables, insertCheckpoint } from '../../engine/etl/checkpoints.js';
import { switchParams } from '../../runbook/actions/switch.js';
import { restorePostgresParams } from '../../runbook/actions/restore-postgres.js';
import { truncateLoadedParams } from '../../runbook/actions/rollback-truncate-loaded.js';
import { verifySourceParams } from '../../runbook/actions/rollback-verify-source.js';
import { actionContext, TEST_DATABASE_URL, thrown, type TestContext } from '../support/engine-context.js';

const S = `cutover_rollback_${process.pid}`;
const ETL = `${S}_etl`;
const exec = promisify(execFile);

let admin: pg.Pool;
let tmp: string;
let ctx: TestContext;

const count = async (table: string): Promise<number> => Number((await admin.query(`SELECT count(*) AS n FROM ${S}.${table}`)).rows[0].n);

beforeAll(async () => {
  admin = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 2 });
  await admin.query(`DROP SCHEMA IF EXISTS ${S} CASCADE; DROP SCHEMA IF EXISTS ${ETL} CASCADE; CREATE SCHEMA ${S}`);
  tmp = await mkdtemp(path.join(tmpdir(), 'cutover-rollback-'));
});

afterAll(async () => {
  await admin.query(`DROP SCHEMA IF EXISTS ${S} CASCADE; DROP SCHEMA IF EXISTS ${ETL} CASCADE`);
  await admin.end();
  await rm(tmp, { recursive: true, force: true });
});

beforeEach(() => {
  ctx = actionContext({ runId: 'run_1' });
});

afterEach(async () => {
  await ctx.connections.close();
});

describe('rollback.truncate_loaded', () => {
  beforeEach(async () => {
    await admin.query(`DROP SCHEMA IF EXISTS ${ETL} CASCADE`);
    for (const t of ['a', 'b', 'c', 'd']) {
      await admin.query(`DROP TABLE IF EXISTS ${S}.${t}; CREATE TABLE ${S}.${t} (id int PRIMARY KEY); INSERT INTO ${S}.${t} SELECT generate_series(1, 5)`);
    }
  });

  const book = async (loadId: string, table: string): Promise<void> =>
    insertCheckpoint(admin, ETL, { loadId, table: `${S}.${table}`, chunkId: 'c1', rows: 5, quarantined: 0, bytes: 10, startedAt: new Date() });

  it('truncates exactly the tables whose chunks carry this run\'s load ids, keeping their schema', async () => {
    await ensureCheckpointTables(admin, ETL);
    await book('run_1/load', 'a');
    await book('run_1/load-more', 'b');
    await book('run_12/load', 'c'); // a run id that merely starts with ours
    await book('runX1/load', 'd'); // _ is not a wildcard here
    const result = await rollbackTruncateAction.run(ctx, truncateLoadedParams.parse({ target: 'target', etl_schema: ETL }));
    expect(result.details?.truncated).toEqual([`${S}.a`, `${S}.b`]);
    expect(result.summary).toBe(`truncated 2 tables this run loaded: ${S}.a, ${S}.b`);
    expect([await count('a'), await count('b'), await count('c'), await count('d')]).toEqual([0, 0, 5, 5]);
    await admin.query(`INSERT INTO ${S}.a VALUES (1)`); // the table is still there
  });

  it('says so when this run loaded nothing', async () => {
    const result = await rollbackTruncateAction.run(ctx, truncateLoadedParams.parse({ target: 'target', etl_schema: ETL }));
    expect(result.summary).toBe('run run_1 loaded no tables on "target"; nothing truncated');
    expect(await count('a')).toBe(5);
  });
});

describe('rollback.verify_source', () => {
  it('reports that the source answers, and names a source that does not', async () => {
    const ok = await rollbackVerifySourceAction.run(ctx, verifySourceParams.parse({ source: 'target' }));
    expect(ok.summary).toMatch(/^the source "target" \(.*\) answers \(1\) in \d+ ms$/);
    const err = await thrown(() => rollbackVerifySourceAction.run(ctx, verifySourceParams.parse({ source: 'target', sql: 'SELECT * FROM no_such_table' })));
    expect(err.code).toBe('rollback.source_unreachable');
  });
});

describe('switch', () => {
  let server: Server;
  let base: string;
  let healthy = true;
  let flips = 0;

  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/flip' && req.method === 'POST') flips++;
      res.statusCode = req.url === '/health' && !healthy ? 503 : 200;
      res.end(req.url === '/health' ? (healthy ? 'ok' : 'db down') : 'done');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => new Promise<void>((resolve) => server.close(() => resolve())));

  const params = () =>
    switchParams.parse({
      flip: { action: 'http', params: { url: `${base}/flip`, method: 'POST' } },
      smoke: [{ action: 'http', params: { url: `${base}/health` } }, { action: 'sql', params: { connection: 'target', sql: 'SELECT 1' } }],
    });
  const at = new Date('2026-03-01T12:00:00.000Z');

  it('flips, runs the smoke checks and records the go-live time', async () => {
    healthy = true;
    const before = flips;
    const result = await switchAction(() => at).run(ctx, params());
    expect(flips).toBe(before + 1);
    expect(result.details?.goLiveAt).toBe('2026-03-01T12:00:00.000Z');
    expect(result.details?.smoke).toEqual([expect.objectContaining({ ok: true }), expect.objectContaining({ ok: true })]);
    expect(result.summary).toBe('switched to PostgreSQL at 2026-03-01T12:00:00.000Z; 2 smoke checks passed');
  });

  it('fails with switch.smoke_failed, switched: true, when a smoke check fails, offering rollback', async () => {
    healthy = false;
    const err = await thrown(() => switchAction(() => at).run(ctx, params()));
    expect(err.code).toBe('switch.smoke_failed');
    expect(err.userMessage).toMatch(/1 of 2 smoke checks failed .*returned 503.*; rollback is offered$/);
    expect(err.details).toMatchObject({ goLiveAt: '2026-03-01T12:00:00.000Z', switched: true, smoke: [{ ok: false }, { ok: true }] });
  });
});

describe('restore.postgres', () => {
  const R = `${S}_restore`;
  const md5 = async (): Promise<string> =>
    (await admin.query(`SELECT md5(string_agg(t::text, '|' ORDER BY id)) AS h FROM ${R}.t`)).rows[0].h;
  let dump: string;
  let sha: string;
  let backedUp: string;

  beforeAll(async () => {
    await admin.query(`DROP SCHEMA IF EXISTS ${R} CASCADE; CREATE SCHEMA ${R}; CREATE TABLE ${R}.t (id int PRIMARY KEY, v text, n numeric)`);
    await admin.query(`INSERT INTO ${R}.t SELECT g, 'row ' || g, g * 1.25 FROM generate_series(1, 200) g`);
    backedUp = await md5();
    dump = path.join(tmp, 'backup.dump');
    await exec('pg_dump', ['-Fc', `--schema=${R}`, `--file=${dump}`, TEST_DATABASE_URL]);
    sha = createHash('sha256').update(await readFile(dump)).digest('hex');
  });
  afterAll(async () => admin.query(`DROP SCHEMA IF EXISTS ${R} CASCADE`));

  const change = async (): Promise<void> => {
    await admin.query(`UPDATE ${R}.t SET v = 'changed' WHERE id < 50; DELETE FROM ${R}.t WHERE id > 150; INSERT INTO ${R}.t VALUES (1000, 'new', 0)`);
  };

  it('restores the backup: data equal to the backup, row counts reported', async () => {
    await change();
    expect(await md5()).not.toBe(backedUp);
    const result = await restorePostgresAction.run(ctx, restorePostgresParams.parse({ target: 'target', file: dump, sha256: sha, schemas: [R], expect_rows: { [`${R}.t`]: 200 } }));
    expect(await md5()).toBe(backedUp);
    expect(result.details?.counts).toEqual({ [`${R}.t`]: 200 });
  });

  it('restores the first backup named in from: that this run made, and refuses when it made none', async () => {
    await change();
    const made = [{ id: 'pg-golive', kind: 'postgres' as const, file: dump, bytes: null, sha256: sha, verified: true, at: 1 }];
    const withCatalogue = actionContext({ runId: 'run_1', backups: made });
    try {
      const result = await restorePostgresAction.run(withCatalogue, restorePostgresParams.parse({ target: 'target', from: ['backup.pg-before', 'backup.pg-golive'], schemas: [R] }));
      expect(await md5()).toBe(backedUp);
      expect(result.details).toMatchObject({ file: dump, counts: { [`${R}.t`]: 200 } });
      expect(withCatalogue.progressed.map((p) => p.message)).toContain(`restoring the backup step pg-golive made: ${dump}`);
      await change();
      const none = await thrown(() => restorePostgresAction.run(withCatalogue, restorePostgresParams.parse({ target: 'target', from: 'backup.pg-before', schemas: [R] })));
      expect(none.code).toBe('restore.no_backup');
      expect(none.userMessage).toBe('this run has no verified PostgreSQL backup from backup.pg-before (it made pg-golive); nothing was restored');
      expect(await md5()).not.toBe(backedUp);
    } finally {
      await withCatalogue.connections.close();
    }
  });

  it('refuses a corrupted backup before restoring anything', async () => {
    await change();
    const changed = await md5();
    const bytes = await readFile(dump);
    const corrupt = Buffer.from(bytes);
    for (let i = 0; i < 8; i++) corrupt[i] = (corrupt[i] ?? 0) ^ 0xff; // flips the PGDMP header
    const bad = path.join(tmp, 'corrupt.dump');
    await writeFile(bad, corrupt);
    const badSha = createHash('sha256').update(corrupt).digest('hex');
    const unreadable = await thrown(() => restorePostgresAction.run(ctx, restorePostgresParams.parse({ target: 'target', file: bad, sha256: badSha, schemas: [R] })));
    expect(unreadable.code).toBe('restore.backup_refused');
    expect(unreadable.userMessage).toContain(`refusing to restore from ${bad}`);
    const mismatched = await thrown(() => restorePostgresAction.run(ctx, restorePostgresParams.parse({ target: 'target', file: bad, sha256: sha, schemas: [R] })));
    expect(mismatched.userMessage).toMatch(/has changed since it was made/);
    expect(await md5()).toBe(changed);
  });
});
