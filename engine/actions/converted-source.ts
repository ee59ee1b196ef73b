import type { ConversionParams } from '../../runbook/actions/conversion-params.js';
import { ActionError, type ActionContext } from '../action.js';
import { conversionOptions } from '../etl/conversion-options.js';
import { convertSchema, type SchemaConversion } from '../schema/convert.js';
import type { SchemaModel } from '../schema/model.js';

/** A source the ETL actions read: its catalog, then its rows (each action its own way); closed by whoever opened it. */
interface CatalogSource {
  introspect(): Promise<SchemaModel>;
  close(): Promise<void>;
}

/** The step's source, open, with its catalog read and converted by the step's conversion options. */
export interface ConvertedSource<S extends CatalogSource> {
  source: S;
  model: SchemaModel;
  conversion: SchemaConversion;
}

export interface ConvertOptions {
  /** Refuse a conversion with errors before any work: "nothing was <refuse>". Absent: `work` sees the errors (schema.convert reports them). */
  refuse?: string;
  /** Say in the thread that the catalog is being read: it can take a while on a large database. */
  announce?: boolean;
}

/**
 * The prologue the actions that convert SQL Server share (schema.convert,
 * etl.copy, etl.sync, extract): open the source, read its catalog, convert it
 * with the step's options, so the tables they work on are the same mapping
 * every step of the runbook computes; then `work`, and the source is closed
 * whatever happens.
 */
export async function withConvertedSource<S extends CatalogSource, R>(
  ctx: ActionContext,
  open: () => Promise<S>,
  params: ConversionParams,
  options: ConvertOptions,
  work: (converted: ConvertedSource<S>) => Promise<R>,
): Promise<R> {
  const source = await open();
  try {
    if (options.announce !== false) ctx.progress('Reading the SQL Server catalog…');
    const model = await source.introspect();
    const conversion = convertSchema(model, conversionOptions(params));
    if (options.refuse !== undefined) refuseConversionErrors(conversion, options.refuse);
    return await work({ source, model, conversion });
  } finally {
    await source.close();
  }
}

/** Throws when the conversion has errors: no step works on a mapping the runbook still has to fix. */
export function refuseConversionErrors(conversion: SchemaConversion, nothingWas: string, details?: Record<string, unknown>): void {
  const first = conversion.report.errors[0];
  if (!first) return;
  throw new ActionError('schema.convert_errors', `The conversion has errors; nothing was ${nothingWas} (e.g. ${first.message}).`, details ? { details } : {});
}
