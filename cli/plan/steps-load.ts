import { formatDuration } from '../../runbook/duration.js';
import { workSeconds } from './durations.js';
import { DBA, MERGE, type PlanContext, type Step } from './plan-context.js';
import { rowsText } from './sizes-text.js';

/** The load, one step per group of tables, then the keys over all of them. */

export function loads(ctx: PlanContext): Step[] {
  return ctx.groups.map((group, i) => {
    const params = ctx.snapshot
      ? { dir: ctx.snapshotDir(), target: 'target', ...ctx.loadTables(i), parallel: 2 }
      : { ...MERGE, ...ctx.tablesOf(i), source: 'source', target: 'target', parallel: 2 };
    return ctx.step(
      {
        '#': i === 0 ? `Tables in groups of about ${formatDuration(ctx.groupSeconds)} of load each, by rows and bytes at ${ctx.rates.loadBasis}.` : undefined,
        id: ctx.loadId(i),
        title: ctx.groupTitle(i, `Load ${rowsText(group)}`),
        approve: DBA,
        action: ctx.snapshot ? 'load' : 'etl.copy',
        params,
      },
      workSeconds.load(group, ctx.rates),
      { timeout: true },
    );
  }).concat(
    ctx.step(
      { id: 'keys', title: 'Keys, indexes, checks and foreign keys; identity sequences past the loaded values', approve: DBA, action: 'schema.apply', params: { ...MERGE, ...ctx.from(), target: 'target', phase: 'post-load' } },
      workSeconds.keys(ctx.inv.tables, ctx.rates),
      { timeout: true },
    ),
  );
}
