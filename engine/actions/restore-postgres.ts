import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { requiredBackupId, type CatalogueEntry } from '../../runbook/backups.js';
import type { RestorePostgresParams } from '../../runbook/actions/restore-postgres.js';
import { ActionError, abortReason, truncate, type ActionContext, type ActionImpl } from '../action.js';
import { libpqConnection } from '../backup/pg-tools.js';
import { verifyBackup } from '../backup/verify.js';
import { quoteIdent } from '../etl/checkpoints.js';
import { runProcess } from './shell-process.js';

const exec = promisify(execFile);

/** schema.name of every TABLE DATA entry of a dump (`pg_restore --list`), optionally only in the given schemas. */
export async function dumpTables(file: string, signal: AbortSignal, schemas?: readonly string[]): Promise<string[]> {
  const { stdout } = await exec('pg_restore', ['--list', file], { signal, maxBuffer: 64 * 1024 * 1024, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
  const tables: string[] = [];
  for (const line of stdout.split('\n')) {
    // "3345; 0 16390 TABLE DATA public accounts postgres"
    const m = /^\d+; \d+ \d+ TABLE DATA (\S+) (\S+) /.exec(line);
    if (m?.[1] && m[2] && (!schemas || schemas.includes(m[1]))) tables.push(`${m[1]}.${m[2]}`);
  }
  return tables;
}

/** The dump to restore: the runbook's file, or the first `from` step whose verified PostgreSQL dump this run made. */
export function chooseBackup(params: RestorePostgresParams, backups: readonly CatalogueEntry[]): { file: string; sha256: string; step: string | null } {
  if (params.file && params.sha256) return { file: params.file, sha256: params.sha256, step: null };
  const from = params.from ?? [];
  for (const ref of from) {
    const id = requiredBackupId(ref);
    const hit = backups.find((b) => b.id === id && b.kind === 'postgres' && b.verified && b.sha256);
    if (hit?.sha256) return { file: hit.file, sha256: hit.sha256, step: hit.id };
  }
  const made = backups.filter((b) => b.kind === 'postgres').map((b) => b.id);
  throw new ActionError('restore.no_backup', `this run has no verified PostgreSQL backup from ${from.join(' or ')} (it made ${made.length ? made.join(', ') : 'none'}); nothing was restored`);
}

/**
 * restore.postgres (emergency rollback): refuses a backup whose sha256 differs
 * or that pg_restore cannot read, before touching the target; else runs
 * `pg_restore --clean --if-exists --single-transaction` (all or nothing) and
 * counts the rows of every restored table, comparing them with the backup
 * catalogue's counts when the runbook passes them.
 */
export const restorePostgresAction: ActionImpl<RestorePostgresParams> = {
  id: 'restore.postgres',
  async run(ctx, given) {
    const chosen = chooseBackup(given, ctx.backups ?? []);
    const params = { ...given, file: chosen.file, sha256: chosen.sha256 };
    if (chosen.step) ctx.progress(`restoring the backup step ${chosen.step} made: ${chosen.file}`);
    const check = await verifyBackup(params.file, params.sha256, ctx.signal);
    if (!check.ok) {
      throw new ActionError('restore.backup_refused', `refusing to restore from ${params.file}: ${check.problem ?? 'it failed verification'}; nothing was restored`, {
        details: { file: params.file, restored: false },
      });
    }
    const tables = await dumpTables(params.file, ctx.signal, params.schemas);
    const where = ctx.connections.describe(params.target);
    if (ctx.dryRun) {
      return { summary: `dry run: ${params.file} verified; would restore ${tables.length} tables into ${where}`, details: { file: params.file, tables, dryRun: true } };
    }
    await runRestore(ctx, params);
    const counts = await countRows(ctx, params.target, tables);
    const wrong = Object.entries(params.expect_rows ?? {}).filter(([t, n]) => counts[t] !== n);
    if (wrong.length > 0) {
      const list = wrong.map(([t, n]) => `${t}: ${counts[t] ?? 'missing'} ≠ ${n}`).join(', ');
      throw new ActionError('restore.count_mismatch', `restored ${params.file} into ${where}, but row counts differ from the backup catalogue: ${list}`, { details: { counts } });
    }
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    return {
      summary: `restored ${tables.length} tables (${total} rows) into ${where} from ${params.file}${params.expect_rows ? '; row counts match the backup catalogue' : ''}`,
      details: { file: params.file, counts },
    };
  },
};

async function runRestore(ctx: ActionContext, params: RestorePostgresParams & { file: string }): Promise<void> {
  const { dbname, env } = libpqConnection(ctx.connections.postgres(params.target).options.connectionString ?? '');
  const argv = ['pg_restore', '--clean', '--if-exists', '--single-transaction', '--exit-on-error', `--dbname=${dbname}`, ...(params.schemas ?? []).map((s) => `--schema=${s}`), params.file];
  const shown = ctx.connections.redact(argv.join(' '));
  ctx.progress(`running ${shown}`);
  const outcome = await runProcess(argv, { cwd: process.cwd(), env, signal: ctx.signal });
  if (outcome.stoppedWith) throw new ActionError('restore.cancelled', `pg_restore was stopped (${abortReason(ctx.signal)}); its single transaction was rolled back`);
  if (outcome.exitCode !== 0) {
    const tail = ctx.connections.redact(truncate(outcome.stderr.text().trim(), 800));
    throw new ActionError('restore.failed', `pg_restore exited with ${outcome.exitCode}; its single transaction was rolled back: ${tail}`, { details: { argv: shown, exitCode: outcome.exitCode, stderrTail: tail } });
  }
}

async function countRows(ctx: ActionContext, target: string, tables: readonly string[]): Promise<Record<string, number>> {
  const pool = ctx.connections.postgres(target);
  const counts: Record<string, number> = {};
  for (const t of tables) {
    const dot = t.indexOf('.');
    const { rows } = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${quoteIdent(t.slice(0, dot))}.${quoteIdent(t.slice(dot + 1))}`);
    counts[t] = Number(rows[0]?.n ?? 0);
  }
  return counts;
}
