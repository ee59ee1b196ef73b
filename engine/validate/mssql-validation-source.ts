import mssql from 'mssql';
import { CutoverError } from '../../runbook/errors.js';
import type { ChunkSpec, TableMapping } from '../etl/contracts.js';
import { introspect } from '../mssql/catalog.js';
import { driverTypeName, driverValueText, type DriverColumn } from '../mssql/driver-text.js';
import { chunkCount, type BoundSql } from '../mssql/select-list.js';
import type { SchemaModel } from '../schema/model.js';
import type { ValidationSource } from './contracts.js';

type Pool = Pick<mssql.ConnectionPool, 'request' | 'close'>;

/** ValidationSource over a live SQL Server: counts and runbook queries run inside SQL Server. */
export class MssqlValidationSource implements ValidationSource {
  constructor(
    private readonly pool: Pool,
    private readonly options: { ownsPool?: boolean } = {},
  ) {}

  introspect(): Promise<SchemaModel> {
    return introspect(this.pool);
  }

  async count(table: TableMapping, chunk: ChunkSpec = { id: 'all', kind: 'all' }): Promise<number> {
    const rows = await this.run(chunkCount(table, chunk), `counting ${table.source.schema}.${table.source.name}`);
    const n = Number(rows[0]?.['n']);
    if (!Number.isSafeInteger(n)) throw new CutoverError('validate.bad_count', `counting ${table.source.schema}.${table.source.name} returned no number`);
    return n;
  }

  query(sql: string, options: { exact?: boolean } = {}): Promise<Array<Record<string, string | null>>> {
    return this.run({ text: sql, params: [] }, 'running a validation query', options.exact ?? false);
  }

  async close(): Promise<void> {
    if (this.options.ownsPool) await this.pool.close();
  }

  private async run(sql: BoundSql, doing: string, exact = false): Promise<Array<Record<string, string | null>>> {
    const request = this.pool.request();
    // Explicit: a pool configured with stream: true would otherwise resolve with no recordset.
    request.stream = false;
    for (const p of sql.params) {
      if (p.type === 'bigint' || p.type === 'int') request.input(p.name, p.type === 'bigint' ? mssql.BigInt : mssql.Int, p.value);
      else throw new CutoverError('validate.bad_param', `${doing}: parameter ${p.name} of type ${p.type} is not supported here`);
    }
    let result: mssql.IResult<unknown>;
    try {
      result = await request.query(sql.text);
    } catch (err) {
      const number = err instanceof mssql.RequestError ? err.number : undefined;
      const message = err instanceof Error ? err.message : String(err);
      throw new CutoverError('validate.source_failed', `${doing} on SQL Server failed${number ? ` (error ${number})` : ''}: ${message}`, { cause: err });
    }
    const recordset = result.recordset ?? [];
    const columns: Record<string, DriverColumn> = recordset.columns ?? {};
    return recordset.map((row: unknown) => rowText(row, columns, exact));
  }
}

/** A driver row as text by its column metadata; with exact, a value the driver may have rounded is refused. */
function rowText(row: unknown, columns: Record<string, DriverColumn>, exact: boolean): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  if (typeof row !== 'object' || row === null) return out;
  for (const [key, v] of Object.entries(row)) {
    const column = Object.hasOwn(columns, key) ? columns[key] : undefined;
    const value = driverValueText(v, column);
    if (exact && !value.exact) {
      const type = driverTypeName(column);
      // money's default CONVERT style keeps two decimals: through decimal(19,4) it keeps all four.
      const asText = /money/.test(type) ? 'CONVERT(varchar(50), CONVERT(decimal(19,4), SUM(…)))' : 'CONVERT(varchar(50), SUM(…))';
      throw new CutoverError(
        'validate.inexact_value',
        `column "${key}" of the SQL Server query is ${type} and holds about ${value.text}: the driver reads decimal and money as ` +
          `JavaScript numbers (15 significant digits), so it cannot be compared exactly. Return it as text in the query, e.g. ${asText}`,
      );
    }
    out[key] = value.text;
  }
  return out;
}

/** Values as text: the figures were made text by SQL Server already; a runbook query may still return numbers or dates. */
export function asText(row: unknown): Record<string, string | null> {
  return rowText(row, {}, false);
}
