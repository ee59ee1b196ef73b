import { describe, expect, it } from 'vitest';
import { withConvertedSource } from '../../engine/actions/converted-source.js';
import { conversionOptionsSchema } from '../../runbook/actions/conversion-params.js';
import { actionContext, thrown } from '../support/engine-context.js';
import { kgvSchema } from '../support/fixtures/kgv-schema.js';

/** A source that holds the KGV catalog and remembers whether it was closed. */
function fakeSource() {
  const state = { closed: 0 };
  return { state, source: { introspect: async () => kgvSchema(), close: async () => void state.closed++ } };
}

describe('withConvertedSource: the prologue of the actions that convert SQL Server', () => {
  it('reads the catalog, converts it with the step\'s options, hands the mapping over and closes the source', async () => {
    const ctx = actionContext();
    const { source, state } = fakeSource();
    const tables = await withConvertedSource(ctx, async () => source, conversionOptionsSchema.parse({ tables: ['Antrag'] }), { refuse: 'copied' }, async ({ conversion, model }) => {
      expect(model.tables.length).toBeGreaterThan(1);
      return conversion.mappings.map((m) => m.target.name);
    });
    expect(tables).toEqual(['antrag']);
    expect(ctx.progressed.map((p) => p.message)).toEqual(['Reading the SQL Server catalog…']);
    expect(state.closed).toBe(1);
  });

  it('refuses a conversion with errors before any work, saying what was not done, and still closes the source', async () => {
    const ctx = actionContext();
    const { source, state } = fakeSource();
    let worked = false;
    const err = await thrown(() =>
      withConvertedSource(ctx, async () => source, conversionOptionsSchema.parse({ tables: ['Nirgends'] }), { refuse: 'synced' }, async () => {
        worked = true;
      }),
    );
    expect(err.code).toBe('schema.convert_errors');
    expect(err.userMessage).toBe('The conversion has errors; nothing was synced (e.g. listed in tables but not in the source).');
    expect(worked).toBe(false);
    expect(state.closed).toBe(1);
  });

  it('hands a conversion with errors to work when asked not to refuse (schema.convert reports them), and closes the source when work fails', async () => {
    const ctx = actionContext();
    const { source, state } = fakeSource();
    const err = await thrown(() =>
      withConvertedSource(ctx, async () => source, conversionOptionsSchema.parse({ tables: ['Nirgends'] }), { announce: false }, async ({ conversion }) => {
        throw new Error(`${conversion.report.errors.length} error`);
      }),
    );
    expect(err.message).toBe('1 error');
    expect(ctx.progressed).toEqual([]);
    expect(state.closed).toBe(1);
  });
});
