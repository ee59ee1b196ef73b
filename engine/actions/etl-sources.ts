import { CutoverError } from '../../runbook/errors.js';
import type { ActionContext } from '../action.js';
import type { SourceAdapter } from '../etl/contracts.js';
import { MssqlSource } from '../mssql/source.js';

/** Opens the row source a runbook connection names. A factory, so tests can hand the actions another source. */
export type RowSourceFactory = (ctx: ActionContext, connection: string) => Promise<SourceAdapter>;

export const openMssqlSource: RowSourceFactory = async (ctx, connection) => {
  if (ctx.connections.kind(connection) !== 'mssql') {
    throw new CutoverError('etl.source_kind', `Connection "${connection}" is not a SQL Server connection; the ETL reads from SQL Server (kind: mssql).`);
  }
  // The registry owns the pool and closes it when the step ends; encode threads open their own connections.
  return new MssqlSource(await ctx.connections.mssql(connection), { ownsPool: false, threadConfig: ctx.connections.mssqlConfig(connection) });
};

/** Runs tasks with at most `limit` in flight; rejects with the first failure after the others settle. */
export async function inParallel<T, R>(items: readonly T[], limit: number, run: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  let failure: unknown = null;
  const worker = async (): Promise<void> => {
    while (failure === null && next < items.length) {
      const i = next++;
      try {
        results[i] = await run(items[i] as T);
      } catch (err) {
        failure ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failure !== null) throw failure;
  return results;
}

export const loadIdOf = (ctx: ActionContext): string => `${ctx.runId}/${ctx.stepId}`;
