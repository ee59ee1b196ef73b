import { quoteIdent, type Queryable } from '../etl/checkpoints.js';

/**
 * Rows of a query through a server-side cursor, `batch` at a time, each row an
 * array of text values: memory stays flat however many rows changed. Must run
 * inside a transaction (cursors live in one).
 */
export async function* cursorRows(
  db: Queryable,
  name: string,
  sql: string,
  values: unknown[],
  signal: AbortSignal,
  batch = 500,
): AsyncGenerator<(string | null)[]> {
  await db.query(`DECLARE ${quoteIdent(name)} NO SCROLL CURSOR FOR ${sql}`, values);
  try {
    for (;;) {
      signal.throwIfAborted();
      const res = await db.query<(string | null)[]>({ text: `FETCH ${batch} FROM ${quoteIdent(name)}`, rowMode: 'array' });
      for (const row of res.rows) yield row;
      if (res.rows.length < batch) return;
    }
  } finally {
    await db.query(`CLOSE ${quoteIdent(name)}`).catch(() => undefined);
  }
}
