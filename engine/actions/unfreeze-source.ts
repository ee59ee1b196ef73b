import { freezeSourceParams, type FreezeSourceParams } from '../../runbook/actions/freeze-source.js';
import type { UnfreezeSourceParams } from '../../runbook/actions/unfreeze-source.js';
import { ActionError, type ActionContext, type ActionImpl, type ActionResult, type StepRecord } from '../action.js';
import type { FreezeDriver } from '../freeze/driver.js';
import { checkLines, type Check } from '../freeze/proof.js';
import { sessionsBlock } from '../freeze/report.js';
import { databaseOf, openFreezeDriver, scriptOf, withDriver, type FreezeDriverFactory } from './freeze-source.js';

/**
 * unfreeze.source, the compensation of freeze.source that every rollback
 * scenario holds: it puts the source back in service — read-write, the
 * application's logins enabled — whatever state the freeze found, and proves
 * it (the engine says read-write and a write from a fresh session is no
 * longer refused as read-only). It reads the freeze step's params, so the
 * two cannot disagree. A freeze that never started in this run is left
 * alone: the source's state is then not this run's to change.
 */
export function unfreezeSourceAction(open: FreezeDriverFactory = openFreezeDriver): ActionImpl<UnfreezeSourceParams> {
  return {
    id: 'unfreeze.source',
    async run(ctx, params) {
      const record = ctx.stepRecord(params.freeze_step);
      const freeze = freezeParamsOf(record, params.freeze_step);
      if (!freeze.set_read_only) return { summary: `nothing to undo: step "${params.freeze_step}" only lists sessions (set_read_only is not set)`, details: { undone: false } };
      const started = record !== null && (record.startedAt !== null || record.attempt > 1);
      return withDriver(open, ctx, freeze.connection, async (d) => {
        const database = await databaseOf(d, freeze);
        if (!started) return leftAlone(d, freeze, database, record);
        const script = await scriptOf(ctx, freeze.unfreeze_statements, freeze.unfreeze_file);
        const how = script ? `the runbook's unfreeze statements` : d.dialect === 'postgres' ? 'RESET default_transaction_read_only' : 'ALTER DATABASE … SET READ_WRITE';
        if (ctx.dryRun) return { summary: `dry run: would put ${database} back in service by ${how}${freeze.app_roles.length ? ` and enable ${freeze.app_roles.join(', ')}` : ''}; nothing changed`, details: { dryRun: true, database } };
        ctx.progress(`unfreezing ${database} by ${how}`);
        try {
          if (script) await d.runScript(script);
          else await d.unfreeze(database, freeze.app_roles);
        } catch (err) {
          throw new ActionError('unfreeze.failed', `${database} could not be put back in service: ${ctx.connections.redact(err instanceof Error ? err.message : String(err))}. It may still be frozen: fix and Retry.`, { cause: err, details: { database } });
        }
        return proveUnfrozen(ctx, d, freeze, database, how);
      });
    },
  };
}

function freezeParamsOf(record: StepRecord | null, stepId: string): FreezeSourceParams {
  if (!record || record.action !== 'freeze.source') {
    throw new ActionError('unfreeze.no_freeze', `step "${stepId}" is not a freeze.source step of this runbook, so there is nothing to undo from it`);
  }
  const parsed = freezeSourceParams.safeParse(record.params);
  if (!parsed.success) throw new ActionError('unfreeze.no_freeze', `the params of freeze step "${stepId}" no longer parse: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  return parsed.data;
}

async function leftAlone(d: FreezeDriver, freeze: FreezeSourceParams, database: string, record: StepRecord | null): Promise<ActionResult> {
  const state = await d.state(database, freeze.app_roles);
  const warn = state.readOnly ? ' ⚠️ it IS read-only: frozen outside this run; put it back in service by hand if it should be' : '';
  return {
    summary: `nothing to undo: freeze step "${record?.id}" never ran in this run (${record?.status ?? 'unknown'}); ${database} left as it is: ${state.describe}${warn}`,
    details: { undone: false, database, state },
  };
}

async function proveUnfrozen(ctx: ActionContext, d: FreezeDriver, freeze: FreezeSourceParams, database: string, how: string): Promise<ActionResult> {
  const checks: Check[] = [];
  const state = await d.state(database, freeze.app_roles);
  const byStatements = freeze.unfreeze_statements !== undefined || freeze.unfreeze_file !== undefined;
  if (!byStatements) checks.push({ name: 'read-write', ok: !state.readOnly, message: state.describe });
  if (byStatements && freeze.verify_sql) {
    const v = await d.verify(freeze.verify_sql);
    checks.push({ name: 'verify_sql', ok: !v.ok, message: `verify_sql (1 while frozen) now returns ${v.value ?? 'no row'}` });
  }
  if (!byStatements || freeze.probe_sql) {
    const probe = await d.probe(database, freeze.probe_sql, `${ctx.runId.replace(/\W/g, '_').slice(0, 40)}_undo`);
    const message = !probe.refused ? 'a write succeeds again (rolled back)' : probe.readOnly ? `a write is still refused as read-only: ${probe.message}` : `the write failed for another reason (${probe.message}); not read-only`;
    checks.push({ name: 'write probe', ok: !probe.readOnly, message });
  }
  for (const role of state.roles) checks.push({ name: `login ${role.name}`, ok: role.canLogin, message: role.canLogin ? `"${role.name}" can log in` : `"${role.name}" still cannot log in` });
  // Informational only: a session list that cannot be read must not fail an unfreeze that worked.
  const sessions = await d.sessions(database).then(
    (list) => sessionsBlock(`Sessions on ${database} now`, list),
    (err: unknown) => `⚠️ sessions not readable: ${ctx.connections.redact(err instanceof Error ? err.message : String(err))}`,
  );
  const report = [`*Unfreeze of ${database}* by ${how}`, ...checkLines(checks), sessions].join('\n');
  const details = { undone: true, database, unfreeze: { dialect: d.dialect, state, checks, at: new Date().toISOString() }, report };
  const failed = checks.filter((c) => !c.ok);
  if (failed.length) throw new ActionError('unfreeze.not_proven', `${database} is NOT back in service: ${failed.map((c) => `${c.name}: ${c.message}`).join('; ')}`, { details });
  return { summary: `${database} back in service: ${state.describe}${freeze.app_roles.length ? `; ${freeze.app_roles.join(', ')} can log in` : ''}; ${checks.find((c) => c.name === 'write probe')?.message ?? 'verified'}`, details };
}
