import mssql from 'mssql';
import type { BackupMssqlParams } from '../../runbook/actions/backup-mssql.js';
import { formatBytes } from '../../runbook/backups.js';
import { ActionError, cancelledError, type ActionContext, type ActionImpl, type ActionResult } from '../action.js';
import {
  BACKUPSET_SQL,
  DATABASE_SQL,
  LOG_CHAIN_SQL,
  VERIFY_SQL,
  backupDatabaseSql,
  backupFilePath,
  logChainCheck,
  type LogChainCheck,
} from '../backup/mssql-backup-sql.js';

type Inputs = Record<string, string>;

/** BACKUP DATABASE … WITH COPY_ONLY, CHECKSUM then RESTORE VERIFYONLY … WITH CHECKSUM; msdb figures and the log-chain check where readable. */
export const backupMssqlAction: ActionImpl<BackupMssqlParams> = {
  id: 'backup.mssql',
  async run(ctx: ActionContext, params: BackupMssqlParams): Promise<ActionResult> {
    const pool = await ctx.connections.mssql(params.connection);
    const query = (sql: string, inputs: Inputs) => runQuery(ctx, pool, params.connection, sql, inputs);
    const current = (await query(DATABASE_SQL, {}))[0];
    const database = params.database ?? String(current?.db ?? '');
    const logChain = await readLogChain(query, database, params.max_log_backup_age);
    const startedAt = Date.now();
    const file = backupFilePath(params.dir, `${ctx.runId}-${ctx.stepId}-${stamp(startedAt)}.bak`);
    if (ctx.dryRun) {
      return { summary: `dry run: would back up [${database}] to ${file} on the SQL Server host (COPY_ONLY, CHECKSUM); log chain: ${logChain.message}; nothing written`, details: { dryRun: true, file, checks: [logChain] } };
    }
    ctx.progress(`backing up [${database}] to ${file}`);
    await query(backupDatabaseSql(database, { compression: params.compression }), { file });
    await query(VERIFY_SQL, { file });
    const seconds = (Date.now() - startedAt) / 1000;
    const set = await readBackupset(query, database, file);
    const bytes = set ? Number((params.compression ? set.compressed_backup_size : null) ?? set.backup_size) : null;
    const backup = {
      id: ctx.stepId, kind: 'mssql' as const, file, bytes, sha256: null, verified: true, tables: null, startedAt, seconds, walLsn: null,
      firstLsn: set ? String(set.first_lsn) : null, lastLsn: set ? String(set.last_lsn) : null,
    };
    const lsns = set ? `, LSN ${backup.firstLsn}–${backup.lastLsn}` : ' (msdb not readable: no size or LSNs)';
    return {
      summary: `backed up [${database}] to ${file}: ${formatBytes(bytes)}, verified (RESTORE VERIFYONLY WITH CHECKSUM) in ${seconds.toFixed(1)}s${lsns}; log chain ${logChain.verdict}: ${logChain.message}`,
      details: { backup, checks: [logChain] },
    };
  },
};

type Query = (sql: string, inputs: Inputs) => Promise<Array<Record<string, unknown>>>;

async function readLogChain(query: Query, database: string, maxAge: number): Promise<LogChainCheck> {
  try {
    const row = (await query(LOG_CHAIN_SQL, { db: database }))[0];
    const age = row?.log_backup_age_seconds;
    return logChainCheck(typeof row?.recovery_model === 'string' ? row.recovery_model : null, typeof age === 'number' ? age : null, maxAge);
  } catch {
    // msdb or sys.databases not readable by this login: report it, the backup itself does not depend on it.
    return logChainCheck(null, null, maxAge);
  }
}

async function readBackupset(query: Query, database: string, file: string): Promise<Record<string, unknown> | null> {
  try {
    return (await query(BACKUPSET_SQL, { db: database, file }))[0] ?? null;
  } catch {
    return null;
  }
}

/** One request with nvarchar inputs; cancelled when the step's signal fires; driver errors become ActionErrors with the mssql number. */
async function runQuery(ctx: ActionContext, pool: mssql.ConnectionPool, connection: string, sql: string, inputs: Inputs): Promise<Array<Record<string, unknown>>> {
  if (ctx.signal.aborted) throw cancelledError('backup', ctx.signal, `the backup on "${connection}"`);
  const request = pool.request();
  for (const [name, value] of Object.entries(inputs)) request.input(name, mssql.NVarChar(4000), value);
  const onAbort = (): void => request.cancel();
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  try {
    const result = await request.query<Record<string, unknown>>(sql);
    return result.recordset ?? [];
  } catch (err) {
    if (ctx.signal.aborted) throw cancelledError('backup', ctx.signal, `the backup on "${connection}"`);
    const number = err && typeof err === 'object' && 'number' in err ? Number(err.number) : undefined;
    const message = ctx.connections.redact(err instanceof Error ? err.message : String(err));
    throw new ActionError('backup.mssql_failed', `SQL Server refused the backup on "${connection}": ${message}`, { cause: err, details: { number } });
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
  }
}

const stamp = (ms: number): string => new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
