import { CutoverError } from '../../runbook/errors.js';
import { quoteIdent, quoteTable, type Queryable } from './checkpoints.js';
import type { ChunkSpec, TableMapping } from './contracts.js';

/**
 * PostgreSQL statements of incremental sync, built from a table mapping with
 * every identifier quoted. Changed rows are COPYed into a temporary table
 * (SYNC_ROWS) that numbers them in `cutover$seq`, so a refused upsert can be
 * split into pieces by number.
 */
export const SYNC_ROWS = quoteIdent('cutover_sync_rows');
export const SYNC_KEYS = quoteIdent('cutover_sync_keys');
const SEQ = quoteIdent('cutover$seq');

/** What the upsert needs to know of the target table. */
export interface TargetShape {
  /** A column is GENERATED ALWAYS AS IDENTITY: explicit values need OVERRIDING SYSTEM VALUE. */
  identityAlways: boolean;
  /** A unique index on exactly the key columns exists, so ON CONFLICT can use it. */
  keyIndex: boolean;
}

export function keyTargets(table: TableMapping): string[] {
  if (!table.key) throw new CutoverError('sync.no_key', `${table.source.schema}.${table.source.name} has no primary or unique key to sync by`);
  return table.key.columns.map((k) => {
    const c = table.columns.find((x) => x.source === k);
    if (!c) throw new CutoverError('sync.no_key', `key column ${k} is not a copied column of ${table.source.schema}.${table.source.name}`);
    return c.target;
  });
}

export async function targetShape(db: Queryable, table: TableMapping): Promise<TargetShape> {
  const keys = keyTargets(table);
  const { rows } = await db.query<{ identity_always: boolean; key_index: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = $1::regclass AND attidentity = 'a' AND attname = ANY($2::text[])) AS identity_always,
            EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = $1::regclass AND i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL
                      AND (SELECT array_agg(a.attname::text ORDER BY a.attname) FROM pg_attribute a
                            WHERE a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)) = (SELECT array_agg(k ORDER BY k) FROM unnest($3::text[]) k)
                   ) AS key_index`,
    [quoteTable(table.target), table.columns.map((c) => c.target), keys],
  );
  return { identityAlways: rows[0]?.identity_always ?? false, keyIndex: rows[0]?.key_index ?? false };
}

/** The temporary table of changed rows: the target's columns and types, without its constraints other than NOT NULL. */
export const createRowsTable = (table: TableMapping): string =>
  `CREATE TEMP TABLE ${SYNC_ROWS} (LIKE ${quoteTable(table.target)}, ${SEQ} bigint GENERATED ALWAYS AS IDENTITY) ON COMMIT DROP`;

export const copyRowsSql = (table: TableMapping): string =>
  `COPY ${SYNC_ROWS} (${table.columns.map((c) => quoteIdent(c.target)).join(', ')}) FROM STDIN`;

/** The key columns alone, typed as in the target, for comparing key sets. */
export const createKeysTable = (table: TableMapping): string =>
  `CREATE TEMP TABLE ${SYNC_KEYS} ON COMMIT DROP AS SELECT ${keyTargets(table).map(quoteIdent).join(', ')} FROM ${quoteTable(table.target)} WITH NO DATA`;

export const copyKeysSql = (table: TableMapping): string => `COPY ${SYNC_KEYS} (${keyTargets(table).map(quoteIdent).join(', ')}) FROM STDIN`;

/**
 * Applies the changed rows numbered [$1, $2) to the target and returns how many
 * rows it inserted or changed. A key read twice (a row moved under the source's
 * scan) is applied once, the last read winning. Rows equal to the target's are
 * left alone (no dead tuple, no WAL, not counted), compared as text so types
 * without an equality operator (xml, json) compare too.
 */
export function upsertStatements(table: TableMapping, shape: TargetShape): string[] {
  const t = quoteTable(table.target);
  const keys = keyTargets(table).map(quoteIdent);
  const cols = table.columns.map((c) => quoteIdent(c.target));
  const rest = cols.filter((c) => !keys.includes(c));
  const overriding = shape.identityAlways ? ' OVERRIDING SYSTEM VALUE' : '';
  const changed = `SELECT DISTINCT ON (${keys.join(', ')}) ${cols.join(', ')} FROM ${SYNC_ROWS} WHERE ${SEQ} >= $1 AND ${SEQ} < $2 ORDER BY ${keys.join(', ')}, ${SEQ} DESC`;
  const differs = (a: string, b: string): string =>
    rest.length === 0 ? 'false' : `(${rest.map((c) => `${a}.${c}::text`).join(', ')}) IS DISTINCT FROM (${rest.map((c) => `${b}.${c}::text`).join(', ')})`;
  const sameKey = (a: string, b: string): string => keys.map((k) => `${a}.${k} = ${b}.${k}`).join(' AND ');
  if (shape.keyIndex) {
    const action = rest.length === 0 ? 'DO NOTHING' : `DO UPDATE SET ${rest.map((c) => `${c} = EXCLUDED.${c}`).join(', ')} WHERE ${differs('t', 'EXCLUDED')}`;
    return [`INSERT INTO ${t} AS t (${cols.join(', ')})${overriding} ${changed} ON CONFLICT (${keys.join(', ')}) ${action}`];
  }
  // No unique index on the key yet (post-load has not run): replace differing rows by key, then insert the missing ones.
  return [
    `DELETE FROM ${t} AS t USING (${changed}) AS s WHERE ${sameKey('t', 's')} AND ${differs('t', 's')}`,
    `INSERT INTO ${t} (${cols.join(', ')})${overriding} SELECT ${cols.map((c) => `s.${c}`).join(', ')} FROM (${changed}) AS s
      WHERE NOT EXISTS (SELECT 1 FROM ${t} AS t WHERE ${sameKey('t', 's')})`,
  ];
}

/** One changed row for quarantine: its key values and its text, by number. */
export const rowForQuarantine = (table: TableMapping): string =>
  `SELECT ARRAY[${keyTargets(table).map((k) => `${quoteIdent(k)}::text`).join(', ')}] AS key, r::text AS sample FROM ${SYNC_ROWS} AS r WHERE ${SEQ} = $1`;

export const rowNumbers = `SELECT coalesce(min(${SEQ}), 1) AS lo, coalesce(max(${SEQ}), 0) + 1 AS hi FROM ${SYNC_ROWS}`;

/** The range predicate on the target's key (open ends as the source plans them), with its parameters from $first. */
export function targetRange(table: TableMapping, range: ChunkSpec, first: number): { text: string; params: string[] } {
  if (range.kind === 'all') return { text: 'true', params: [] };
  if (range.kind !== 'range') throw new CutoverError('sync.bad_range', `sync compares keys by range or whole table, not by hash (${range.id})`);
  const col = quoteIdent(keyTargets(table)[0] as string);
  return { text: `${col} >= $${first}::bigint AND ${col} ${range.lastInclusive ? '<=' : '<'} $${first + 1}::bigint`, params: [range.from, range.to] };
}

/** The KeySummary of the target's integer key over a range, as the source computes it. */
export function targetSummarySql(table: TableMapping, range: ChunkSpec): { text: string; params: string[] } {
  const k = quoteIdent(keyTargets(table)[0] as string);
  const where = targetRange(table, range, 1);
  const m = `(${k} % 2147483647)::numeric`;
  return {
    text: `SELECT count(*)::text AS n, coalesce(sum(${k}::numeric), 0)::text AS s, coalesce(sum(${m} * ${m}), 0)::text AS q FROM ${quoteTable(table.target)} WHERE ${where.text}`,
    params: where.params,
  };
}

/** Deletes target rows of a range whose key the source no longer has (the source's keys are in SYNC_KEYS). */
export function deleteMissingSql(table: TableMapping, range: ChunkSpec): { text: string; params: string[] } {
  const keys = keyTargets(table).map(quoteIdent);
  const where = targetRange(table, range, 1);
  return {
    text: `DELETE FROM ${quoteTable(table.target)} AS t WHERE ${where.text}
             AND NOT EXISTS (SELECT 1 FROM ${SYNC_KEYS} AS k WHERE ${keys.map((c) => `k.${c} = t.${c}`).join(' AND ')})`,
    params: where.params,
  };
}
