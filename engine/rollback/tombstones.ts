import { CutoverError } from '../../runbook/errors.js';
import type { Queryable } from '../etl/checkpoints.js';
import { quoteIdent, quoteLiteral } from '../schema/naming.js';

/**
 * Deletions after go-live, kept by the target itself: the switch installs a
 * row trigger on each tracked table that records, per table and primary key,
 * whether the key existed at go-live (its first event was a delete) and
 * whether it is gone now. The post-go-live export replays as deletes exactly
 * the keys that existed at go-live and are gone: a row inserted and then
 * deleted after go-live never reaches the script. TRUNCATE is not seen (no
 * row triggers fire): after go-live the application deletes rows.
 */
export const TOMBSTONE_TABLE = 'cutover.deleted_since_golive';
export const TRACKING_TABLE = 'cutover.golive_tracking';

const SETUP = `CREATE SCHEMA IF NOT EXISTS cutover;
CREATE TABLE IF NOT EXISTS ${TRACKING_TABLE} (
  table_name text PRIMARY KEY,
  run_id text NOT NULL,
  key_columns text[] NOT NULL,
  installed_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS ${TOMBSTONE_TABLE} (
  table_name text NOT NULL,
  key jsonb NOT NULL,
  old_row jsonb,
  born_after_golive boolean NOT NULL,
  gone boolean NOT NULL,
  changed_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (table_name, key)
);
CREATE OR REPLACE FUNCTION cutover.track_since_golive() RETURNS trigger LANGUAGE plpgsql AS $track$
DECLARE
  tbl text := TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME;
  old_key jsonb;
  new_key jsonb;
BEGIN
  -- TG_ARGV holds the primary key's columns; a key is their values as one jsonb object.
  IF TG_OP IN ('DELETE', 'UPDATE') THEN
    SELECT jsonb_object_agg(c, to_jsonb(OLD) -> c) INTO old_key FROM unnest(TG_ARGV) AS c;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    SELECT jsonb_object_agg(c, to_jsonb(NEW) -> c) INTO new_key FROM unnest(TG_ARGV) AS c;
  END IF;
  IF TG_OP = 'UPDATE' AND old_key = new_key THEN
    RETURN NULL; -- an update in place: the export finds it by its changed column
  END IF;
  IF old_key IS NOT NULL THEN
    -- The first event a key sees decides born_after_golive: a delete first means it existed at go-live.
    INSERT INTO ${TOMBSTONE_TABLE} (table_name, key, old_row, born_after_golive, gone)
    VALUES (tbl, old_key, to_jsonb(OLD), false, true)
    ON CONFLICT (table_name, key) DO UPDATE SET gone = true, old_row = EXCLUDED.old_row, changed_at = clock_timestamp();
  END IF;
  IF new_key IS NOT NULL THEN
    INSERT INTO ${TOMBSTONE_TABLE} (table_name, key, old_row, born_after_golive, gone)
    VALUES (tbl, new_key, NULL, true, false)
    ON CONFLICT (table_name, key) DO UPDATE SET gone = false, changed_at = clock_timestamp();
  END IF;
  RETURN NULL;
END
$track$;
`;

const TRIGGER = 'cutover_since_golive';

export interface TrackedTable {
  /** schema.table as the runbook names it. */
  table: string;
  key: string[];
}

const splitName = (qualified: string): [string, string] => {
  const dot = qualified.indexOf('.');
  return [qualified.slice(0, dot), qualified.slice(dot + 1)];
};
const quoted = (qualified: string): string => splitName(qualified).map(quoteIdent).join('.');

/**
 * The statements that start tracking for this run: the bookkeeping tables and
 * function, then per table its trigger and, unless this run already tracks
 * it (a re-run of the switch), a fresh start of its records.
 */
export function installTrackingSql(runId: string, tables: readonly TrackedTable[]): string {
  const per = tables.map((t) => {
    const name = quoteLiteral(t.table);
    const args = t.key.map(quoteLiteral).join(', ');
    return [
      `DELETE FROM ${TOMBSTONE_TABLE} WHERE table_name = ${name} AND NOT EXISTS (SELECT 1 FROM ${TRACKING_TABLE} WHERE table_name = ${name} AND run_id = ${quoteLiteral(runId)});`,
      `INSERT INTO ${TRACKING_TABLE} (table_name, run_id, key_columns) VALUES (${name}, ${quoteLiteral(runId)}, ARRAY[${args}]::text[])`,
      `  ON CONFLICT (table_name) DO UPDATE SET run_id = EXCLUDED.run_id, key_columns = EXCLUDED.key_columns, installed_at = CASE WHEN ${TRACKING_TABLE}.run_id = EXCLUDED.run_id THEN ${TRACKING_TABLE}.installed_at ELSE now() END;`,
      `DROP TRIGGER IF EXISTS ${TRIGGER} ON ${quoted(t.table)};`,
      `CREATE TRIGGER ${TRIGGER} AFTER INSERT OR UPDATE OR DELETE ON ${quoted(t.table)} FOR EACH ROW EXECUTE FUNCTION cutover.track_since_golive(${args});`,
    ].join('\n');
  });
  return `${SETUP}${per.join('\n')}\n`;
}

/** The primary key columns of each table, from the catalog; a table without one cannot be tracked, and says so. */
export async function primaryKeys(db: Queryable, tables: readonly string[]): Promise<TrackedTable[]> {
  const out: TrackedTable[] = [];
  for (const table of tables) {
    const { rows } = await db.query<{ exists: boolean; key: string[] | null }>(
      `SELECT to_regclass($1) IS NOT NULL AS exists,
              (SELECT array_agg(a.attname::text ORDER BY k.ord) FROM pg_index i
                 CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
                 JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
               WHERE i.indrelid = to_regclass($1) AND i.indisprimary) AS key`,
      [quoted(table)],
    );
    const row = rows[0];
    if (!row?.exists) throw new CutoverError('rollback.no_table', `track_deletes names ${table}, which does not exist on the target`);
    if (!row.key?.length) throw new CutoverError('rollback.no_key', `track_deletes names ${table}, which has no primary key: its deleted rows could not be told apart`);
    out.push({ table, key: row.key });
  }
  return out;
}

/** Tables this target tracks for deletions: the run whose switch installed each, and when its transaction began (ISO). */
export async function trackedTables(db: Queryable): Promise<Map<string, { runId: string; installedAt: string }>> {
  const { rows } = await db.query<{ exists: boolean }>(`SELECT to_regclass('${TRACKING_TABLE}') IS NOT NULL AS exists`);
  if (!rows[0]?.exists) return new Map();
  const tracked = await db.query<{ table_name: string; run_id: string; installed_at: Date }>(`SELECT table_name, run_id, installed_at FROM ${TRACKING_TABLE}`);
  return new Map(tracked.rows.map((r) => [r.table_name, { runId: r.run_id, installedAt: r.installed_at.toISOString() }]));
}
