import type pg from 'pg';
import type { TableMapping } from '../etl/contracts.js';
import { hashedColumns } from './canonical.js';
import { pgCanonicalValue, pgHashSlice, pgIdent, pgKeyBucket, pgRowHash, pgTable, type PgCanonicalOptions } from './canonical-pg.js';
import { childWidth, keyColumns, keyId, rangeKey, type CanonicalRowText, type ChecksumSource, type RowHash, type Segment, type SegmentAggregate } from './checksum-source.js';
import { CutoverError } from '../../runbook/errors.js';

export interface PgChecksumSourceOptions extends PgCanonicalOptions {
  /**
   * Which schema holds the table; default the mapping's target schema. Tests
   * point a second instance at another schema holding the "source" rows: a
   * PostgreSQL stand-in for SQL Server, which cannot run in CI.
   */
  schema?: string;
}

type Bound = { sql: string; params: unknown[] };

/** ChecksumSource over PostgreSQL: every hash and sum computed by the server, one statement per segment. */
export class PgChecksumSource implements ChecksumSource {
  constructor(
    private readonly pool: pg.Pool,
    private readonly options: PgChecksumSourceOptions = {},
  ) {}

  async keyBounds(table: TableMapping): Promise<{ lo: bigint; hi: bigint } | null> {
    const k = pgIdent(this.rangeColumn(table));
    const r = await this.pool.query<{ lo: string | null; hi: string | null }>(`SELECT min(${k})::text AS lo, max(${k})::text AS hi FROM ${this.table(table)}`);
    const row = r.rows[0];
    return row?.lo != null && row.hi != null ? { lo: BigInt(row.lo), hi: BigInt(row.hi) } : null;
  }

  async segmentAggregates(table: TableMapping, segment: Segment, fanout: number): Promise<Map<number, SegmentAggregate>> {
    const where = this.where(table, segment);
    const child = this.childIndex(table, segment, fanout, where.params.length + 1);
    const sql =
      `SELECT child, count(*)::int AS n, coalesce(sum(slice), 0)::text AS s FROM (` +
      `SELECT ${child.sql} AS child, ${pgHashSlice(pgRowHash(hashedColumns(table), this.options))} AS slice FROM ${this.table(table)} WHERE ${where.sql}` +
      `) x GROUP BY child`;
    const client = await this.pool.connect();
    try {
      // The planner cannot know the child expression has at most `fanout` values and sorts the segment for a
      // GroupAggregate (measured 540 ms against 390 ms hashed for 100,000 rows); SET LOCAL keeps it to this statement.
      await client.query('BEGIN READ ONLY');
      await client.query('SET LOCAL enable_sort = off');
      const r = await client.query<{ child: number; n: number; s: string }>(sql, [...where.params, ...child.params]);
      await client.query('COMMIT');
      return new Map(r.rows.map((row) => [Number(row.child), { count: row.n, sum: BigInt(row.s) }]));
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  async rowHashes(table: TableMapping, segment: Segment): Promise<RowHash[]> {
    const keys = keyColumns(table);
    const where = this.where(table, segment);
    const keySql = keys.map((c, i) => `${pgCanonicalValue(c, this.options)} AS k${i}`).join(', ');
    const sql = `SELECT ${keySql}, encode(${pgRowHash(hashedColumns(table), this.options)}, 'hex') AS h FROM ${this.table(table)} WHERE ${where.sql}`;
    const r = await this.pool.query<Record<string, string>>(sql, where.params);
    return r.rows.map((row) => ({ key: keys.map((_, i) => String(row[`k${i}`])), hash: String(row['h']) }));
  }

  async rows(table: TableMapping, keys: string[][]): Promise<Map<string, CanonicalRowText>> {
    const out = new Map<string, CanonicalRowText>();
    if (keys.length === 0) return out;
    const kc = keyColumns(table);
    const cols = hashedColumns(table);
    // Native comparisons through unnest of typed arrays, so the primary key index finds the rows.
    const unnest = kc.map((c, i) => `$${i + 1}::${c.targetType}[]`).join(', ');
    const sql =
      `SELECT ${kc.map((c, i) => `${pgCanonicalValue(c, this.options)} AS k${i}`).join(', ')}, ` +
      `${cols.map((c, i) => `${pgCanonicalValue(c, this.options)} AS c${i}`).join(', ')} ` +
      `FROM ${this.table(table)} WHERE (${kc.map((c) => pgIdent(c.target)).join(', ')}) IN (SELECT * FROM unnest(${unnest}))`;
    const r = await this.pool.query<Record<string, string | null>>(sql, kc.map((_, i) => keys.map((k) => k[i])));
    for (const row of r.rows) {
      const text: CanonicalRowText = {};
      cols.forEach((c, i) => (text[c.source] = row[`c${i}`] ?? null));
      out.set(keyId(kc.map((_, i) => String(row[`k${i}`]))), text);
    }
    return out;
  }

  async close(): Promise<void> {}

  private table(t: TableMapping): string {
    return pgTable({ schema: this.options.schema ?? t.target.schema, name: t.target.name });
  }

  private rangeColumn(t: TableMapping): string {
    const k = rangeKey(t);
    if (!k) throw new CutoverError('checksum.no_integer_key', `${t.target.name} has no single integer key`);
    return k.target;
  }

  private where(t: TableMapping, s: Segment): Bound {
    if (s.kind === 'range') {
      const k = pgIdent(this.rangeColumn(t));
      // bigint bounds, inclusive (to − 1 never overflows), so the key's index serves the range.
      return { sql: `${k} >= $1::bigint AND ${k} <= $2::bigint`, params: [String(s.from), String(s.to - 1n)] };
    }
    if (s.modulus === 1n) return { sql: 'true', params: [] };
    return { sql: `${pgKeyBucket(keyColumns(t), this.options)} % $1::bigint = $2::bigint`, params: [String(s.modulus), String(s.bucket)] };
  }

  /** Child numbering shared with the other side: (key − from) / width, or (keyBucket % modulus·fanout) / modulus. */
  private childIndex(t: TableMapping, s: Segment, fanout: number, at: number): Bound {
    if (s.kind === 'range') {
      // numeric only when key − from could exceed bigint (keys spanning most of its range).
      const type = s.to - s.from < 2n ** 62n ? 'bigint' : 'numeric';
      const k = `${pgIdent(this.rangeColumn(t))}::${type}`;
      const sql = type === 'bigint' ? `((${k} - $${at}::bigint) / $${at + 1}::bigint)::int` : `div(${k} - $${at}::numeric, $${at + 1}::numeric)::int`;
      return { sql, params: [String(s.from), String(childWidth(s, fanout))] };
    }
    return { sql: `((${pgKeyBucket(keyColumns(t), this.options)} % $${at}::bigint) / $${at + 1}::bigint)::int`, params: [String(s.modulus * BigInt(fanout)), String(s.modulus)] };
  }
}
