import type { ColumnModel } from '../../engine/schema/model.js';

/** Bytes in use per table (data and LOB pages of the heap or clustered index), readable with plain catalog rights. */
export const MSSQL_SIZES_QUERY = `
SELECT s.name AS schema_name, t.name AS table_name, CONVERT(varchar(20), SUM(a.used_pages) * 8192) AS bytes
FROM sys.tables AS t
JOIN sys.schemas AS s ON s.schema_id = t.schema_id
JOIN sys.partitions AS p ON p.object_id = t.object_id AND p.index_id IN (0, 1)
JOIN sys.allocation_units AS a ON a.container_id = p.partition_id
WHERE t.is_ms_shipped = 0
GROUP BY s.name, t.name`;

/** `schema.table` (lower case, as names compare on SQL Server) → bytes. */
export function sizesByTable(rows: unknown[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const row of rows) {
    if (row === null || typeof row !== 'object') continue;
    const r = row as Record<string, unknown>;
    const bytes = Number(r.bytes);
    if (typeof r.schema_name === 'string' && typeof r.table_name === 'string' && Number.isFinite(bytes)) {
      out.set(`${r.schema_name}.${r.table_name}`.toLowerCase(), bytes);
    }
  }
  return out;
}

const FIXED: Record<string, number> = {
  bit: 1, tinyint: 1, smallint: 2, int: 4, bigint: 8, real: 4, float: 8, money: 8, smallmoney: 4,
  date: 3, time: 5, datetime: 8, smalldatetime: 4, datetime2: 8, datetimeoffset: 10, uniqueidentifier: 16, rowversion: 8,
};

/** A row's size from its column types when SQL Server will not say: variable text counted half full, (max) as 200 bytes. */
export function estimatedRowBytes(columns: ColumnModel[]): number {
  let bytes = 10; // row header and null bitmap
  for (const c of columns) {
    if (c.computed && !c.computed.persisted) continue;
    const fixed = FIXED[c.type];
    if (fixed !== undefined) bytes += fixed;
    else if (c.type === 'decimal' || c.type === 'numeric') bytes += (c.precision ?? 18) <= 9 ? 5 : (c.precision ?? 18) <= 19 ? 9 : 13;
    else if (c.maxLength === -1 || c.maxLength === null) bytes += 200;
    else {
      const width = c.type.startsWith('n') ? c.maxLength * 2 : c.maxLength;
      bytes += c.type.includes('var') ? Math.ceil(width / 2) : width;
    }
  }
  return bytes;
}
