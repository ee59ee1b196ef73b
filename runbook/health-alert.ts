import { formatDuration } from './duration.js';
import type { HealthPolicy } from './health-policy.js';
import type { DatabaseHealth, HealthFinding, HeadBlocker, HealthSample, WaitingSession } from './health-sample.js';

/** At most this many findings travel with a sample or an episode: the alert names the worst, the thread shows the rest. */
const MAX_FINDINGS = 5;

/**
 * The "is this an alert" decision, pure: a session blocked by another for
 * longer than `block_threshold`, or waiting on a lock for longer than
 * `lock_wait_threshold` (whether or not a blocker can be named), is a
 * finding. A database that could not be sampled yields none (and makes the
 * sample incomplete, so it cannot clear an alert either).
 */
export function assessHealth(databases: readonly DatabaseHealth[], policy: Pick<HealthPolicy, 'blockSeconds' | 'lockWaitSeconds'>): HealthFinding[] {
  const findings: HealthFinding[] = [];
  for (const db of databases) {
    if (db.error) continue;
    for (const w of db.waiting) {
      const blocked = w.blockedBy.length > 0;
      if (blocked && w.waitSeconds >= policy.blockSeconds) findings.push(finding(db, w, 'blocking', policy.blockSeconds));
      else if (w.lockWait && w.waitSeconds >= policy.lockWaitSeconds) findings.push(finding(db, w, 'lock_wait', policy.lockWaitSeconds));
    }
  }
  return findings.sort((a, b) => b.waitSeconds - a.waitSeconds).slice(0, MAX_FINDINGS);
}

function finding(db: DatabaseHealth, w: WaitingSession, kind: HealthFinding['kind'], thresholdSeconds: number): HealthFinding {
  const head = w.headBlocker === null ? undefined : db.heads.find((h) => h.session === w.headBlocker);
  const waiter = `${sessionWord(db)} ${w.session} (${w.ours ? 'cutover' : w.who}${w.statement ? `: ${w.statement}` : ''})`;
  const on = w.blockedBy.length > 0 ? `, blocked by ${describeHead(db, w, head)}` : ' with no blocking session named';
  return {
    kind,
    connection: db.connection,
    session: w.session,
    ours: w.ours,
    waitSeconds: w.waitSeconds,
    thresholdSeconds,
    text: `${db.connection}: ${waiter} has waited ${formatDuration(w.waitSeconds)} on ${w.waitType}${on}`,
  };
}

const sessionWord = (db: DatabaseHealth): string => (db.kind === 'postgres' ? 'pid' : 'session');

function describeHead(db: DatabaseHealth, w: WaitingSession, head: HeadBlocker | undefined): string {
  if (w.headBlocker === 0 || (w.headBlocker === null && w.blockedBy.includes(0))) return 'a prepared transaction (see pg_prepared_xacts)';
  const id = w.headBlocker ?? w.blockedBy[0];
  if (!head) return `${sessionWord(db)} ${id}`;
  const xact = head.xactSeconds !== null ? `, transaction open ${formatDuration(head.xactSeconds)}` : '';
  const last = head.statement ? `, last: ${head.statement}` : '';
  return `${sessionWord(db)} ${head.session} (${head.ours ? 'cutover' : head.who}, ${head.state}${xact}${last})`;
}

/** A stretch of samples with findings: one alert when it opens, one "cleared" notice when it closes. */
export interface HealthEpisode {
  /** 1, 2, … within the step's attempt. */
  n: number;
  since: number;
  /** The findings of the sample that opened it (what the alert says). */
  findings: HealthFinding[];
  /** The longest wait seen during the episode. */
  worstWaitSeconds: number;
  clearedAt: number | null;
  /** sample: a complete sample without findings; step-ended: the step finished (or failed) while it was open. */
  clearedBy: 'sample' | 'step-ended' | null;
}

/** The watch over one attempt of a step: the latest sample and every episode so far. */
export interface StepHealth {
  latest: HealthSample;
  episodes: HealthEpisode[];
}

export const openEpisode = (h: StepHealth | null | undefined): HealthEpisode | undefined => {
  const last = h?.episodes.at(-1);
  return last && last.clearedAt === null ? last : undefined;
};

/**
 * Folds a sample into the step's watch. A sample with findings opens an
 * episode (or extends the open one); a complete sample without findings
 * closes it. An incomplete sample (a database did not answer) changes no
 * episode: not knowing is not the same as clear.
 */
export function withSample(h: StepHealth | null | undefined, sample: HealthSample, at: number): StepHealth {
  const episodes = [...(h?.episodes ?? [])];
  const open = openEpisode(h);
  const worst = Math.max(0, ...sample.findings.map((f) => f.waitSeconds));
  if (sample.findings.length > 0) {
    if (open) episodes[episodes.length - 1] = { ...open, worstWaitSeconds: Math.max(open.worstWaitSeconds, worst) };
    else episodes.push({ n: (episodes.at(-1)?.n ?? 0) + 1, since: at, findings: sample.findings, worstWaitSeconds: worst, clearedAt: null, clearedBy: null });
  } else if (open && sample.complete) {
    episodes[episodes.length - 1] = { ...open, clearedAt: at, clearedBy: 'sample' };
  }
  return { latest: sample, episodes };
}

/** The step finished or failed: nothing watches it any more, so an open episode ends here. */
export function whenStepEnds(h: StepHealth | null | undefined, at: number): StepHealth | null {
  if (!h) return null;
  const open = openEpisode(h);
  if (!open) return h;
  return { ...h, episodes: [...h.episodes.slice(0, -1), { ...open, clearedAt: at, clearedBy: 'step-ended' }] };
}

/** The alert's sentence for an episode that opened. */
export function blockedReason(title: string, episode: HealthEpisode): string {
  const [first, ...rest] = episode.findings;
  if (!first) return `"${title}" is held up by a wait on the database.`;
  const what = first.kind === 'blocking' ? 'block threshold' : 'lock wait threshold';
  const more = rest.length > 0 ? ` (and ${rest.length} more wait${rest.length > 1 ? 's' : ''} over threshold)` : '';
  return `"${title}" — ${first.text}; over the ${formatDuration(first.thresholdSeconds)} ${what}${more}.`;
}

/**
 * The "cleared" sentence: how long it lasted, and whether the waits ended or
 * only the watch did (a step that succeeded got past its wait; one that
 * failed, or a run that ended, only stopped watching it).
 */
export function clearedReason(title: string, episode: HealthEpisode, ended: { stepSucceeded: boolean; runEnded: boolean }): string {
  const where = [...new Set(episode.findings.map((f) => f.connection))].join(', ');
  const lasted = episode.clearedAt !== null ? `over threshold for ${formatDuration((episode.clearedAt - episode.since) / 1000)}, ` : '';
  const figures = `(${lasted}longest wait ${formatDuration(episode.worstWaitSeconds)})`;
  if (episode.clearedBy === 'sample') return `"${title}": the wait on ${where} cleared ${figures}.`;
  if (episode.clearedBy === 'step-ended' && ended.stepSucceeded) return `"${title}" got past its wait on ${where} and finished ${figures}.`;
  if (episode.clearedBy === 'step-ended') return `"${title}" ended while waiting on ${where} ${figures}; the databases are no longer watched for this step.`;
  return `"${title}": the ${ended.runEnded ? 'run ended' : 'step is no longer running'}; the wait on ${where} is no longer watched ${figures}.`;
}
