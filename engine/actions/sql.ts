import { readFile, realpath } from 'node:fs/promises';
import path from 'node:path';
import type { SqlParams } from '../../runbook/actions/sql.js';
import { ActionError, type ActionContext, type ActionImpl, type ActionResult } from '../action.js';
import { runMssql } from './sql-mssql.js';
import { runPostgres, type SqlRun } from './sql-postgres.js';
import { describeOutcome, expectationFailure, type SqlOutcome } from './sql-result.js';

/** Errors meaning "this statement cannot run inside a transaction" (VACUUM, CREATE INDEX CONCURRENTLY, ALTER DATABASE…). */
const PG_NOT_IN_TRANSACTION = '25001';
const MSSQL_NOT_IN_TRANSACTION = new Set([226, 574]);

/** Runs SQL text or a file from sql/ against a named connection; see runbook/actions/sql.ts. */
export const sqlAction: ActionImpl<SqlParams> = {
  id: 'sql',
  async run(ctx: ActionContext, params: SqlParams): Promise<ActionResult> {
    const kind = ctx.connections.kind(params.connection);
    const text = params.file !== undefined ? await readSqlFile(ctx.sqlDir, params.file) : (params.sql ?? '');
    const source = params.file !== undefined ? `sql/${params.file}` : 'inline SQL';
    // An empty file (a placeholder committed by mistake) would otherwise "succeed" having done nothing.
    if (!text.trim()) throw new ActionError('sql.empty', `${source} is empty; nothing to run on "${params.connection}"`);
    const inTransaction = params.transaction || ctx.dryRun;
    const started = Date.now();
    const resultOf = (outcome: SqlOutcome): ActionResult => {
      const durationMs = Date.now() - started;
      const prefix = ctx.dryRun ? 'dry run (rolled back): ' : '';
      return {
        summary: `${prefix}${describeOutcome(outcome)} on "${params.connection}" from ${source} in ${(durationMs / 1000).toFixed(1)}s`,
        details: { connection: params.connection, kind, ...outcomeDetails(outcome), durationMs, dryRun: ctx.dryRun },
      };
    };
    // The ledger keeps the result built just before COMMIT, and the step reports that same result.
    let recorded: ActionResult | null = null;
    const run: SqlRun = {
      connection: params.connection,
      text,
      transaction: params.transaction,
      rollback: ctx.dryRun,
      signal: ctx.signal,
      log: ctx.log,
      onNotice: (message) => ctx.progress(message, { connection: params.connection }),
      check: (outcome) => {
        const failure = expectationFailure(params.expect, outcome.rowCount);
        if (!failure) return;
        const after = inTransaction ? 'the transaction was rolled back' : 'it ran without a transaction, so its changes stay';
        throw new ActionError('sql.expectation', `${source} on "${params.connection}": ${failure}; ${after}`, {
          details: outcomeDetails(outcome),
        });
      },
      ...(ctx.effectKey ? { effect: { key: ctx.effectKey, result: (outcome: SqlOutcome) => (recorded = resultOf(outcome)) } } : {}),
    };
    ctx.log.info({ connection: params.connection, source, dryRun: ctx.dryRun }, 'running sql');
    let outcome: SqlOutcome;
    try {
      outcome = kind === 'postgres' ? await runPostgres(ctx.connections, run) : await runMssql(ctx.connections, run);
    } catch (err) {
      if (ctx.dryRun && cannotRunInTransaction(err)) return notRehearsable(params.connection, source, err);
      throw err;
    }
    return recorded ?? resultOf(outcome);
  },
};

function outcomeDetails(outcome: SqlOutcome): Record<string, unknown> {
  return {
    command: outcome.command,
    rowCount: outcome.rowCount,
    statements: outcome.statements,
    columns: outcome.columns,
    rows: outcome.rows,
    truncated: outcome.rowCount > outcome.rows.length && outcome.rows.length > 0,
  };
}

/**
 * A dry run wraps everything in a transaction it rolls back; a statement that
 * refuses transactions cannot be rehearsed that way, which a rehearsal should
 * report rather than fail on.
 */
function cannotRunInTransaction(err: unknown): err is ActionError {
  if (!(err instanceof ActionError) || err.code !== 'sql.failed') return false;
  const sqlstate = err.details?.sqlstate;
  const number = err.details?.number;
  return sqlstate === PG_NOT_IN_TRANSACTION || (typeof number === 'number' && MSSQL_NOT_IN_TRANSACTION.has(number));
}

function notRehearsable(connection: string, source: string, err: ActionError): ActionResult {
  return {
    summary: `dry run: ${source} on "${connection}" cannot run inside a transaction, so it was not rehearsed (nothing changed)`,
    details: { connection, dryRun: true, rehearsed: false, reason: err.userMessage },
  };
}

/** Reads sql/<file>, refusing anything that resolves (also through symlinks) outside sqlDir. */
export async function readSqlFile(sqlDir: string, file: string): Promise<string> {
  const root = await realpath(sqlDir).catch(() => path.resolve(sqlDir));
  const outside = new ActionError(
    'sql.file_outside',
    `refusing to read "${file}": SQL files must be inside the sql/ directory`,
  );
  if (path.isAbsolute(file) || !isInside(root, path.resolve(root, file))) throw outside;
  let real: string;
  try {
    real = await realpath(path.resolve(root, file));
  } catch (err) {
    throw new ActionError('sql.file_missing', `no file sql/${file} in this deployment`, { cause: err });
  }
  if (!isInside(root, real)) throw outside;
  return readFile(real, 'utf8');
}

function isInside(root: string, target: string): boolean {
  const rel = path.relative(root, target);
  return rel !== '' && !path.isAbsolute(rel) && rel.split(path.sep)[0] !== '..';
}
