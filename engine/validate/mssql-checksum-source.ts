import type { TableMapping } from '../etl/contracts.js';
import { eachRow } from '../etl/row-batch.js';
import { keyBoundsQuery, quoteIdent, quoteTable, selectExpression, type BoundSql, type SqlParam } from '../mssql/select-list.js';
import { field, MssqlSource, readError, type MssqlPool } from '../mssql/source.js';
import { canonicalRow, canonicalValue, hashedColumns, hashSlice, joinItems, keyBucketValue, rowHash } from './canonical.js';
import { msCanonicalValue, msHashSlice, msKeyBucket, msRowHash, UTF8_COLLATION } from './canonical-mssql.js';
import { childWidth, keyColumns, keyId, rangeKey, type CanonicalRowText, type ChecksumSource, type RowHash, type Segment, type SegmentAggregate } from './checksum-source.js';
import { CutoverError } from '../../runbook/errors.js';

/**
 * ChecksumSource over SQL Server. 'server': HASHBYTES over the canonical
 * text made UTF-8 by a _UTF8 collation; only aggregates cross the wire.
 * 'client': SQL Server streams each row of the segment in the ETL's select
 * forms and the worker canonicalises and hashes it (canonical.ts, the same
 * code the tests prove against PostgreSQL), holding only the aggregates.
 * Segments are filtered on the server either way; in 'client' mode the
 * bucket filter hashes the key in the code page, exact for ASCII keys only
 * (integer and GUID keys always are).
 */
export type MssqlHashing = 'server' | 'client';

export class MssqlChecksumSource extends MssqlSource implements ChecksumSource {
  constructor(pool: MssqlPool, private readonly hashing: MssqlHashing) {
    super(pool, { ownsPool: false });
  }

  /** 'server' when the _UTF8 collation exists (SQL Server 2019+). */
  static async detectHashing(pool: MssqlPool): Promise<MssqlHashing> {
    let cp: unknown;
    try {
      const r = await pool.request().query(`SELECT CONVERT(int, COLLATIONPROPERTY('${UTF8_COLLATION}', 'CodePage')) AS cp`);
      cp = field(r.recordset?.[0], 'cp');
    } catch (err) {
      throw readError(`the ${UTF8_COLLATION} collation (choosing where to hash)`, err);
    }
    return cp === 65001 ? 'server' : 'client';
  }

  async keyBounds(table: TableMapping): Promise<{ lo: bigint; hi: bigint } | null> {
    const k = rangeKey(table);
    if (!k) throw new CutoverError('checksum.no_integer_key', `${table.source.name} has no single integer key`);
    const rows = await this.query(table, { text: keyBoundsQuery(table, k.source), params: [] }, 'key bounds');
    const lo = field(rows[0], 'lo');
    const hi = field(rows[0], 'hi');
    return typeof lo === 'string' && typeof hi === 'string' ? { lo: BigInt(lo), hi: BigInt(hi) } : null;
  }

  async segmentAggregates(table: TableMapping, segment: Segment, fanout: number): Promise<Map<number, SegmentAggregate>> {
    const out = new Map<number, SegmentAggregate>();
    if (this.hashing === 'client') {
      const index = childIndexOf(segment, fanout);
      await this.eachRow(table, segment, (key, hash) => {
        const i = index(key);
        const a = out.get(i) ?? { count: 0, sum: 0n };
        out.set(i, { count: a.count + 1, sum: a.sum + hashSlice(hash) });
      });
      return out;
    }
    const where = this.where(table, segment);
    const child =
      segment.kind === 'range'
        ? `(CONVERT(decimal(38,0), ${quoteIdent(rangeKey(table)?.source ?? '')}) - ${segment.from}) / ${childWidth(segment, fanout)}`
        : `(${msKeyBucket(keyColumns(table), true)} % ${segment.modulus * BigInt(fanout)}) / ${segment.modulus}`;
    // The hash once per row (CROSS APPLY), its slice summed as decimal(38,0): a bigint sum would overflow.
    const text =
      `SELECT CONVERT(int, FLOOR(child)) AS child, COUNT_BIG(*) AS n, CONVERT(varchar(40), SUM(CONVERT(decimal(38,0), ${msHashSlice('h.h')}))) AS s ` +
      `FROM (SELECT ${child} AS child, ${msRowHash(hashedColumns(table))} AS h FROM ${quoteTable(table.source)}${where.text ? ` WHERE ${where.text}` : ''}) h GROUP BY FLOOR(child)`;
    for (const row of await this.query(table, { text, params: where.params }, 'segment checksums')) {
      out.set(Number(field(row, 'child')), { count: Number(field(row, 'n')), sum: BigInt(String(field(row, 's') ?? '0')) });
    }
    return out;
  }

  async rowHashes(table: TableMapping, segment: Segment): Promise<RowHash[]> {
    const out: RowHash[] = [];
    if (this.hashing === 'client') {
      await this.eachRow(table, segment, (key, hash) => out.push({ key, hash }));
      return out;
    }
    const keys = keyColumns(table);
    const where = this.where(table, segment);
    const text = `SELECT ${keys.map((c, i) => `${msCanonicalValue(c)} AS k${i}`).join(', ')}, LOWER(CONVERT(varchar(64), ${msRowHash(hashedColumns(table))}, 2)) AS h FROM ${quoteTable(table.source)}${where.text ? ` WHERE ${where.text}` : ''}`;
    for (const row of await this.query(table, { text, params: where.params }, 'row hashes')) {
      out.push({ key: keys.map((_, i) => String(field(row, `k${i}`))), hash: String(field(row, 'h')) });
    }
    return out;
  }

  async rows(table: TableMapping, keys: string[][]): Promise<Map<string, CanonicalRowText>> {
    const out = new Map<string, CanonicalRowText>();
    if (keys.length === 0) return out;
    const kc = keyColumns(table);
    const cols = hashedColumns(table);
    const params: SqlParam[] = [];
    const match = keys.map((key, r) =>
      `(${kc.map((c, i) => {
        params.push({ name: `k${r}_${i}`, type: 'nvarchar', value: String(key[i]) });
        return `${quoteIdent(c.source)} = @k${r}_${i}`;
      }).join(' AND ')})`,
    );
    const text = `SELECT ${kc.map((c, i) => `${msCanonicalValue(c)} AS k${i}`).join(', ')}, ${cols.map((c, i) => `${msCanonicalValue(c)} AS c${i}`).join(', ')} FROM ${quoteTable(table.source)} WHERE ${match.join(' OR ')}`;
    // Through query(): a failure names the table and what was read, as every other read of this source does.
    for (const row of await this.query(table, { text, params }, 'reading the differing rows for the report')) {
      const values: CanonicalRowText = {};
      cols.forEach((c, i) => {
        const v: unknown = field(row, `c${i}`);
        values[c.source] = v === null || v === undefined ? null : String(v);
      });
      out.set(keyId(kc.map((_, i) => String(field(row, `k${i}`)))), values);
    }
    return out;
  }

  private where(table: TableMapping, s: Segment): BoundSql {
    if (s.kind === 'range') {
      const k = quoteIdent(rangeKey(table)?.source ?? '');
      return { text: `${k} >= @from AND ${k} <= @to`, params: [{ name: 'from', type: 'bigint', value: String(s.from) }, { name: 'to', type: 'bigint', value: String(s.to - 1n) }] };
    }
    if (s.modulus === 1n) return { text: '', params: [] };
    const bucket = msKeyBucket(keyColumns(table), this.hashing === 'server');
    return { text: `${bucket} % @m = @b`, params: [{ name: 'm', type: 'bigint', value: String(s.modulus) }, { name: 'b', type: 'bigint', value: String(s.bucket) }] };
  }

  /** Client hashing: streams the segment in the ETL's select forms and hands each row's key and hash to `f`. */
  private async eachRow(table: TableMapping, segment: Segment, f: (key: string[], hash: string) => void): Promise<void> {
    const cols = hashedColumns(table);
    const keyAt = keyColumns(table).map((k) => cols.indexOf(k));
    const where = this.where(table, segment);
    const text = `SELECT ${cols.map((c) => selectExpression(c)).join(', ')} FROM ${quoteTable(table.source)}${where.text ? ` WHERE ${where.text}` : ''}`;
    const stream = this.streamRows({ text, params: where.params }, `${table.source.name} checksums`, cols.length, new AbortController().signal);
    for await (const row of eachRow(stream)) {
      const key = keyAt.map((i) => canonicalValue(row[i] ?? null, cols[i] ?? cols[0]!) ?? '');
      f(key, rowHash(canonicalRow(row, cols)));
    }
  }
}

/** Child numbering in the worker, identical to the SQL of both engines. */
export function childIndexOf(segment: Segment, fanout: number): (key: string[]) => number {
  if (segment.kind === 'range') {
    const w = childWidth(segment, fanout);
    return (key) => Number((BigInt(key[0] ?? '0') - segment.from) / w);
  }
  const m = segment.modulus * BigInt(fanout);
  return (key) => Number((keyBucketValue(joinItems(key)) % m) / segment.modulus);
}
