import mssql from 'mssql';
import { ActionError, cancelledError } from '../action.js';
import type { ConnectionRegistry } from '../connections.js';
import { ledgerWhere } from '../ledger/find-effect.js';
import { claimMssql, ensureMssqlLedger, recordMssql } from '../ledger/mssql-ledger.js';
import { driverValueText, type DriverColumn } from '../mssql/driver-text.js';
import { connectError, transactionEnded, type SqlRun } from './sql-postgres.js';
import { shapeRows, splitGoBatches, type SqlOutcome } from './sql-result.js';

/**
 * Runs a T-SQL script batch by batch (split on GO) on one session: inside a
 * Transaction when asked (or for a dry run, then rolled back), otherwise on a
 * private one-connection pool so session state carries between batches.
 */
export async function runMssql(registry: ConnectionRegistry, run: SqlRun): Promise<SqlOutcome> {
  if (run.signal.aborted) throw cancelledError('sql', run.signal, `SQL on "${run.connection}"`);
  const inTransaction = run.transaction || run.rollback;
  const batches = splitGoBatches(run.text);
  const privateSession = !inTransaction && batches.length > 1;
  let pool: mssql.ConnectionPool;
  try {
    pool = privateSession ? await registry.mssqlSession(run.connection) : await registry.mssql(run.connection);
  } catch (err) {
    throw connectError(registry, run.connection, err);
  }
  const tx = inTransaction ? new mssql.Transaction(pool) : undefined;
  const effect = run.transaction && !run.rollback ? run.effect : undefined;
  let current: mssql.Request | undefined;
  const onAbort = (): void => current?.cancel();
  run.signal.addEventListener('abort', onAbort, { once: true });
  let batchNo = 0;
  try {
    if (effect) await ensureMssqlLedger(pool, ledgerWhere(registry, run.connection));
    if (tx) await tx.begin();
    if (tx && effect) await claimMssql(tx, effect.key, run.connection);
    let outcome: SqlOutcome = { rowCount: 0, columns: [], rows: [], statements: 0 };
    let statements = 0;
    for (const batch of batches) {
      batchNo++;
      if (run.signal.aborted) throw run.signal.reason;
      current = tx ? new mssql.Request(tx) : pool.request();
      // PRINT and RAISERROR(…, 0, …) arrive as info messages: long procedures report progress that way.
      current.on('info', (info: { message?: string }) => run.onNotice?.(info.message ?? ''));
      const result = await current.batch(batch);
      outcome = toOutcome(result);
      statements += outcome.statements;
    }
    outcome.statements = statements;
    run.check?.(outcome);
    if (tx && effect) {
      const open = await new mssql.Request(tx).query<{ n: number }>('SELECT @@TRANCOUNT AS n');
      if (!open.recordset[0]?.n) throw transactionEnded(run.connection);
      await recordMssql(tx, effect.key, effect.result(outcome));
    }
    if (tx) await (run.rollback ? tx.rollback() : tx.commit());
    return outcome;
  } catch (err) {
    // XACT_ABORT or a severe error may already have ended the transaction; rolling back again is harmless.
    if (tx) await tx.rollback().catch(() => undefined);
    if (run.signal.aborted) throw cancelledError('sql', run.signal, `SQL on "${run.connection}" (rolled back)`);
    throw batchError(registry, run, err, batches.length > 1 ? batchNo : undefined);
  } finally {
    run.signal.removeEventListener('abort', onAbort);
    if (privateSession) await pool.close().catch(() => undefined);
  }
}

function toOutcome(result: mssql.IResult<unknown>): SqlOutcome {
  const sets = result.recordsets;
  const last = Array.isArray(sets) ? sets[sets.length - 1] : undefined;
  const meta = last ? Object.values(last.columns).sort((a, b) => a.index - b.index) : [];
  const columns = meta.map((c) => c.name);
  // decimal and money arrive as numbers: written from their scale (1.10 stays 1.10, 1e-10 reads 0.0000000001).
  const rows = (last ?? []).map((row) => meta.map((c) => decimalText(field(row, c.name), c)));
  // With SET NOCOUNT ON rowsAffected is empty; then only the last result set says how many rows there were.
  const rowCount = result.rowsAffected[result.rowsAffected.length - 1] ?? last?.length ?? 0;
  return { rowCount, columns, rows: shapeRows(rows), statements: Math.max(result.rowsAffected.length, 1) };
}

function decimalText(value: unknown, column: DriverColumn): unknown {
  return typeof value === 'number' ? driverValueText(value, column).text : value;
}

function field(row: unknown, name: string): unknown {
  return typeof row === 'object' && row !== null ? Reflect.get(row, name) : undefined;
}

function batchError(registry: ConnectionRegistry, run: SqlRun, err: unknown, batch: number | undefined): Error {
  if (err instanceof ActionError) return err;
  if (!(err instanceof mssql.RequestError)) return connectError(registry, run.connection, err, true);
  const where = [batch ? ` in batch ${batch}` : '', err.lineNumber ? ` at line ${err.lineNumber}` : ''].join('');
  const number = err.number;
  const message = `SQL Server error${number ? ` ${number}` : ''} on "${run.connection}"${where}: ${err.message}`;
  return new ActionError('sql.failed', registry.redact(message), {
    cause: err,
    details: { connection: run.connection, number, line: err.lineNumber, batch },
  });
}
