import pg from 'pg';
import type { ActionResult } from '../action.js';
import { faultPoint } from '../fault-injection.js';
import { EffectAlreadyCommitted, ledgerUnavailable, parseLedgerResult, type EffectKey, type LedgerEntry } from './effect-key.js';

/**
 * The effect ledger on PostgreSQL: `cutover.step_effects`, on the database
 * the step changes. A step's transaction inserts its row first (claim), runs
 * its effect, records its result, and commits: "row exists" ⇔ "effect
 * committed". A second attempt running at the same time blocks on the
 * claim's key until the first ends, then fails with a unique violation
 * (first committed) or goes on (first rolled back).
 */
const PG_LEDGER_TABLE = 'cutover.step_effects';

const UNIQUE_VIOLATION = '23505';
const UNDEFINED_TABLE = '42P01';
const UNDEFINED_SCHEMA = '3F000';

/** Anything that runs a query: a Pool or a checked-out client. */
type Queryable = Pick<pg.ClientBase, 'query'>;

/** Databases (by redacted URL) whose ledger this process has seen exist; DDL once per process, not per step. */
const known = new Set<string>();

/**
 * Creates the ledger table if missing, outside any step transaction (a
 * rolled-back step must not take the table with it). A pre-created table
 * needs no CREATE privilege: only its existence is checked then.
 */
export async function ensurePgLedger(client: pg.ClientBase, where: { connection: string; database: string }): Promise<void> {
  if (known.has(where.database)) return;
  try {
    const exists = await client.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [PG_LEDGER_TABLE]);
    if (!exists.rows[0]?.t) await createTable(client);
  } catch (err) {
    throw ledgerUnavailable(where.connection, PG_LEDGER_TABLE, err instanceof Error ? err.message : String(err), err);
  }
  known.add(where.database);
}

async function createTable(client: pg.ClientBase): Promise<void> {
  await client.query('BEGIN');
  try {
    // Concurrent CREATE … IF NOT EXISTS can still collide on the catalog's unique index; serialise them.
    await client.query("SELECT pg_advisory_xact_lock(hashtextextended('cutover.step_effects', 0))");
    await client.query('CREATE SCHEMA IF NOT EXISTS cutover');
    // result is json, not jsonb: a step's output may hold U+0000, which jsonb refuses.
    await client.query(`CREATE TABLE IF NOT EXISTS ${PG_LEDGER_TABLE} (
      job_id text PRIMARY KEY, run_id text NOT NULL, step_id text NOT NULL, attempt integer NOT NULL,
      started_at timestamptz NOT NULL DEFAULT clock_timestamp(), finished_at timestamptz, result json,
      CONSTRAINT step_effects_one_per_step UNIQUE (run_id, step_id))`);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/** First statement of the step's transaction; throws EffectAlreadyCommitted when another attempt committed first. */
async function claimPg(client: Queryable, key: EffectKey, connection: string): Promise<void> {
  await claimed(key, connection, () => client.query(`INSERT INTO ${PG_LEDGER_TABLE} (job_id, run_id, step_id, attempt) VALUES ($1, $2, $3, $4)`, [key.jobId, key.runId, key.stepId, key.attempt]));
}

/**
 * BEGIN and the claim in one round trip (a simple query of two statements,
 * the key as escaped literals), for the sql action, where the ledger's cost
 * per step is measured (bench/ledger.ts).
 */
export async function beginAndClaimPg(client: pg.ClientBase, key: EffectKey, connection: string): Promise<void> {
  const values = [key.jobId, key.runId, key.stepId].map((v) => client.escapeLiteral(v)).join(', ');
  await claimed(key, connection, () => client.query(`BEGIN; INSERT INTO ${PG_LEDGER_TABLE} (job_id, run_id, step_id, attempt) VALUES (${values}, ${Math.trunc(key.attempt)})`));
}

/** The result and COMMIT in one round trip; a failed UPDATE leaves the transaction aborted, so nothing commits. */
export async function recordAndCommitPg(client: pg.ClientBase, key: EffectKey, result: ActionResult): Promise<void> {
  await client.query(`UPDATE ${PG_LEDGER_TABLE} SET finished_at = clock_timestamp(), result = ${client.escapeLiteral(JSON.stringify(result))}::json WHERE job_id = ${client.escapeLiteral(key.jobId)}; COMMIT`);
}

async function claimed(key: EffectKey, connection: string, insert: () => Promise<unknown>): Promise<void> {
  try {
    await insert();
  } catch (err) {
    if (err instanceof pg.DatabaseError && err.code === UNIQUE_VIOLATION) throw new EffectAlreadyCommitted(key, err);
    if (err instanceof pg.DatabaseError && (err.code === UNDEFINED_TABLE || err.code === UNDEFINED_SCHEMA)) {
      // Dropped since this process created it: forget it, so the next step creates it again.
      known.clear();
      throw ledgerUnavailable(connection, PG_LEDGER_TABLE, err.message, err);
    }
    throw err;
  }
  faultPoint('in-effect', key.stepId);
}

/** Last statement before COMMIT: the result the step reports, kept for a resumed attempt to report instead. */
async function recordPg(client: Queryable, key: EffectKey, result: ActionResult): Promise<void> {
  await client.query(`UPDATE ${PG_LEDGER_TABLE} SET finished_at = clock_timestamp(), result = $2::json WHERE job_id = $1`, [key.jobId, JSON.stringify(result)]);
}

/**
 * The ledger calls of one step's transaction on one PostgreSQL database, for
 * actions that run their own transaction: ensure before BEGIN, claim right
 * after it, record just before COMMIT.
 */
export interface PgLedgerTx {
  ensure(client: pg.ClientBase): Promise<void>;
  claim(client: Queryable): Promise<void>;
  record(client: Queryable, result: ActionResult): Promise<void>;
}

export function pgLedgerTx(where: { connection: string; database: string }, key: EffectKey): PgLedgerTx {
  return {
    ensure: (client) => ensurePgLedger(client, where),
    claim: (client) => claimPg(client, key, where.connection),
    record: (client, result) => recordPg(client, key, result),
  };
}

/** The committed effect of any attempt of this step, or null (also when the ledger does not exist yet). */
export async function findPg(db: Queryable, runId: string, stepId: string): Promise<LedgerEntry | null> {
  try {
    const { rows } = await db.query<{ job_id: string; attempt: number; finished_at: Date | null; result: unknown }>(
      `SELECT job_id, attempt, finished_at, result FROM ${PG_LEDGER_TABLE} WHERE run_id = $1 AND step_id = $2`,
      [runId, stepId],
    );
    const row = rows[0];
    return row ? { jobId: row.job_id, attempt: row.attempt, finishedAt: row.finished_at, result: parseLedgerResult(row.result) } : null;
  } catch (err) {
    if (err instanceof pg.DatabaseError && (err.code === UNDEFINED_TABLE || err.code === UNDEFINED_SCHEMA)) return null;
    throw err;
  }
}
