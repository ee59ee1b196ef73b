import pg from 'pg';
import type { Logger } from 'pino';
import { ActionError, cancelledError, truncate, type ActionResult } from '../action.js';
import type { ConnectionRegistry } from '../connections.js';
import type { EffectKey } from '../ledger/effect-key.js';
import { ledgerWhere } from '../ledger/find-effect.js';
import { beginAndClaimPg, ensurePgLedger, recordAndCommitPg } from '../ledger/pg-ledger.js';
import { lineOfPosition, shapeResult, type SqlOutcome } from './sql-result.js';

/** How to run one SQL text; shared by the sql action and done_when probes, for both drivers. */
export interface SqlRun {
  connection: string;
  text: string;
  /** Wrap the text in one transaction. */
  transaction: boolean;
  /** End that transaction with ROLLBACK (dry run, probe); implies a transaction. */
  rollback: boolean;
  /** PostgreSQL only: BEGIN READ ONLY, so a probe cannot change anything even by mistake. */
  readOnly?: boolean;
  /** Sees the last statement's outcome before COMMIT, so throwing here rolls the work back. */
  check?: (outcome: SqlOutcome) => void;
  signal: AbortSignal;
  log: Logger;
  onNotice?: (message: string) => void;
  /**
   * Records the run in the effect ledger on this connection: its row is the
   * transaction's first statement and its result the last before COMMIT.
   * Only with transaction and without rollback.
   */
  effect?: SqlEffect;
}

export interface SqlEffect {
  key: EffectKey;
  /** The step's result, built from the outcome just before COMMIT (what the ledger keeps is what the step reports). */
  result: (outcome: SqlOutcome) => ActionResult;
}

const TERMINATE_AFTER_MS = 5_000;

/** Runs the text on one checked-out client (simple query protocol, so several statements are fine). */
export async function runPostgres(registry: ConnectionRegistry, run: SqlRun): Promise<SqlOutcome> {
  if (run.signal.aborted) throw cancelledError('sql', run.signal, `SQL on "${run.connection}"`);
  let client: pg.PoolClient;
  try {
    client = await registry.postgres(run.connection).connect();
  } catch (err) {
    throw connectError(registry, run.connection, err);
  }
  let broken: Error | boolean = false;
  const onError = (err: Error): void => {
    broken = err;
    run.log.warn({ connection: run.connection, err: registry.redact(err.message) }, 'postgres client failed mid-step');
  };
  const onNotice = (notice: { message?: string | undefined }): void => run.onNotice?.(notice.message ?? '');
  client.on('error', onError);
  client.on('notice', onNotice);
  const inTransaction = run.transaction || run.rollback;
  const effect = run.transaction && !run.rollback ? run.effect : undefined;
  let stopCancel = async (): Promise<boolean> => false;
  try {
    const pid: unknown = (await client.query('SELECT pg_backend_pid() AS pid')).rows[0]?.pid;
    if (typeof pid === 'number') stopCancel = cancelOnAbort(registry, run, pid);
    if (effect) await ensurePgLedger(client, ledgerWhere(registry, run.connection));
    if (effect) await beginAndClaimPg(client, effect.key, run.connection);
    else if (inTransaction) await client.query(run.readOnly ? 'BEGIN READ ONLY' : 'BEGIN');
    const raw: pg.QueryArrayResult | pg.QueryArrayResult[] = await client.query({ text: run.text, rowMode: 'array' });
    const results = Array.isArray(raw) ? raw : [raw];
    const outcome = toOutcome(results);
    run.check?.(outcome);
    if (effect) {
      // 'T': still inside our BEGIN. Anything else means the text ended the transaction (and committed the ledger row) itself.
      if (client.getTransactionStatus() !== 'T') throw transactionEnded(run.connection);
      await recordAndCommitPg(client, effect.key, effect.result(outcome));
    } else if (inTransaction) await client.query(run.rollback ? 'ROLLBACK' : 'COMMIT');
    return outcome;
  } catch (err) {
    if (inTransaction && !broken) await client.query('ROLLBACK').catch((e: Error) => (broken = e));
    if (run.signal.aborted) throw cancelledError('sql', run.signal, `SQL on "${run.connection}" (rolled back)`);
    throw statementError(registry, run, err);
  } finally {
    // A cancel still in flight could hit the next borrower of this client: wait for it, then never reuse the client.
    if (await stopCancel()) broken = true;
    // Session state (SET, temp tables, advisory locks) must not leak into the next step that borrows this client.
    if (!broken) await client.query('DISCARD ALL').catch((e: Error) => (broken = e));
    client.off('notice', onNotice);
    client.off('error', onError);
    client.release(broken || undefined);
  }
}

function toOutcome(results: pg.QueryArrayResult[]): SqlOutcome {
  const last = results[results.length - 1];
  if (!last) return { rowCount: 0, columns: [], rows: [], statements: 0 };
  const columns = (last.fields ?? []).map((f) => f.name);
  return { command: last.command, columns, ...shapeResult(columns, last.rows, last.rowCount ?? last.rows.length), statements: results.length };
}

/**
 * On abort, asks the server to cancel the backend's statement from a second
 * connection, and terminates the backend if it is still busy 5 s later.
 * The returned stop function resolves true when a cancel was sent.
 */
function cancelOnAbort(registry: ConnectionRegistry, run: SqlRun, pid: number): () => Promise<boolean> {
  let control: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  const onAbort = (): void => {
    control = backendControl(registry, run, 'pg_cancel_backend', pid);
    timer = setTimeout(() => {
      control = control?.then(() => backendControl(registry, run, 'pg_terminate_backend', pid));
    }, TERMINATE_AFTER_MS);
  };
  if (run.signal.aborted) onAbort();
  else run.signal.addEventListener('abort', onAbort, { once: true });
  return async () => {
    run.signal.removeEventListener('abort', onAbort);
    clearTimeout(timer);
    if (!control) return false;
    await control;
    return true;
  };
}

/** Never throws: failing to cancel is logged, and the step timeout still reports the step as failed. */
async function backendControl(registry: ConnectionRegistry, run: SqlRun, fn: string, pid: number): Promise<void> {
  const admin = registry.postgresClient(run.connection);
  admin.on('error', () => undefined);
  try {
    await admin.connect();
    await admin.query(`SELECT ${fn}($1)`, [pid]);
    run.log.info({ connection: run.connection, pid, fn }, 'sent backend control for aborted step');
  } catch (err) {
    run.log.warn({ connection: run.connection, pid, fn, err: registry.redact(String(err)) }, 'could not cancel backend');
  } finally {
    await admin.end().catch(() => undefined);
  }
}

/** The step's SQL ran COMMIT or ROLLBACK itself: what committed before it cannot be told apart from what ran after. */
export function transactionEnded(connection: string): ActionError {
  return new ActionError(
    'sql.transaction_ended',
    `the SQL on "${connection}" ended the step's transaction itself (COMMIT or ROLLBACK in its text), so it did not run as one transaction and part of it may have taken effect; remove those statements (the step already runs in a transaction), check the effect, then Skip or Retry`,
    { details: { connection } },
  );
}

/** Connection-level failures (refused, auth, dropped); `lost` when it happened mid-statement. */
export function connectError(registry: ConnectionRegistry, name: string, err: unknown, lost = false): ActionError {
  const reason = err instanceof Error ? err.message || err.name : String(err);
  const what = lost ? `lost the connection to "${name}"` : `could not connect to "${name}"`;
  return new ActionError(
    'sql.connection',
    registry.redact(`${what} (${registry.describe(name)}): ${reason}`),
    { cause: err, details: { connection: name } },
  );
}

function statementError(registry: ConnectionRegistry, run: SqlRun, err: unknown): Error {
  if (err instanceof ActionError) return err;
  if (!(err instanceof pg.DatabaseError)) return connectError(registry, run.connection, err, true);
  const line = err.position ? lineOfPosition(run.text, Number(err.position)) : undefined;
  const parts = [`SQL failed on "${run.connection}"`, line ? ` at line ${line}` : '', `: ${err.message}`];
  if (err.detail) parts.push(` (${truncate(err.detail, 300)})`);
  if (err.hint) parts.push(` Hint: ${err.hint}`);
  return new ActionError('sql.failed', registry.redact(parts.join('')), {
    cause: err,
    details: { connection: run.connection, sqlstate: err.code, line },
  });
}
