import { afterAll, describe, expect, it } from 'vitest';
import mssql from 'mssql';
import { backupMssqlAction } from '../../engine/actions/backup-mssql.js';
import { mssqlConfigFromUrl } from '../../engine/connections.js';
import { backupMssqlParams } from '../../runbook/actions/backup-mssql.js';
import { readBackup } from '../../runbook/backups.js';
import { actionContext } from '../support/engine-context.js';

/**
 * Runs only against a real SQL Server: MSSQL_URL must be set, and Babelfish
 * (a PostgreSQL stand-in that speaks TDS) has no BACKUP DATABASE, so it is
 * detected by @@VERSION and the suite is skipped, saying so.
 */
const MSSQL_URL = process.env.MSSQL_URL;
const BACKUP_DIR = process.env.MSSQL_BACKUP_DIR ?? '/var/opt/mssql/backup';

async function flavour(url: string): Promise<'sqlserver' | 'babelfish'> {
  const pool = await new mssql.ConnectionPool(mssqlConfigFromUrl(url)).connect();
  try {
    const version = String((await pool.request().query<{ v: string }>('SELECT @@VERSION AS v')).recordset[0]?.v ?? '');
    return /babelfish/i.test(version) ? 'babelfish' : 'sqlserver';
  } finally {
    await pool.close();
  }
}

const server = MSSQL_URL ? await flavour(MSSQL_URL) : null;
const reason = !MSSQL_URL ? 'skipped: MSSQL_URL is not set' : server === 'babelfish' ? 'skipped: MSSQL_URL points at Babelfish, which has no BACKUP DATABASE' : 'on SQL Server';

describe.skipIf(server !== 'sqlserver')(`backup.mssql (${reason})`, () => {
  const ctx = actionContext({ runId: 'run-m1', stepId: 'mssql-before-load', connectionSpecs: { source: { kind: 'mssql', url: MSSQL_URL ?? '' } } });
  afterAll(() => ctx.connections.close());

  it('backs up copy-only with checksum, verifies it and reports msdb figures and the log-chain check', async () => {
    const result = await backupMssqlAction.run(ctx, backupMssqlParams.parse({ connection: 'source', dir: BACKUP_DIR }));
    const backup = readBackup(result.details);
    expect(backup).toMatchObject({ id: 'mssql-before-load', kind: 'mssql', verified: true, sha256: null });
    expect(backup?.file).toMatch(/run-m1-mssql-before-load-\d{8}T\d{6}Z\.bak$/);
    expect(backup?.bytes).toBeGreaterThan(0);
    expect(backup?.firstLsn).toMatch(/^\d+$/);
    expect(result.details?.checks).toEqual([expect.objectContaining({ check: 'log-chain', recoveryModel: expect.any(String) })]);
  });

});

describe.skipIf(!MSSQL_URL)(`backup.mssql dry run on any TDS server, Babelfish included (${MSSQL_URL ? 'MSSQL_URL set' : 'skipped: MSSQL_URL is not set'})`, () => {
  const ctx = actionContext({ runId: 'run-m1', stepId: 'mssql-before-load', connectionSpecs: { source: { kind: 'mssql', url: MSSQL_URL ?? '' } } });
  afterAll(() => ctx.connections.close());

  it('writes nothing and still reports the log-chain check (amber when msdb is not readable)', async () => {
    const result = await backupMssqlAction.run({ ...ctx, dryRun: true }, backupMssqlParams.parse({ connection: 'source', dir: BACKUP_DIR }));
    expect(result.summary).toMatch(/^dry run: would back up \[.+\] to .*run-m1-mssql-before-load-\d{8}T\d{6}Z\.bak .*nothing written$/);
    expect(readBackup(result.details)).toBeNull();
    expect(result.details?.checks).toEqual([expect.objectContaining({ check: 'log-chain', verdict: expect.stringMatching(/^(green|amber)$/) })]);
  });
});
