import { access, constants, mkdir, rename, rm, stat, statfs } from 'node:fs/promises';
import path from 'node:path';
import type { BackupPostgresParams } from '../../runbook/actions/backup-postgres.js';
import { formatBytes } from '../../runbook/backups.js';
import { CutoverError } from '../../runbook/errors.js';
import { ActionError, abortReason, truncate, type ActionContext, type ActionImpl, type ActionResult } from '../action.js';
import { clientMajor, libpqConnection, listDump, sha256File } from '../backup/pg-tools.js';
import { runProcess } from './shell-process.js';

interface ServerFacts {
  major: number;
  database: string;
  /** Upper bound of the dump's size: the relations' size on disk (a custom-format dump is compressed). */
  estimatedBytes: number;
}

/** `pg_dump -Fc` of the target (whole database or listed schemas), sha256'd and verified with `pg_restore --list`. */
export const backupPostgresAction: ActionImpl<BackupPostgresParams> = {
  id: 'backup.postgres',
  async run(ctx: ActionContext, given: BackupPostgresParams): Promise<ActionResult> {
    // A relative dir is the worker's (kgv-local.yaml's var/backups); the catalogue and pg_dump get the absolute path.
    const params = { ...given, dir: path.resolve(given.dir) };
    const facts = await serverFacts(ctx, params);
    const dumpMajor = await clientMajor('pg_dump', ctx.signal);
    if (dumpMajor < facts.major) {
      throw new ActionError('backup.pg_dump_too_old', `pg_dump ${dumpMajor} on the worker is older than the server (PostgreSQL ${facts.major}); install pg_dump ${facts.major} or newer, an older one cannot dump this server`);
    }
    const free = await freeSpace(params.dir, ctx.dryRun);
    const what = params.schemas ? `schema${params.schemas.length > 1 ? 's' : ''} ${params.schemas.join(', ')} of ${facts.database}` : `database ${facts.database}`;
    const space = `${formatBytes(free)} free in ${params.dir}, the data takes up to ${formatBytes(facts.estimatedBytes)}`;
    if (ctx.dryRun) {
      const fits = free >= facts.estimatedBytes ? '' : ' — NOT ENOUGH SPACE for an uncompressed worst case';
      return { summary: `dry run: would dump ${what} with pg_dump ${dumpMajor} to ${params.dir} (${space}${fits}); nothing written`, details: { dryRun: true, freeBytes: free, estimatedBytes: facts.estimatedBytes } };
    }
    if (free < facts.estimatedBytes) throw new ActionError('backup.disk_space', `not enough disk space for the backup: ${space}`);
    const startedAt = Date.now();
    const walLsn = await currentLsn(ctx, params.connection);
    const file = path.join(params.dir, `${ctx.runId}-${ctx.stepId}-${stamp(startedAt)}.dump`);
    const { tables, sha256, bytes } = await dumpAndVerify(ctx, params, file);
    const seconds = (Date.now() - startedAt) / 1000;
    const checkpoint = params.checkpoint ? await takeCheckpoint(ctx, params.connection) : null;
    const backup = { id: ctx.stepId, kind: 'postgres' as const, file, bytes, sha256, verified: true, tables, startedAt, seconds, walLsn };
    const cp = checkpoint ? `; go-live checkpoint at WAL ${checkpoint.lsn}, ${checkpoint.at}` : '';
    return {
      summary: `backed up ${what} to ${file}: ${formatBytes(bytes)}, ${tables} tables, sha256 ${sha256.slice(0, 12)}…, verified with pg_restore --list, in ${seconds.toFixed(1)}s${cp}`,
      details: { backup, ...(checkpoint ? { checkpoint } : {}) },
    };
  },
};

async function serverFacts(ctx: ActionContext, params: BackupPostgresParams): Promise<ServerFacts> {
  const pool = ctx.connections.postgres(params.connection);
  const schemas = params.schemas ?? null;
  const { rows } = await pool.query<{ major: number; database: string; bytes: string; found: string[] }>(
    `SELECT current_setting('server_version_num')::int / 10000 AS major, current_database() AS database,
            CASE WHEN $1::text[] IS NULL THEN pg_database_size(current_database())
                 ELSE (SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c
                       JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ANY($1) AND c.relkind IN ('r', 'm', 'p')) END AS bytes,
            ARRAY(SELECT nspname::text FROM pg_namespace WHERE nspname = ANY(coalesce($1, '{}'::text[]))) AS found`,
    [schemas],
  );
  const row = rows[0];
  if (!row) throw new CutoverError('backup.no_server_facts', `could not read the server version of "${params.connection}"`);
  const missing = (schemas ?? []).filter((s) => !row.found.includes(s));
  if (missing.length > 0) throw new ActionError('backup.unknown_schema', `"${params.connection}" (${row.database}) has no schema ${missing.map((s) => `"${s}"`).join(', ')}; nothing was backed up`);
  return { major: row.major, database: row.database, estimatedBytes: Number(row.bytes) };
}

/** Free bytes in dir, checking the worker may write there; a real run creates dir, a dry run only looks. */
async function freeSpace(dir: string, dryRun: boolean): Promise<number> {
  if (!dryRun) await mkdir(dir, { recursive: true });
  try {
    await access(dir, constants.W_OK);
    const fs = await statfs(dir);
    return fs.bavail * fs.bsize;
  } catch (err) {
    throw new ActionError('backup.dir', `the worker cannot write to ${dir}: ${err instanceof Error && 'code' in err ? String(err.code) : String(err)}`, { cause: err });
  }
}

/** Dumps to a .partial file and renames it only once verified, so a listed file is always a complete dump. */
async function dumpAndVerify(ctx: ActionContext, params: BackupPostgresParams, file: string): Promise<{ tables: number; sha256: string; bytes: number }> {
  const partial = `${file}.partial`;
  try {
    await pgDump(ctx, params, partial);
    const listing = await listDump(partial, ctx.signal);
    if (listing.tables === 0) throw new ActionError('backup.empty', `the dump of "${params.connection}" lists no table data (pg_restore --list); it is not a usable backup`);
    const sha256 = await sha256File(partial);
    await rename(partial, file);
    return { tables: listing.tables, sha256, bytes: (await stat(file)).size };
  } finally {
    await rm(partial, { force: true });
  }
}

async function pgDump(ctx: ActionContext, params: BackupPostgresParams, out: string): Promise<void> {
  const pool = ctx.connections.postgres(params.connection);
  const { dbname, env } = libpqConnection(pool.options.connectionString ?? '');
  // Double quotes make pg_dump take the name literally (no case folding, no wildcards); --strict-names fails on a miss.
  const schemaArgs = (params.schemas ?? []).flatMap((s) => [`--schema="${s.replaceAll('"', '""')}"`]);
  const argv = ['pg_dump', '--format=custom', '--no-password', `--file=${out}`, ...(schemaArgs.length ? ['--strict-names', ...schemaArgs] : []), `--dbname=${dbname}`];
  ctx.log.info({ connection: params.connection, file: out }, 'running pg_dump');
  const outcome = await runProcess(argv, { cwd: path.dirname(out), env, signal: ctx.signal });
  const stderr = ctx.connections.redact(outcome.stderr.text()).trim();
  if (outcome.stoppedWith) throw new ActionError('backup.cancelled', `pg_dump of "${params.connection}" was stopped (${abortReason(ctx.signal)})`);
  if (outcome.exitCode !== 0) {
    const last = stderr.split('\n').pop() ?? '';
    throw new ActionError('backup.pg_dump_failed', `pg_dump of "${params.connection}" failed (exit ${outcome.exitCode ?? outcome.signal})${last ? `: ${truncate(last, 300)}` : ''}`, { details: { stderrTail: stderr } });
  }
}

/** The WAL position as the dump starts; null on a standby or where the function is not allowed. */
async function currentLsn(ctx: ActionContext, connection: string): Promise<string | null> {
  try {
    const { rows } = await ctx.connections.postgres(connection).query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn');
    return rows[0]?.lsn ?? null;
  } catch {
    return null;
  }
}

/** Seed 000 step 7.3: the go-live checkpoint is the WAL position and the server's time after the backup. */
async function takeCheckpoint(ctx: ActionContext, connection: string): Promise<{ lsn: string; at: string }> {
  const { rows } = await ctx.connections.postgres(connection).query<{ lsn: string; at: Date }>('SELECT pg_current_wal_lsn()::text AS lsn, now() AS at');
  const row = rows[0];
  if (!row) throw new CutoverError('backup.checkpoint', `could not read the WAL position of "${connection}"`);
  return { lsn: row.lsn, at: row.at.toISOString() };
}

/** 2024-03-09T22:00:05.123Z → 20240309T220005Z: sortable and safe in file names. */
const stamp = (ms: number): string => new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
