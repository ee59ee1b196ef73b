import pg from 'pg';
import { redactUrl } from '../../engine/connections.js';

/** What planning learns from the target: whether it holds tables to back up, and how fast earlier loads into it went. */
export interface TargetFacts {
  /** Why the target could not be asked (secrets removed); null when it answered. */
  unreachable: string | null;
  serverVersion: string | null;
  /** Tables outside the system schemas and the ETL's bookkeeping: a backup before the migration has something to hold. */
  tables: number;
  measured: MeasuredLoads | null;
}

/** Earlier loads into this target, from the ETL's own bookkeeping (cutover_etl.chunks): rows over wall-clock time per load. */
export interface MeasuredLoads {
  loads: number;
  rows: number;
  seconds: number;
  rowsPerSecond: number;
}

/** Loads this small say more about start-up than about throughput. */
const MIN_ROWS = 1000;
const RECENT_LOADS = 5;

export async function targetFacts(url: string, bookkeepingSchema = 'cutover_etl'): Promise<TargetFacts> {
  const client = new pg.Client({ connectionString: url, application_name: 'cutover plan', connectionTimeoutMillis: 10_000 });
  client.on('error', () => {}); // a dying connection fails the query below, which is reported
  try {
    await client.connect();
    const version = await client.query<{ v: string }>("SELECT current_setting('server_version') AS v");
    const tables = await client.query<{ n: string }>(
      `SELECT count(*) AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema', $1) AND n.nspname NOT LIKE 'pg\\_%'`,
      [bookkeepingSchema],
    );
    return { unreachable: null, serverVersion: version.rows[0]?.v ?? null, tables: Number(tables.rows[0]?.n ?? 0), measured: await measuredLoads(client, bookkeepingSchema) };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return { unreachable: `${redactUrl(url)}: ${message.replaceAll(url, redactUrl(url))}`, serverVersion: null, tables: 0, measured: null };
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function measuredLoads(client: pg.Client, schema: string): Promise<MeasuredLoads | null> {
  const table = `"${schema.replaceAll('"', '""')}".chunks`;
  const exists = await client.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [table]);
  if (!exists.rows[0]?.t) return null;
  const { rows } = await client.query<{ rows: string; seconds: number }>(
    `SELECT sum(rows + quarantined)::bigint AS rows, extract(epoch FROM max(finished_at) - min(started_at))::float8 AS seconds
       FROM ${table} GROUP BY load_id HAVING sum(rows + quarantined) >= $1 ORDER BY max(finished_at) DESC LIMIT $2`,
    [MIN_ROWS, RECENT_LOADS],
  );
  const loads = rows.filter((r) => r.seconds > 0);
  if (loads.length === 0) return null;
  const total = loads.reduce((a, r) => ({ rows: a.rows + Number(r.rows), seconds: a.seconds + r.seconds }), { rows: 0, seconds: 0 });
  return { loads: loads.length, ...total, rowsPerSecond: total.rows / total.seconds };
}
