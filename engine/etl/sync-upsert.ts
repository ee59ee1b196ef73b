import type pg from 'pg';
import { CutoverError } from '../../runbook/errors.js';
import type { QuarantineRecord, TableMapping } from './contracts.js';
import { isRowError } from './copy-bisect.js';
import { rowForQuarantine, rowNumbers, upsertStatements, type TargetShape } from './sync-sql.js';

/**
 * Upserts the temporary table's rows into the target. One statement in the
 * common case; when PostgreSQL refuses a row there (a foreign key, a check, a
 * unique key other than the primary key), the rows are applied in halves
 * inside savepoints until the refused ones stand alone, and those go to
 * quarantine with PostgreSQL's message. Runs inside the caller's transaction.
 */
export async function upsertRows(
  client: pg.PoolClient,
  table: TableMapping,
  shape: TargetShape,
  signal: AbortSignal,
  maxRefused: number,
): Promise<{ upserted: number; quarantined: QuarantineRecord[] }> {
  const statements = upsertStatements(table, shape);
  const bounds = (await client.query<{ lo: string; hi: string }>(rowNumbers)).rows[0];
  const todo: Array<[string, string]> = bounds && BigInt(bounds.hi) > BigInt(bounds.lo) ? [[bounds.lo, bounds.hi]] : [];
  const quarantined: QuarantineRecord[] = [];
  let upserted = 0;
  while (todo.length > 0) {
    if (signal.aborted) throw new CutoverError('etl.cancelled', 'the sync was cancelled');
    const [lo, hi] = todo.pop() as [string, string];
    await client.query('SAVEPOINT cutover_upsert');
    try {
      let last = 0;
      for (const sql of statements) last = (await client.query(sql, [lo, hi])).rowCount ?? 0;
      await client.query('RELEASE SAVEPOINT cutover_upsert');
      upserted += last;
      continue;
    } catch (err) {
      if (!isRowError(err)) throw err;
      await client.query('ROLLBACK TO SAVEPOINT cutover_upsert');
      const width = BigInt(hi) - BigInt(lo);
      if (width > 1n) {
        const mid = String(BigInt(lo) + width / 2n);
        // LIFO: the lower half runs first, so a key read twice is still applied in reading order.
        todo.push([mid, hi], [lo, mid]);
        continue;
      }
      quarantined.push(await refusedRow(client, table, lo, err));
      if (quarantined.length > maxRefused) {
        throw new CutoverError(
          'etl.too-many-rejected',
          `PostgreSQL refused more than ${maxRefused} changed rows of ${table.target.schema}.${table.target.name} (last: ${err.message}); the mapping or the order of tables is probably wrong`,
          { cause: err },
        );
      }
    }
  }
  return { upserted, quarantined };
}

async function refusedRow(client: pg.PoolClient, table: TableMapping, seq: string, err: pg.DatabaseError): Promise<QuarantineRecord> {
  const row = (await client.query<{ key: Array<string | null>; sample: string }>(rowForQuarantine(table), [seq])).rows[0];
  const key = Object.fromEntries((table.key?.columns ?? []).map((k, i) => [k, row?.key[i] ?? null]));
  const column = err.column ? (table.columns.find((c) => c.target === err.column)?.source ?? null) : null;
  const sample = row?.sample ?? '';
  return {
    key,
    column,
    reason: `${err.code}: ${err.message}${err.detail ? ` (${err.detail})` : ''}`,
    sample: sample.length > 120 ? `${sample.slice(0, 120)}…` : sample,
  };
}
