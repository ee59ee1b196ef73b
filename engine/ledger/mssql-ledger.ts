import mssql from 'mssql';
import type { ActionResult } from '../action.js';
import { faultPoint } from '../fault-injection.js';
import { EffectAlreadyCommitted, ledgerUnavailable, parseLedgerResult, type EffectKey, type LedgerEntry } from './effect-key.js';

/**
 * The effect ledger on SQL Server: `cutover.step_effects` on the database
 * the step changes, with the PostgreSQL ledger's contract (pg-ledger.ts).
 * Under READ COMMITTED a second INSERT of the same key waits on the first
 * one's key lock, so a concurrent attempt blocks here as it does there.
 */
const MSSQL_LEDGER_TABLE = 'cutover.step_effects';

/** Violation of a PRIMARY KEY / UNIQUE constraint, and of a unique index. */
const DUPLICATE_KEY = new Set([2627, 2601]);
const INVALID_OBJECT = 208;

const CREATE_SQL = `
BEGIN TRANSACTION;
-- Two workers creating it at once would collide on the catalog: serialise them.
EXEC sp_getapplock @Resource = N'cutover.step_effects', @LockMode = N'Exclusive', @LockOwner = N'Transaction', @LockTimeout = 30000;
IF SCHEMA_ID(N'cutover') IS NULL EXEC(N'CREATE SCHEMA cutover');
IF OBJECT_ID(N'cutover.step_effects', N'U') IS NULL
  CREATE TABLE cutover.step_effects (
    job_id nvarchar(450) NOT NULL CONSTRAINT step_effects_pk PRIMARY KEY,
    run_id nvarchar(200) NOT NULL, step_id nvarchar(200) NOT NULL, attempt int NOT NULL,
    started_at datetime2 NOT NULL CONSTRAINT step_effects_started DEFAULT SYSUTCDATETIME(),
    finished_at datetime2 NULL, result nvarchar(max) NULL,
    CONSTRAINT step_effects_one_per_step UNIQUE (run_id, step_id));
COMMIT TRANSACTION;`;

const known = new Set<string>();

/** Creates the ledger table if missing, outside any step transaction; a pre-created table needs no CREATE privilege. */
export async function ensureMssqlLedger(pool: mssql.ConnectionPool, where: { connection: string; database: string }): Promise<void> {
  if (known.has(where.database)) return;
  try {
    const exists = await pool.request().query<{ id: number | null }>("SELECT OBJECT_ID(N'cutover.step_effects', N'U') AS id");
    if (exists.recordset[0]?.id == null) await pool.request().batch(CREATE_SQL);
  } catch (err) {
    throw ledgerUnavailable(where.connection, MSSQL_LEDGER_TABLE, err instanceof Error ? err.message : String(err), err);
  }
  known.add(where.database);
}

const keyInputs = (request: mssql.Request, key: EffectKey): mssql.Request =>
  request.input('job', mssql.NVarChar(450), key.jobId).input('run', mssql.NVarChar(200), key.runId).input('step', mssql.NVarChar(200), key.stepId).input('attempt', mssql.Int, key.attempt);

/** First request of the step's transaction; throws EffectAlreadyCommitted when another attempt committed first. */
export async function claimMssql(tx: mssql.Transaction, key: EffectKey, connection: string): Promise<void> {
  try {
    await keyInputs(new mssql.Request(tx), key).query(`INSERT INTO ${MSSQL_LEDGER_TABLE} (job_id, run_id, step_id, attempt) VALUES (@job, @run, @step, @attempt)`);
  } catch (err) {
    if (err instanceof mssql.RequestError && err.number !== undefined && DUPLICATE_KEY.has(err.number)) throw new EffectAlreadyCommitted(key, err);
    if (err instanceof mssql.RequestError && err.number === INVALID_OBJECT) {
      known.clear();
      throw ledgerUnavailable(connection, MSSQL_LEDGER_TABLE, err.message, err);
    }
    throw err;
  }
  faultPoint('in-effect', key.stepId);
}

/** Last request before COMMIT: the result the step reports. */
export async function recordMssql(tx: mssql.Transaction, key: EffectKey, result: ActionResult): Promise<void> {
  await new mssql.Request(tx)
    .input('job', mssql.NVarChar(450), key.jobId)
    .input('result', mssql.NVarChar(mssql.MAX), JSON.stringify(result))
    .query(`UPDATE ${MSSQL_LEDGER_TABLE} SET finished_at = SYSUTCDATETIME(), result = @result WHERE job_id = @job`);
}

/** The committed effect of any attempt of this step, or null (also when the ledger does not exist yet). */
export async function findMssql(pool: mssql.ConnectionPool, runId: string, stepId: string): Promise<LedgerEntry | null> {
  // Asked in the same batch rather than caught as error 208: a missing table is the normal first-run case, and
  // TDS servers other than SQL Server (Babelfish) report it under other numbers.
  const { recordset } = await pool
    .request()
    .input('run', mssql.NVarChar(200), runId)
    .input('step', mssql.NVarChar(200), stepId)
    .query<{ job_id: string; attempt: number; finished_at: Date | null; result: string | null }>(
      `IF OBJECT_ID(N'${MSSQL_LEDGER_TABLE}', N'U') IS NOT NULL
         SELECT job_id, attempt, finished_at, result FROM ${MSSQL_LEDGER_TABLE} WHERE run_id = @run AND step_id = @step`,
    );
  const row = recordset?.[0];
  return row ? { jobId: row.job_id, attempt: row.attempt, finishedAt: row.finished_at, result: parseLedgerResult(row.result) } : null;
}
