import mssql from 'mssql';
import { CutoverError } from '../../runbook/errors.js';
import type { ChunkSpec, TableMapping } from '../etl/contracts.js';
import { introspect } from '../mssql/catalog.js';
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

  query(sql: string): Promise<Array<Record<string, string | null>>> {
    return this.run({ text: sql, params: [] }, 'running a validation query');
  }

  async close(): Promise<void> {
    if (this.options.ownsPool) await this.pool.close();
  }

  private async run(sql: BoundSql, doing: string): Promise<Array<Record<string, string | null>>> {
    const request = this.pool.request();
    // Explicit: a pool configured with stream: true would otherwise resolve with no recordset.
    request.stream = false;
    for (const p of sql.params) {
      if (p.type === 'bigint' || p.type === 'int') request.input(p.name, p.type === 'bigint' ? mssql.BigInt : mssql.Int, p.value);
      else throw new CutoverError('validate.bad_param', `${doing}: parameter ${p.name} of type ${p.type} is not supported here`);
    }
    try {
      const result = await request.query(sql.text);
      return (result.recordset ?? []).map((row: unknown) => asText(row));
    } catch (err) {
      const number = err instanceof mssql.RequestError ? err.number : undefined;
      const message = err instanceof Error ? err.message : String(err);
      throw new CutoverError('validate.source_failed', `${doing} on SQL Server failed${number ? ` (error ${number})` : ''}: ${message}`, { cause: err });
    }
  }
}

/** Values as text: the figures were made text by SQL Server already; a runbook query may still return numbers or dates. */
export function asText(row: unknown): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  if (typeof row !== 'object' || row === null) return out;
  for (const [key, v] of Object.entries(row)) {
    if (v === null || v === undefined) out[key] = null;
    else if (v instanceof Date) out[key] = v.toISOString();
    else if (Buffer.isBuffer(v)) out[key] = v.toString('hex');
    else if (typeof v === 'object') out[key] = JSON.stringify(v);
    else out[key] = String(v);
  }
  return out;
}
