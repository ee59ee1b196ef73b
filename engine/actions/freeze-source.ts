import type { FreezeSourceParams } from '../../runbook/actions/freeze-source.js';
import { ActionError, cancelledError, type ActionContext, type ActionImpl, type ActionResult } from '../action.js';
import type { FreezeDriver, SessionInfo } from '../freeze/driver.js';
import { openMssqlFreezeDriver } from '../freeze/mssql-driver.js';
import { openPgFreezeDriver } from '../freeze/pg-driver.js';
import { checkLines, noSessionsCheck, proveFreeze, type Check } from '../freeze/proof.js';
import { isOurs, residualLines, sessionsBlock, sessionsForDetails } from '../freeze/report.js';
import { readSqlFile } from './sql.js';

/** Opens the freeze driver for a connection's engine. A factory, so tests can hand in another. */
export type FreezeDriverFactory = (ctx: ActionContext, connection: string) => Promise<FreezeDriver>;

export const openFreezeDriver: FreezeDriverFactory = (ctx, connection) =>
  ctx.connections.kind(connection) === 'postgres' ? openPgFreezeDriver(ctx, connection) : openMssqlFreezeDriver(ctx, connection);

/** Runs fn with the driver opened and always closed. */
export async function withDriver<T>(open: FreezeDriverFactory, ctx: ActionContext, connection: string, fn: (d: FreezeDriver) => Promise<T>): Promise<T> {
  const driver = await open(ctx, connection);
  try {
    return await fn(driver);
  } finally {
    await driver.close();
  }
}

/** The database the step works on; on PostgreSQL it must be the connection's own (a session cannot change database). */
export async function databaseOf(d: FreezeDriver, p: { connection: string; database?: string | undefined }): Promise<string> {
  const current = await d.currentDatabase();
  if (p.database === undefined || p.database === current) return current;
  if (d.dialect === 'postgres') {
    throw new ActionError('freeze.database', `connection "${p.connection}" opens database "${current}", not "${p.database}": on PostgreSQL point the connection at the database to freeze`);
  }
  return p.database;
}

/** The runbook's own freeze (or undo) statements, from the params or a file under sql/. */
export async function scriptOf(ctx: ActionContext, statements: string[] | undefined, file: string | undefined): Promise<string | null> {
  if (statements) return statements.map((s) => s.trim().replace(/;?$/, ';')).join('\n');
  if (file) return readSqlFile(ctx.sqlDir, file);
  return null;
}

/**
 * freeze.source: lists who is connected to the source; with set_read_only
 * (the runbook's consent) freezes it — SQL Server READ_ONLY WITH ROLLBACK
 * IMMEDIATE, PostgreSQL read-only by default plus NOLOGIN for the
 * application's roles and every other session ended, or the runbook's own
 * statements — and proves it. An unproven freeze fails the step, saying that
 * the source was changed, so nobody extracts from a source that still takes writes.
 */
export function freezeSourceAction(open: FreezeDriverFactory = openFreezeDriver): ActionImpl<FreezeSourceParams> {
  return {
    id: 'freeze.source',
    run: (ctx, params) => withDriver(open, ctx, params.connection, (d) => freeze(ctx, d, params)),
  };
}

async function freeze(ctx: ActionContext, d: FreezeDriver, p: FreezeSourceParams): Promise<ActionResult> {
  const database = await databaseOf(d, p);
  const caveat = await d.sessionsCaveat();
  const before = await listSessions(ctx, d, database);
  const listed = sessionsBlock(`Sessions on ${database}${p.set_read_only ? ' before the freeze' : ''}`, before, caveat);
  if (!p.set_read_only) return listOnly(database, before, listed, p.expect_no_sessions, caveat);
  const script = await scriptOf(ctx, p.statements, p.file);
  const how = script ? `the runbook's statements (${p.file ? `sql/${p.file}` : `${p.statements?.length} statements`})` : describeFreeze(d.dialect, p.app_roles);
  if (ctx.dryRun) {
    return { summary: `dry run: would freeze ${database} by ${how}; ${before.filter((s) => !isOurs(s)).length} other session(s) connected; nothing changed`, details: { dryRun: true, database, sessions: { before: sessionsForDetails(before) }, report: listed } };
  }
  const stateBefore = await d.state(database, p.app_roles);
  // The last moment at which a cancel (step timeout, rollback requested) leaves the source untouched.
  if (ctx.signal.aborted) throw cancelledError('freeze', ctx.signal, `the freeze of ${database} (nothing changed)`);
  ctx.progress(`freezing ${database} by ${how}`);
  const ended = await applyFreeze(ctx, d, p, database, script, listed);
  const proof = await proveFreeze(d, p, database, ctx.runId.replace(/\W/g, '_').slice(0, 40));
  const after = await listSessions(ctx, d, database);
  const checks: Check[] = [...proof.checks, ...(p.expect_no_sessions ? [noSessionsCheck(after, caveat)] : [])];
  const report = [
    `*Freeze of ${database}* by ${how}`,
    ...checkLines(checks),
    ...endedLines(ended),
    ...(proof.residual ? residualLines(proof.residual) : []),
    listed,
    sessionsBlock(`Sessions on ${database} after the freeze`, after, caveat),
  ].join('\n');
  const details = {
    database,
    freeze: { dialect: d.dialect, method: script ? 'statements' : 'read_only', before: stateBefore, after: proof.state, checks, ended: ended.ended, notEnded: ended.notEnded, residual: proof.residual, frozenAt: new Date().toISOString() },
    sessions: { before: sessionsForDetails(before), after: sessionsForDetails(after) },
    report,
  };
  const failed = checks.filter((c) => !c.ok);
  if (failed.length) {
    throw new ActionError('freeze.not_proven', `${database} was changed but the freeze is NOT proven: ${failed.map((c) => `${c.name}: ${c.message}`).join('; ')}. Fix it and Retry, or roll back (unfreeze.source puts the source back in service).`, { details });
  }
  const probe = checks.find((c) => c.name === 'write probe');
  return {
    summary: `${database} frozen by ${how}: ${proof.state.describe}${probe ? `; ${probe.message}` : ''}; ${ended.ended.length} session(s) ended, ${after.filter((s) => !isOurs(s)).length} other session(s) now (read-only)`,
    details,
  };
}

type Ended = { ended: string[]; notEnded: string[] };

/** The change itself; a failure says whether anything took effect. */
async function applyFreeze(ctx: ActionContext, d: FreezeDriver, p: FreezeSourceParams, database: string, script: string | null, listed: string): Promise<Ended> {
  try {
    if (script) {
      await d.runScript(script);
      return { ended: [], notEnded: [] };
    }
    return await d.freeze(database, p.app_roles);
  } catch (err) {
    const atomic = d.dialect === 'postgres' && !script ? 'It ran in one transaction, so nothing changed.' : 'Part of it may have taken effect; unfreeze.source (in every rollback scenario) undoes any part.';
    throw new ActionError('freeze.failed', `${database} could not be frozen: ${ctx.connections.redact(err instanceof Error ? err.message : String(err))}. ${atomic}`, { cause: err, details: { database, report: listed } });
  }
}

function endedLines(e: Ended): string[] {
  const ended = e.ended.length ? [`ended ${e.ended.length} session(s): ${e.ended.slice(0, 10).join(', ')}${e.ended.length > 10 ? ' …' : ''}`] : [];
  return [...ended, ...e.notEnded.map((n) => `⚠️ not ended: ${n}`)];
}

/** The sessions on the database; a list that cannot be read fails the step with the server's words. */
async function listSessions(ctx: ActionContext, d: FreezeDriver, database: string): Promise<SessionInfo[]> {
  try {
    return await d.sessions(database);
  } catch (err) {
    throw new ActionError('freeze.sessions', `cannot list the sessions on ${database}: ${ctx.connections.redact(err instanceof Error ? err.message : String(err))}`, { cause: err });
  }
}

function listOnly(database: string, sessions: SessionInfo[], listed: string, expectNone: boolean, caveat: string | null): ActionResult {
  const others = sessions.filter((s) => !isOurs(s));
  const details = { database, sessions: { before: sessionsForDetails(sessions) }, report: listed };
  const none = noSessionsCheck(sessions, caveat);
  if (expectNone && !none.ok) {
    throw new ActionError('freeze.sessions_connected', `${none.message} (${database}); stop the application (or let freeze.source end them with set_read_only: true) and Retry`, { details });
  }
  return { summary: `${sessions.length} session(s) on ${database} (${others.length} not cutover's); nothing changed (set_read_only is not set)`, details };
}

function describeFreeze(dialect: FreezeDriver['dialect'], roles: readonly string[]): string {
  const logins = roles.length ? (dialect === 'postgres' ? ` + NOLOGIN for ${roles.join(', ')}` : ` + logins ${roles.join(', ')} disabled`) : '';
  return dialect === 'postgres' ? `default_transaction_read_only = on + every other session ended${logins}` : `ALTER DATABASE … SET READ_ONLY WITH ROLLBACK IMMEDIATE${logins}`;
}
