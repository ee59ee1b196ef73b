import { CutoverError } from '../../runbook/errors.js';
import { quoteIdent, type Queryable } from '../etl/checkpoints.js';
import { kindOfPgType, type ExportColumn } from './tsql-writer.js';

/** A table's columns as the export reads them: name, value kind, whether it is identity/serial. */
export interface PgTableShape {
  columns: ExportColumn[];
  /** The SELECT list reading every column as text (money through numeric, which is exact and locale-free). */
  selectList: string;
  hasIdentity: boolean;
}

/** Reads the columns of schema.table from the catalog; a missing table is a CutoverError naming it. */
export async function describeTable(db: Queryable, qualified: string): Promise<PgTableShape> {
  const dot = qualified.indexOf('.');
  const ref = `${quoteIdent(qualified.slice(0, dot))}.${quoteIdent(qualified.slice(dot + 1))}`;
  const exists = await db.query<{ oid: string | null }>('SELECT to_regclass($1)::oid::text AS oid', [ref]);
  const oid = exists.rows[0]?.oid;
  if (!oid) throw new CutoverError('rollback.no_table', `table ${qualified} does not exist on the target`);
  const { rows } = await db.query<{ attname: string; typname: string; typcategory: string; ident: boolean }>(
    `SELECT a.attname, bt.typname, bt.typcategory,
            (a.attidentity <> '' OR coalesce(pg_get_expr(d.adbin, d.adrelid) LIKE 'nextval(%', false)) AS ident
     FROM pg_attribute a
     JOIN pg_type t ON t.oid = a.atttypid
     JOIN pg_type bt ON bt.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END
     LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
     WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped
     ORDER BY a.attnum`,
    [oid],
  );
  const columns = rows.map((r) => ({ name: r.attname, kind: kindOfPgType(r.typname, r.typcategory) }));
  const selectList = rows
    .map((r) => `${quoteIdent(r.attname)}${r.typname === 'money' ? '::numeric' : ''}::text`)
    .join(', ');
  return { columns, selectList, hasIdentity: rows.some((r) => r.ident) };
}

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
