import type pg from 'pg';
import type { SchemaApplyParams } from '../../runbook/actions/schema-apply.js';
import { ActionError, type ActionContext, type ActionImpl, type ActionResult } from '../action.js';
import { faultPoint } from '../fault-injection.js';
import { EffectAlreadyCommitted } from '../ledger/effect-key.js';
import { findEffect, ledgerWhere } from '../ledger/find-effect.js';
import { pgLedgerTx, type PgLedgerTx } from '../ledger/pg-ledger.js';
import { conversionOptions } from '../etl/conversion-options.js';
import { applyPostLoad, applyStatements, type ApplyProgress, type ApplyResult } from '../schema/apply.js';
import { convertSchema, renderConversionReport, type SchemaConversion } from '../schema/convert.js';
import type { SchemaModel } from '../schema/model.js';
import { quoteQualified } from '../schema/naming.js';
import { SnapshotSource } from '../snapshot/reader.js';
import { refuseConversionErrors } from './converted-source.js';
import { openMssqlSource, type RowSourceFactory } from './etl-sources.js';

/**
 * Creates the target schema in two halves around the load: pre-load makes bare
 * tables (fast COPY, no index upkeep); post-load adds keys, indexes, checks and
 * foreign keys (NOT VALID, then VALIDATE) and moves identity sequences past the data.
 */
export function schemaApplyAction(openSource: RowSourceFactory = openMssqlSource): ActionImpl<SchemaApplyParams> {
  return {
    id: 'schema.apply',
    async run(ctx, params) {
      const conversion = convertSchema(await readModel(ctx, params, openSource), conversionOptions(params));
      const report = renderConversionReport(conversion.report);
      refuseConversionErrors(conversion, 'applied', { report });
      const pool = ctx.connections.postgres(params.target);
      const statements = params.phase === 'pre-load' ? conversion.preLoad.length : Object.values(conversion.postLoad).flat().length + conversion.identitySync.length;
      if (ctx.dryRun) return { summary: `Dry run: would apply ${statements} ${params.phase} statements to ${params.target}.`, details: { report } };
      // Known before the statements run, so the ledger can keep it in their transaction: the result once they all succeed.
      const success = (applied: number): ActionResult => ({ summary: `Applied ${applied} ${params.phase} statements (${conversion.mappings.length} tables).`, details: { report } });
      const ledger = ctx.effectKey ? pgLedgerTx(ledgerWhere(ctx.connections, params.target), ctx.effectKey) : null;
      const result = params.phase === 'pre-load' ? await preLoad(ctx, params.target, pool, conversion, params.replace, ledger, success) : await postLoad(ctx, pool, conversion);
      if (!result.ok) {
        const first = result.failures[0];
        throw new ActionError('schema.apply_failed', `${result.failures.length} of ${result.total} ${params.phase} statements failed; first: ${first?.message}`, {
          details: { report, failures: result.failures.slice(0, 10) },
        });
      }
      return success(result.applied);
    },
  };
}

async function readModel(ctx: ActionContext, params: SchemaApplyParams, openSource: RowSourceFactory): Promise<SchemaModel> {
  if (params.snapshot) return (await SnapshotSource.open(params.snapshot)).introspect();
  const source = await openSource(ctx, params.source as string);
  try {
    return await source.introspect();
  } finally {
    await source.close();
  }
}

async function preLoad(
  ctx: ActionContext,
  target: string,
  pool: pg.Pool,
  conversion: SchemaConversion,
  replace: boolean,
  ledger: PgLedgerTx | null,
  success: (applied: number) => ActionResult,
): Promise<ApplyResult> {
  const targets = conversion.mappings.map((m) => m.target);
  const existing = await pool.query<{ name: string }>(
    `SELECT n.nspname || '.' || c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p') AND (n.nspname, c.relname) IN (SELECT * FROM unnest($1::text[], $2::text[]))`,
    [targets.map((t) => t.schema), targets.map((t) => t.name)],
  );
  if (existing.rows.length > 0 && !replace) {
    // Another attempt of this step may have made them: one that committed after this attempt last asked the ledger
    // (a worker that lost the job's lock). Then the effect happened once, and that attempt's result is the step's.
    if (ctx.effectKey && (await findEffect(ctx.connections, target, ctx.runId, ctx.stepId))) throw new EffectAlreadyCommitted(ctx.effectKey, null);
    throw new ActionError(
      'schema.tables_exist',
      `${existing.rows.length} target table(s) already exist (${existing.rows.slice(0, 5).map((r) => r.name).join(', ')}); drop them or set replace: true to recreate them empty.`,
    );
  }
  // Drops and creates commit together, so a crash leaves the old tables or the new ones, never neither.
  const drops = replace ? targets.map((t) => `DROP TABLE IF EXISTS ${quoteQualified(t.schema, t.name)} CASCADE`) : [];
  const statements = [...drops, ...conversion.preLoad];
  return applyStatements(pool, statements, {
    signal: ctx.signal,
    onProgress: (p) => ctx.progress(`pre-load ${p.done}/${p.total}`),
    ...(ledger ? { ledger: { ensure: ledger.ensure, claim: ledger.claim, record: (client: pg.ClientBase) => ledger.record(client, success(statements.length)) } } : {}),
  });
}

async function postLoad(ctx: ActionContext, pool: pg.Pool, conversion: SchemaConversion): Promise<ApplyResult> {
  const onProgress = (p: ApplyProgress): void => {
    ctx.progress(`post-load ${p.phase} ${p.done}/${p.total}`);
    // Inside the effect: a statement committed on its own, others may still run (test-only fault injection).
    if (p.ok) faultPoint('in-effect', ctx.stepId);
  };
  const keys = await applyPostLoad(pool, conversion.postLoad, { signal: ctx.signal, onProgress });
  if (!keys.ok) return keys;
  const sequences = await applyStatements(pool, conversion.identitySync, { signal: ctx.signal });
  return { ...sequences, applied: keys.applied + sequences.applied, total: keys.total + sequences.total };
}
