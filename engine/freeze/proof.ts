import type { FreezeSourceParams } from '../../runbook/actions/freeze-source.js';
import type { FreezeDriver, Residual, SessionInfo, SourceState } from './driver.js';
import { isOurs } from './report.js';

/** One thing the freeze (or its undo) must have achieved, checked against the database after the fact. */
export interface Check {
  name: string;
  ok: boolean;
  message: string;
}

export interface FreezeProof {
  checks: Check[];
  state: SourceState;
  residual: Residual | null;
}

/**
 * Proves the freeze: the engine says read-only, a write from a fresh session
 * is refused *because* the database is read-only (not for some other reason),
 * the application's roles cannot log in, and on PostgreSQL no other login
 * role could still write. A freeze by the runbook's statements is proven by
 * its verify_sql and/or probe_sql instead.
 */
export async function proveFreeze(d: FreezeDriver, p: FreezeSourceParams, database: string, tag: string): Promise<FreezeProof> {
  const checks: Check[] = [];
  const byStatements = p.statements !== undefined || p.file !== undefined;
  const state = await d.state(database, p.app_roles);
  if (!byStatements) checks.push({ name: 'read-only', ok: state.readOnly, message: state.describe });
  if (byStatements && p.verify_sql) {
    const v = await d.verify(p.verify_sql);
    checks.push({ name: 'verify_sql', ok: v.ok, message: `verify_sql returned ${v.value ?? 'no row'}` });
  }
  if (!byStatements || p.probe_sql) {
    const probe = await d.probe(database, p.probe_sql, tag);
    const message = probe.readOnly
      ? `write refused: ${probe.message}`
      : probe.refused
        ? `the write failed, but not because the database is read-only (${probe.message}); this proves nothing — give a probe_sql the frozen database must refuse`
        : 'the write SUCCEEDED (rolled back): the source still takes writes';
    checks.push({ name: 'write probe', ok: probe.readOnly, message });
  }
  for (const role of state.roles) {
    const ok = role.exists && !role.canLogin;
    checks.push({ name: `login ${role.name}`, ok, message: !role.exists ? `no role or login "${role.name}" on the server` : role.canLogin ? `"${role.name}" can still log in` : `"${role.name}" cannot log in` });
  }
  let residual: Residual | null = null;
  if (d.dialect === 'postgres' && !byStatements) {
    residual = await d.residual(database, [...p.app_roles, ...p.trusted_roles]);
    const overrides = residual.overrides.filter((r) => !p.app_roles.includes(r) && !p.trusted_roles.includes(r));
    residual = { ...residual, overrides };
    checks.push({
      name: 'other writers',
      ok: residual.writers.length === 0 && overrides.length === 0,
      message: residual.writers.length || overrides.length
        ? `other login roles could still write: ${[...residual.writers.map((w) => w.role), ...overrides].join(', ')}`
        : 'no other login role can write (superusers aside)',
    });
  }
  return { checks, state, residual };
}

/** seed 002 "verify no active connections": sessions other than cutover's own. */
export function noSessionsCheck(sessions: readonly SessionInfo[], caveat: string | null = null): Check {
  const others = sessions.filter((s) => !isOurs(s));
  if (caveat && others.length === 0) return { name: 'no sessions', ok: false, message: `cannot tell whether a session is connected: ${caveat}` };
  return {
    name: 'no sessions',
    ok: others.length === 0,
    message: others.length === 0 ? 'no session other than cutover\'s is connected' : `${others.length} session(s) still connected: ${others.slice(0, 5).map((s) => `${s.login ?? '?'}@${s.host ?? '?'} (${s.program ?? '?'})`).join(', ')}`,
  };
}

export const checkLines = (checks: readonly Check[]): string[] => checks.map((c) => `${c.ok ? '✅' : '❌'} ${c.name}: ${c.message}`);
