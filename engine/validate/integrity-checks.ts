import type { TableMapping } from '../etl/contracts.js';
import { quoteIdent, quoteLiteral, quoteQualified } from '../schema/naming.js';
import type { ValidationItem } from './contracts.js';

/**
 * Integrity of the loaded target, judged from the data rather than from the
 * catalog's word: a validated constraint can still be violated by rows loaded
 * while triggers were off, and a NOT VALID one never looked at the old rows.
 */

export type Query = (sql: string, values?: unknown[]) => Promise<Array<Record<string, unknown>>>;

const EXAMPLES = 5;

interface TableRef {
  schema: string;
  name: string;
}

/** The columns that name a row in an example: the primary key, else the given fallback columns. */
const PK_COLS = `array(SELECT a.attname::text FROM pg_index i JOIN unnest(i.indkey) WITH ORDINALITY k(n, o) ON true
  JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.n WHERE i.indrelid = c.conrelid AND i.indisprimary ORDER BY k.o)`;
const colsOf = (rel: string, keys: string) =>
  `array(SELECT a.attname::text FROM unnest(${keys}) WITH ORDINALITY k(n, o) JOIN pg_attribute a ON a.attrelid = ${rel} AND a.attnum = k.n ORDER BY k.o)`;

const CONSTRAINTS = `SELECT c.conname::text AS name, c.contype::text AS type, c.convalidated AS validated,
    n.nspname::text AS schema, t.relname::text AS table, rn.nspname::text AS ref_schema, r.relname::text AS ref_table,
    ${colsOf('c.conrelid', 'c.conkey')} AS cols, ${colsOf('c.confrelid', 'c.confkey')} AS ref_cols,
    ${PK_COLS} AS pk, pg_get_expr(c.conbin, c.conrelid) AS expr
  FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace
  LEFT JOIN pg_class r ON r.oid = c.confrelid LEFT JOIN pg_namespace rn ON rn.oid = r.relnamespace
  WHERE n.nspname = $1 AND c.contype IN ('f', 'c') ORDER BY t.relname, c.conname`;

/** "col=value, …" of a row, NULL shown as NULL; `alias` qualifies the columns. */
export function keyText(cols: string[], alias = ''): string {
  const q = alias ? `${alias}.` : '';
  return `concat_ws(', ', ${cols.map((c) => `${quoteLiteral(`${c}=`)} || coalesce(${q}${quoteIdent(c)}::text, 'NULL')`).join(', ')})`;
}

/** Orphans of a foreign key: child rows with every FK column set (MATCH SIMPLE) and no parent. */
export function orphanSql(child: TableRef, cols: string[], parent: TableRef, refCols: string[], exampleCols: string[]): string {
  const joined = cols.map((c, i) => `p.${quoteIdent(refCols[i] ?? c)} = c.${quoteIdent(c)}`).join(' AND ');
  const set = cols.map((c) => `c.${quoteIdent(c)} IS NOT NULL`).join(' AND ');
  return `SELECT count(*) OVER () AS n, ${keyText(exampleCols, 'c')} AS key FROM ${quoteQualified(child.schema, child.name)} c
    WHERE ${set} AND NOT EXISTS (SELECT 1 FROM ${quoteQualified(parent.schema, parent.name)} p WHERE ${joined}) LIMIT ${EXAMPLES}`;
}

/** Rows a CHECK rejects: NOT (expr) is true (a NULL result passes a CHECK, and is not counted). */
export const checkViolationSql = (table: TableRef, expr: string, exampleCols: string[]): string =>
  `SELECT count(*) OVER () AS n, ${keyText(exampleCols)} AS key FROM ${quoteQualified(table.schema, table.name)} WHERE NOT (${expr}) LIMIT ${EXAMPLES}`;

export const nullViolationSql = (table: TableRef, column: string, exampleCols: string[]): string =>
  `SELECT count(*) OVER () AS n, ${keyText(exampleCols)} AS key FROM ${quoteQualified(table.schema, table.name)} WHERE ${quoteIdent(column)} IS NULL LIMIT ${EXAMPLES}`;

/** Key values held by more than one row; n counts such values. */
export const duplicateKeySql = (table: TableRef, cols: string[]): string =>
  `SELECT count(*) OVER () AS n, ${keyText(cols)} AS key FROM ${quoteQualified(table.schema, table.name)}
    WHERE ${cols.map((c) => `${quoteIdent(c)} IS NOT NULL`).join(' AND ')} GROUP BY ${cols.map(quoteIdent).join(', ')} HAVING count(*) > 1 LIMIT ${EXAMPLES}`;

async function violations(q: Query, sql: string): Promise<{ n: number; keys: string[] }> {
  const rows = await q(sql);
  return { n: Number(rows[0]?.['n'] ?? 0), keys: rows.map((r) => String(r['key'])) };
}

function item(subject: string, what: string, v: { n: number; keys: string[] }, extra: Record<string, unknown> = {}): ValidationItem {
  return {
    subject,
    verdict: v.n > 0 ? 'red' : 'green',
    message: v.n > 0 ? `${v.n} ${what}; e.g. ${v.keys.map((k) => `(${k})`).join(', ')}` : `no ${what}`,
    figures: { violations: v.n, examples: v.keys, ...extra },
  };
}

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);

/** Every foreign key and CHECK constraint of the schema, validated or not, tested against the rows. */
export async function constraintItems(q: Query, schema: string): Promise<ValidationItem[]> {
  const out: ValidationItem[] = [];
  for (const c of await q(CONSTRAINTS, [schema])) {
    const table = { schema: String(c['schema']), name: String(c['table']) };
    const cols = strings(c['cols']);
    const pk = strings(c['pk']);
    const subject = `${table.schema}.${table.name}.${String(c['name'])}`;
    const state = { validated: c['validated'] === true };
    if (c['type'] === 'f') {
      const parent = { schema: String(c['ref_schema']), name: String(c['ref_table']) };
      const v = await violations(q, orphanSql(table, cols, parent, strings(c['ref_cols']), pk.length ? pk : cols));
      out.push(item(subject, `orphaned row(s) without ${parent.name} (${cols.join(', ')})`, v, state));
    } else {
      const v = await violations(q, checkViolationSql(table, String(c['expr']), pk.length ? pk : cols));
      out.push(item(subject, `row(s) violating CHECK ${String(c['expr'])}`, v, state));
    }
  }
  return out;
}

/** Mapped keys without a valid unique index on exactly those columns, and NOT NULL columns the target does not enforce. */
export async function mappingItems(q: Query, tables: TableMapping[], uniques: (t: TableMapping) => string[][]): Promise<ValidationItem[]> {
  const out: ValidationItem[] = [];
  for (const t of tables) {
    const ref = { schema: t.target.schema, name: t.target.name };
    const rel = quoteQualified(ref.schema, ref.name);
    const enforced = await q(
      `SELECT ${colsOf('i.indrelid', 'i.indkey')} AS cols FROM pg_index i WHERE i.indrelid = $1::regclass AND i.indisunique AND i.indisvalid AND i.indpred IS NULL`,
      [rel],
    );
    const sets = enforced.map((r) => strings(r['cols']).sort().join('\u0000'));
    const notNull = new Set(
      (await q(`SELECT attname::text AS name FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped AND attnotnull`, [rel])).map((r) => String(r['name'])),
    );
    const targetOf = new Map(t.columns.map((c) => [c.source, c.target]));
    const keys = [...(t.key ? [t.key.columns] : []), ...uniques(t)].map((k) => k.map((c) => targetOf.get(c) ?? c));
    for (const key of keys) {
      if (sets.includes([...key].sort().join('\u0000'))) continue;
      out.push(item(`${ref.schema}.${ref.name} key (${key.join(', ')})`, 'duplicated key value(s) (no unique index enforces this key)', await violations(q, duplicateKeySql(ref, key))));
    }
    const keyCols = t.key ? t.key.columns.map((c) => targetOf.get(c) ?? c) : [];
    for (const c of t.columns.filter((x) => !x.nullable && !notNull.has(x.target))) {
      out.push(item(`${ref.schema}.${ref.name}.${c.target} NOT NULL`, 'NULL value(s) in a NOT NULL column (not enforced in the target)', await violations(q, nullViolationSql(ref, c.target, keyCols.length ? keyCols : [c.target]))));
    }
  }
  return out;
}
