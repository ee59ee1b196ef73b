import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { backupPostgresAction } from '../../engine/actions/backup-postgres.js';
import { listDump } from '../../engine/backup/pg-tools.js';
import { verifyBackup } from '../../engine/backup/verify.js';
import { backupPostgresParams } from '../../runbook/actions/backup-postgres.js';
import { readBackup } from '../../runbook/backups.js';
import { actionContext, TEST_DATABASE_URL, thrown, urlWithPassword, type TestContext } from '../support/engine-context.js';

const S = `cutover_backup_pg_${process.pid}`;
const PASSWORD = 'Sup3r-s3cret-pw';
let admin: pg.Pool;
let dir: string;
let ctx: TestContext;

const params = (p: Record<string, unknown> = {}) => backupPostgresParams.parse({ connection: 'target', dir, schemas: [S], ...p });
const sha256 = async (file: string): Promise<string> => createHash('sha256').update(await readFile(file)).digest('hex');

beforeAll(async () => {
  admin = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 2 });
  await admin.query(`DROP SCHEMA IF EXISTS ${S} CASCADE; CREATE SCHEMA ${S}`);
  await admin.query(`CREATE TABLE ${S}.antrag (id int PRIMARY KEY, name text); CREATE TABLE ${S}.person (id int PRIMARY KEY, email text)`);
  await admin.query(`INSERT INTO ${S}.antrag SELECT g, 'antrag ' || g FROM generate_series(1, 500) g; INSERT INTO ${S}.person VALUES (1, 'a@example.org')`);
});

afterAll(async () => {
  await admin.query(`DROP SCHEMA IF EXISTS ${S} CASCADE`);
  await admin.end();
});

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'cutover-backup-'));
  // A password in the URL (trust auth ignores it) must reach pg_dump yet never a message.
  ctx = actionContext({ runId: 'run-b1', stepId: 'pg-before-switch', connectionSpecs: { target: { kind: 'postgres', url: urlWithPassword(PASSWORD) } } });
});

afterEach(async () => {
  await ctx.connections.close();
  await rm(dir, { recursive: true, force: true });
});

describe('backup.postgres against real PostgreSQL (issue 5)', () => {
  it('dumps one schema to <runId>-<stepId>-<timestamp>.dump with its sha256, verified by pg_restore --list', async () => {
    const result = await backupPostgresAction.run(ctx, params());
    const backup = readBackup(result.details);
    expect(backup).toMatchObject({ id: 'pg-before-switch', kind: 'postgres', verified: true, tables: 2 });
    expect(path.basename(backup?.file ?? '')).toMatch(/^run-b1-pg-before-switch-\d{8}T\d{6}Z\.dump$/);
    expect(await readdir(dir)).toEqual([path.basename(backup?.file ?? '')]);
    expect(backup?.sha256).toBe(await sha256(backup?.file ?? ''));
    expect(backup?.bytes).toBe((await readFile(backup?.file ?? '')).length);
    expect(backup?.walLsn).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
    expect(await listDump(backup?.file ?? '', ctx.signal)).toMatchObject({ tables: 2 });
    expect(result.summary).toContain(`schema ${S} of`);
    expect(JSON.stringify(result)).not.toContain(PASSWORD);
  });

  it('takes a directory relative to the working directory (kgv-local.yaml: var/backups) and catalogues the absolute file', async () => {
    const relative = path.relative(process.cwd(), dir);
    expect(path.isAbsolute(relative)).toBe(false);
    const backup = readBackup((await backupPostgresAction.run(ctx, params({ dir: relative }))).details);
    expect(path.isAbsolute(backup?.file ?? '')).toBe(true);
    expect(path.dirname(backup?.file ?? '')).toBe(dir);
    expect(await listDump(backup?.file ?? '', ctx.signal)).toMatchObject({ tables: 2 });
  });

  it('records the go-live checkpoint (WAL position and time) when asked', async () => {
    const before = Date.now();
    const result = await backupPostgresAction.run(ctx, params({ checkpoint: true }));
    const checkpoint = result.details?.checkpoint as { lsn: string; at: string };
    expect(checkpoint.lsn).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
    expect(Date.parse(checkpoint.at)).toBeGreaterThanOrEqual(before - 5_000);
    expect(result.summary).toContain(`go-live checkpoint at WAL ${checkpoint.lsn}`);
  });

  it('a dry run checks access and disk space and writes nothing', async () => {
    const result = await backupPostgresAction.run({ ...ctx, dryRun: true }, params());
    expect(result.summary).toMatch(/^dry run: would dump schema .* free in .*; nothing written$/);
    expect(result.details).toMatchObject({ dryRun: true });
    expect(readBackup(result.details)).toBeNull();
    expect(await readdir(dir)).toEqual([]);
  });

  it('fails with a sentence on a schema that does not exist, leaving no file', async () => {
    const err = await thrown(() => backupPostgresAction.run(ctx, params({ schemas: [S, 'no_such_schema'] })));
    expect(err).toMatchObject({ code: 'backup.unknown_schema' });
    expect(err.userMessage).toContain('has no schema "no_such_schema"; nothing was backed up');
    expect(await readdir(dir)).toEqual([]);
  });

  it('refuses with a clear sentence when pg_dump is older than the server', async () => {
    const bin = path.join(dir, 'bin');
    await mkdir(bin);
    await writeFile(path.join(bin, 'pg_dump'), '#!/bin/sh\necho "pg_dump (PostgreSQL) 9.6.24"\n', { mode: 0o755 });
    const saved = process.env.PATH;
    process.env.PATH = `${bin}:${saved ?? ''}`;
    try {
      const err = await thrown(() => backupPostgresAction.run(ctx, params()));
      expect(err).toMatchObject({ code: 'backup.pg_dump_too_old' });
      expect(err.userMessage).toMatch(/^pg_dump 9 on the worker is older than the server \(PostgreSQL \d+\); install pg_dump \d+ or newer/);
    } finally {
      process.env.PATH = saved;
    }
    expect(await readdir(dir)).toEqual(['bin']);
  });

  it('fails on an empty schema: a dump without table data is no backup', async () => {
    const empty = `${S}_empty`;
    await admin.query(`DROP SCHEMA IF EXISTS ${empty}; CREATE SCHEMA ${empty}`);
    try {
      const err = await thrown(() => backupPostgresAction.run(ctx, params({ schemas: [empty] })));
      expect(err).toMatchObject({ code: 'backup.empty' });
      expect(await readdir(dir)).toEqual([]);
    } finally {
      await admin.query(`DROP SCHEMA IF EXISTS ${empty}`);
    }
  });
});

describe('verifyBackup (used by the emergency restore, issue 5)', () => {
  it('accepts the file as it was written', async () => {
    const backup = readBackup((await backupPostgresAction.run(ctx, params())).details);
    expect(await verifyBackup(backup?.file ?? '', backup?.sha256 ?? '')).toEqual({ ok: true, tables: 2 });
  });

  it('refuses a dump with flipped bytes, by checksum', async () => {
    const backup = readBackup((await backupPostgresAction.run(ctx, params())).details);
    const file = backup?.file ?? '';
    const bytes = await readFile(file);
    for (const i of [bytes.length >> 1, (bytes.length >> 1) + 1]) bytes[i] = (bytes[i] ?? 0) ^ 0xff;
    await writeFile(file, bytes);
    const check = await verifyBackup(file, backup?.sha256 ?? '');
    expect(check.ok).toBe(false);
    expect(check.problem).toContain('has changed since it was made');
  });

  it('refuses a file pg_restore cannot read even when its checksum matches (corrupted before it was recorded)', async () => {
    const file = path.join(dir, 'garbage.dump');
    await writeFile(file, Buffer.from('PGDMP this is not a dump at all'));
    const check = await verifyBackup(file, await sha256(file));
    expect(check.ok).toBe(false);
    expect(check.problem).toMatch(/^pg_restore cannot read .*garbage\.dump/);
  });

  it('refuses a missing file', async () => {
    expect(await verifyBackup(path.join(dir, 'gone.dump'), 'a'.repeat(64))).toEqual({ ok: false, problem: `backup file ${path.join(dir, 'gone.dump')} does not exist on the worker` });
  });
});
