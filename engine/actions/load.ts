import type { LoadParams } from '../../runbook/actions/load.js';
import { ActionError, type ActionImpl } from '../action.js';
import { SnapshotSource } from '../snapshot/reader.js';
import type { TableMapping } from '../etl/contracts.js';
import { loadAndReconcile } from './etl-load-common.js';

/**
 * Second hop: verifies every file of a snapshot (refusing a tampered or
 * truncated one by name) and loads it through the same checkpointed path as
 * etl.copy; the manifest's row counts are the source counts to reconcile with.
 */
export const loadAction: ActionImpl<LoadParams> = {
  id: 'load',
  async run(ctx, params) {
    const snapshot = await SnapshotSource.open(params.dir);
    const tables = selectedTables(snapshot.tables(), params.tables);
    ctx.progress(`Verifying the snapshot in ${params.dir}…`);
    const verified = await snapshot.verify(params.tables ? { tables } : {});
    if (!verified.ok) {
      const problems = verified.problems.map((p) => `${p.file}: ${p.problem}`);
      throw new ActionError('snapshot.verify_failed', `The snapshot failed verification; nothing was loaded. ${problems.slice(0, 3).join('; ')}`, { details: { problems } });
    }
    if (ctx.dryRun) return { summary: `Dry run: snapshot verified (${verified.files} files, ${verified.bytes.toLocaleString('en-US')} bytes); would load ${tables.length} tables.` };
    const counts = new Map(tables.map((t) => [t, snapshot.sourceRows(t)]));
    return loadAndReconcile(ctx, {
      pool: ctx.connections.postgres(params.target),
      source: snapshot,
      tables,
      // A snapshot's chunks were fixed at extract time; the loader does not re-plan them.
      chunkRows: 1,
      parallel: params.parallel,
      bookkeepingSchema: params.bookkeeping_schema,
      sessionTimeZone: params.timezone === 'wall-clock' ? null : params.timezone.zone,
      sourceCounts: async (t) => counts.get(t) ?? 0,
      fanOut: params.fan_out,
    });
  },
};

/** The snapshot's tables a `tables:` list names (as conversion selects them); a name the snapshot lacks fails the step before anything loads. */
function selectedTables(all: TableMapping[], wanted: string[] | undefined): TableMapping[] {
  if (!wanted) return all;
  const names = (t: TableMapping): string[] => [`${t.source.schema}.${t.source.name}`.toLowerCase(), t.source.name.toLowerCase()];
  const missing = wanted.filter((w) => !all.some((t) => names(t).includes(w.toLowerCase())));
  if (missing.length > 0) throw new ActionError('load.unknown_tables', `The snapshot has no table ${missing.join(', ')}; nothing was loaded.`);
  return all.filter((t) => wanted.some((w) => names(t).includes(w.toLowerCase())));
}
