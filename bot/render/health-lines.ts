import { formatDuration } from '../../runbook/duration.js';
import type { StepHealth } from '../../runbook/health-alert.js';
import type { DatabaseHealth, DiskVolume, WaitingSession } from '../../runbook/health-sample.js';
import type { StepState } from '../../runbook/state.js';
import { clip, slackTime } from './format.js';

/**
 * The step message's health section: the latest sample while the step runs
 * (one line per database), and the alert episodes of the attempt. Null when
 * the step is not watched.
 */
export function healthSection(step: StepState): string | null {
  const h = step.health;
  if (!h) return null;
  const lines: string[] = [];
  if (step.status === 'running') {
    lines.push(`🩺 *Database health* at ${slackTime(h.latest.at)}`);
    for (const db of h.latest.databases) lines.push(databaseLine(db));
  }
  const episodes = episodeLine(h, step.status === 'running');
  if (episodes) lines.push(episodes);
  return lines.length > 0 ? clip(lines.join('\n'), 2900) : null;
}

function databaseLine(db: DatabaseHealth): string {
  const name = `• *${db.connection}* (${db.kind === 'postgres' ? 'PostgreSQL' : 'SQL Server'})`;
  if (db.error) return `${name}: ⚠️ not sampled — ${db.error}`;
  const parts: string[] = [];
  if (db.sessions) parts.push(`${db.sessions.total} sessions, ${db.sessions.active} active${db.sessions.idleInTransaction ? `, ${db.sessions.idleInTransaction} idle in transaction` : ''}`);
  parts.push(waitsText(db));
  if (db.longTotal > 0) {
    const top = db.long[0];
    parts.push(`${db.longTotal} long statement${db.longTotal > 1 ? 's' : ''}${top ? ` (longest ${formatDuration(top.seconds)}: ${sessionWord(db)} ${top.session}${top.ours ? ' cutover' : ''}${top.statement ? ` \`${top.statement}\`` : ''})` : ''}`);
  }
  if (db.deadlocks !== null) parts.push(`deadlocks ${db.deadlocks}`);
  if (db.replication?.length) parts.push(db.replication.map((r) => `${r.name} ${r.state}${r.replayLagSeconds !== null ? `, lag ${formatDuration(r.replayLagSeconds)}` : ''}${r.replayLagBytes ? ` (${formatBytes(r.replayLagBytes)})` : ''}`).join('; '));
  if (db.disk?.length) parts.push(db.disk.map(diskText).join('; '));
  const notes = db.notes.length > 0 ? `\n   _${db.notes.join(' · ')}_` : '';
  return `${name}: ${parts.join(' · ')}${notes}`;
}

function waitsText(db: DatabaseHealth): string {
  const longest = db.waiting[0];
  if (db.waitingTotal === 0 || !longest) return 'no lock waits';
  return `⛔ ${db.waitingTotal} waiting — longest ${waitText(db, longest)}`;
}

function waitText(db: DatabaseHealth, w: WaitingSession): string {
  const waiter = `${sessionWord(db)} ${w.session}${w.ours ? ' (cutover)' : ''}`;
  const head = db.heads.find((h) => h.session === w.headBlocker);
  const headText = w.headBlocker === 0 ? 'a prepared transaction' : head ? `${sessionWord(db)} ${head.session} (${head.ours ? 'cutover' : head.who}, ${head.state}${head.xactSeconds !== null ? `, transaction ${formatDuration(head.xactSeconds)}` : ''})` : w.headBlocker !== null ? `${sessionWord(db)} ${w.headBlocker}` : 'no named session';
  return `${waiter} ${formatDuration(w.waitSeconds)} on ${w.waitType} ← ${headText}`;
}

function diskText(d: DiskVolume): string {
  const pct = d.totalBytes > 0 ? Math.floor((d.freeBytes / d.totalBytes) * 100) : 0;
  const used = d.tablespaceBytes !== null ? `, ${d.tablespaces.join('+')} ${formatBytes(d.tablespaceBytes)}` : '';
  return `disk ${pct} % free (${formatBytes(d.freeBytes)} of ${formatBytes(d.totalBytes)}${used})`;
}

function episodeLine(h: StepHealth, running: boolean): string | null {
  const open = h.episodes.at(-1)?.clearedAt === null ? h.episodes.at(-1) : undefined;
  const closed = h.episodes.filter((e) => e.clearedAt !== null);
  const parts: string[] = [];
  if (open && running) parts.push(`⛔ waits over threshold since ${slackTime(open.since)} (longest ${formatDuration(open.worstWaitSeconds)})`);
  if (closed.length > 0) {
    const spans = closed.slice(-3).map((e) => `${slackTime(e.since)}–${slackTime(e.clearedAt ?? e.since)}`);
    parts.push(`${closed.length} wait episode${closed.length > 1 ? 's' : ''} over threshold: ${spans.join(', ')}${closed.length > 3 ? ', …' : ''}`);
  }
  return parts.length > 0 ? parts.join(' · ') : null;
}

const sessionWord = (db: DatabaseHealth): string => (db.kind === 'postgres' ? 'pid' : 'session');

/** 1536 → "1.5 KiB"; binary units as df -h shows them. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${Math.round(value)} B` : `${value.toFixed(value >= 100 ? 0 : 1)} ${units[unit]}`;
}
