import { truncate } from '../action.js';
import type { Residual, SessionInfo } from './driver.js';

/** Sessions of cutover itself (its pools set application name "cutover"): listed, but not counted as the application's. */
export const isOurs = (s: SessionInfo): boolean => s.program === 'cutover';

const SHOWN = 15;

function age(seconds: number | null): string {
  if (seconds === null) return 'never';
  if (seconds < 90) return `${Math.max(0, seconds)}s ago`;
  if (seconds < 5400) return `${Math.round(seconds / 60)}m ago`;
  return `${Math.round(seconds / 3600)}h ago`;
}

/** "57 kgv_app@APPSRV01 (KGV.Web) — last request 2m ago, sleeping, 1 open transaction" */
export function sessionLine(s: SessionInfo): string {
  const who = `${s.login ?? '?'}@${s.host ?? '?'}`;
  const what = [s.command ? `running ${s.command}` : null, s.status, s.openTransactions > 0 ? `${s.openTransactions} open transaction${s.openTransactions > 1 ? 's' : ''}` : null].filter(Boolean).join(', ');
  return `\`${s.id}\` ${truncate(who, 80)} (${truncate(s.program ?? 'no program name', 60)})${isOurs(s) ? ' [cutover]' : ''} — last request ${age(s.idleSeconds)}${what ? `, ${what}` : ''}`;
}

/** A titled list, the first SHOWN sessions and a count of the rest. */
export function sessionsBlock(title: string, sessions: readonly SessionInfo[], caveat: string | null = null): string {
  const others = sessions.filter((s) => !isOurs(s)).length;
  const head = `*${title}:* ${sessions.length === 0 ? 'none' : `${sessions.length} (${others} not cutover's)`}`;
  const lines = [...(caveat ? [`⚠️ ${caveat}`] : []), ...sessions.slice(0, SHOWN).map((s) => `• ${sessionLine(s)}`)];
  if (sessions.length > SHOWN) lines.push(`… and ${sessions.length - SHOWN} more`);
  return [head, ...lines].join('\n');
}

/** PostgreSQL: who could still write, in words; empty when nobody but superusers. */
export function residualLines(r: Residual): string[] {
  const out: string[] = [];
  if (r.writers.length) out.push(`🔴 could still log in and write (and set read-only off): ${r.writers.map((w) => `${w.role} (${w.tables} tables)`).join(', ')} — add them to app_roles, or to trusted_roles if they may`);
  if (r.overrides.length) out.push(`🔴 role settings turn read-only off again for: ${r.overrides.join(', ')}`);
  if (r.superusers.length) out.push(`ℹ️ superusers can always write: ${r.superusers.join(', ')}`);
  return out;
}

/** Session rows for details: small and bounded. */
export const sessionsForDetails = (sessions: readonly SessionInfo[]): SessionInfo[] => sessions.slice(0, 50);
