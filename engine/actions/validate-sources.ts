import type pg from 'pg';
import type { ConversionParams } from '../../runbook/actions/conversion-params.js';
import { CutoverError } from '../../runbook/errors.js';
import { ActionError, type ActionContext } from '../action.js';
import type { TableMapping } from '../etl/contracts.js';
import { conversionOptions } from '../etl/conversion-options.js';
import { convertSchema } from '../schema/convert.js';
import type { SchemaModel } from '../schema/model.js';
import type { ValidationSource } from '../validate/contracts.js';
import { MssqlValidationSource } from '../validate/mssql-validation-source.js';

/** Opens the validation source a runbook connection names. A factory, so tests can hand the actions another source. */
export type ValidationSourceFactory = (ctx: ActionContext, connection: string) => Promise<ValidationSource>;

export const openMssqlValidationSource: ValidationSourceFactory = async (ctx, connection) => {
  if (ctx.connections.kind(connection) !== 'mssql') {
    throw new CutoverError('validate.source_kind', `Connection "${connection}" is not a SQL Server connection; validation compares against SQL Server (kind: mssql).`);
  }
  // The registry owns the pool and closes it when the step ends.
  return new MssqlValidationSource(await ctx.connections.mssql(connection), { ownsPool: false });
};

/** The ETL's table mappings for this catalog and these conversion options; refuses a conversion with errors, as the ETL does. */
export function mappingsOf(model: SchemaModel, params: ConversionParams): TableMapping[] {
  const conversion = convertSchema(model, conversionOptions(params));
  if (conversion.report.errors.length > 0) {
    throw new ActionError('schema.convert_errors', `The conversion has errors, so the tables cannot be mapped like the ETL (e.g. ${conversion.report.errors[0]?.message}).`);
  }
  return conversion.mappings;
}

/** Runs fn with the source opened and always closed. */
export async function withSource<T>(ctx: ActionContext, open: ValidationSourceFactory, connection: string, fn: (s: ValidationSource) => Promise<T>): Promise<T> {
  const source = await open(ctx, connection);
  try {
    return await fn(source);
  } finally {
    await source.close();
  }
}

/**
 * A runbook query on the target inside a READ ONLY transaction that is
 * rolled back: validation may never change the data it judges.
 */
export async function readOnly<T>(pool: pg.Pool, fn: (q: (sql: string, values?: unknown[]) => Promise<Array<Record<string, unknown>>>) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN TRANSACTION READ ONLY');
    return await fn(async (sql, values) => (await client.query<Record<string, unknown>>(sql, values)).rows);
  } finally {
    await client.query('ROLLBACK').catch(() => undefined);
    client.release();
  }
}

/** Table name for items and messages: the target's schema.name. */
export const subjectOf = (t: TableMapping): string => `${t.target.schema}.${t.target.name}`;

export const firstValue = (rows: Array<Record<string, string | null>>): string | null => {
  const row = rows[0];
  return row ? (Object.values(row)[0] ?? null) : null;
};
