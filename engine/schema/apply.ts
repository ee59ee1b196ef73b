import pg from 'pg';
import type { PostLoadStatements } from './constraints.js';
import { quoteLiteral } from './naming.js';
import { CutoverError, asCutoverError } from '../../runbook/errors.js';

/**
 * Applies converted DDL to PostgreSQL. Orchestration that returns a result
 * and never throws: every failure is reported with its statement.
 */

export interface StatementFailure {
  statement: string;
  message: string;
  /** SQLSTATE when PostgreSQL said why; null for connection failures and cancellation. */
  sqlstate: string | null;
}

export interface ApplyProgress {
  phase: string;
  done: number;
  total: number;
  statement: string;
  ok: boolean;
  ms: number;
}

export interface ApplyOptions {
  /** Stops scheduling statements and cancels the running ones. */
  signal?: AbortSignal;
  onProgress?: (p: ApplyProgress) => void;
}

/** The effect ledger's calls around applyStatements' one transaction (engine/ledger/pg-ledger.ts). */
export interface ApplyLedger {
  /** Before BEGIN, outside the transaction. */
  ensure(client: pg.ClientBase): Promise<void>;
  /** Right after BEGIN; what it throws (another attempt committed first) is thrown by applyStatements. */
  claim(client: pg.ClientBase): Promise<void>;
  /** Just before COMMIT, once every statement succeeded. */
  record(client: pg.ClientBase): Promise<void>;
}

export interface PostLoadOptions extends ApplyOptions {
  /** Connections building indexes at once; default 2. */
  parallelism?: number;
  /** Per connection building indexes; default '512MB'. */
  maintenanceWorkMem?: string;
}

export interface ApplyResult {
  ok: boolean;
  /** Statements that took effect (0 when a transaction was rolled back). */
  applied: number;
  total: number;
  failures: StatementFailure[];
}

/**
 * All statements in one transaction: either the whole pre-load schema exists
 * afterwards, or nothing of it. With a ledger, its row commits with them;
 * the only throw is the ledger claim's (another attempt committed first).
 */
export async function applyStatements(pool: pg.Pool, statements: string[], opts: ApplyOptions & { ledger?: ApplyLedger } = {}): Promise<ApplyResult> {
  const total = statements.length;
  const failures: StatementFailure[] = [];
  const run = new Runner(pool, 'schema', total, opts, failures);
  const { ledger } = opts;
  let refused: unknown = null;
  await run.withClient([], async (client) => {
    if (ledger) await ledger.ensure(client);
    await client.query('BEGIN');
    if (ledger) {
      try {
        await ledger.claim(client);
      } catch (err) {
        await client.query('ROLLBACK');
        refused = err;
        return;
      }
    }
    for (const statement of statements) {
      if (!(await run.one(client, statement))) {
        await client.query('ROLLBACK');
        return;
      }
    }
    if (ledger) await ledger.record(client);
    await client.query('COMMIT');
  });
  if (refused) throw refused;
  const ok = failures.length === 0;
  return { ok, applied: ok ? total : 0, total, failures };
}

/**
 * Keys and indexes on `parallelism` connections with a raised
 * maintenance_work_mem, then checks, then foreign keys added NOT VALID one
 * by one (two at once could deadlock on a pair of tables), then validated.
 * Each statement commits on its own; a failure does not stop the others.
 */
export async function applyPostLoad(pool: pg.Pool, post: PostLoadStatements, opts: PostLoadOptions = {}): Promise<ApplyResult> {
  const width = Math.max(1, opts.parallelism ?? 2);
  const memory = opts.maintenanceWorkMem ?? '512MB';
  const failures: StatementFailure[] = [];
  if (!/^\d+\s*(kB|MB|GB|TB)?$/.test(memory)) {
    failures.push({ statement: `SET maintenance_work_mem = ${memory}`, message: 'not a memory size', sqlstate: null });
    return { ok: false, applied: 0, total: 0, failures };
  }
  const setup = [`SET maintenance_work_mem = ${quoteLiteral(memory)}`];
  const phases: Array<[string, string[], number]> = [
    ['keys and indexes', [...post.primaryKeys, ...post.uniques, ...post.indexes], width],
    ['checks', post.checks, width],
    ['foreign keys', post.foreignKeys, 1],
    ['validate foreign keys', post.validations, width],
  ];
  let applied = 0;
  let total = 0;
  for (const [phase, statements, parallel] of phases) {
    total += statements.length;
    const runner = new Runner(pool, phase, statements.length, opts, failures);
    await runner.parallel(statements, parallel, setup);
    applied += runner.succeeded;
  }
  return { ok: failures.length === 0, applied, total, failures };
}

class Runner {
  private done = 0;
  succeeded = 0;

  constructor(
    private readonly pool: pg.Pool,
    private readonly phase: string,
    private readonly total: number,
    private readonly opts: ApplyOptions,
    private readonly failures: StatementFailure[],
  ) {}

  /** Runs one statement; false (and a recorded failure) when it failed or the signal fired. */
  async one(client: pg.PoolClient, statement: string): Promise<boolean> {
    const started = Date.now();
    let ok = false;
    if (this.opts.signal?.aborted) this.fail(statement, cancelled(this.opts.signal));
    else {
      try {
        await client.query(statement);
        ok = true;
        this.succeeded++;
      } catch (err) {
        this.fail(statement, err);
      }
    }
    this.opts.onProgress?.({ phase: this.phase, done: ++this.done, total: this.total, statement, ok, ms: Date.now() - started });
    return ok;
  }

  async parallel(statements: string[], width: number, setup: string[]): Promise<void> {
    const queue = [...statements];
    const worker = (): Promise<void> =>
      this.withClient(setup, async (client) => {
        for (let s = queue.shift(); s !== undefined; s = queue.shift()) await this.one(client, s);
      });
    await Promise.all(Array.from({ length: Math.min(width, statements.length) }, worker));
    // Left over when no worker could connect.
    for (const s of queue) this.fail(s, new CutoverError('schema.not_run', 'not run: no connection to PostgreSQL'));
  }

  /**
   * A checked-out client for fn, cancelled through a second connection when
   * the signal fires; session settings are discarded before it goes back.
   */
  async withClient(setup: string[], fn: (client: pg.PoolClient) => Promise<void>): Promise<void> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      this.fail('(connect)', err);
      return;
    }
    let broken: Error | undefined;
    const onError = (err: Error): void => void (broken = err);
    client.on('error', onError);
    const signal = this.opts.signal;
    const pid: unknown = (await client.query('SELECT pg_backend_pid() AS pid').catch(() => null))?.rows[0]?.pid;
    const cancel = (): void => void this.pool.query('SELECT pg_cancel_backend($1)', [pid]).catch(() => undefined);
    if (typeof pid === 'number') signal?.addEventListener('abort', cancel, { once: true });
    // Statements report their own failures; what reaches the catch is setup or BEGIN/COMMIT/ROLLBACK.
    let current = '(connection setup)';
    try {
      for (const s of setup) await client.query((current = s));
      current = '(BEGIN/COMMIT/ROLLBACK)';
      await fn(client);
    } catch (err) {
      broken = err instanceof Error ? err : asCutoverError(err);
      this.fail(current, err);
    } finally {
      signal?.removeEventListener('abort', cancel);
      if (!broken) await client.query('DISCARD ALL').catch((e: Error) => (broken = e));
      client.off('error', onError);
      client.release(broken ?? undefined);
    }
  }

  private fail(statement: string, err: unknown): void {
    this.failures.push(failure(statement, err));
  }
}

function failure(statement: string, err: unknown): StatementFailure {
  if (err instanceof pg.DatabaseError) {
    const detail = err.detail ? ` (${err.detail})` : '';
    return { statement, message: `${err.message}${detail}`, sqlstate: err.code ?? null };
  }
  return { statement, message: err instanceof Error ? err.message : String(err), sqlstate: null };
}

function cancelled(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return new CutoverError('schema.cancelled', `cancelled${reason instanceof Error && reason.message ? `: ${reason.message}` : ''}`);
}
