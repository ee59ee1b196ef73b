import { backupCatalogue } from '../backups.js';
import type { RunEvent } from '../events.js';
import { goLiveOf } from '../go-live.js';
import { allSteps, rollbackSteps } from '../plan.js';
import type { RunState } from '../state.js';

/**
 * What makes the report an audit record: every decision with who, when and
 * why; the go-live instant and WAL position; the backups with checksums; the
 * rollback with its steps; the outcome in words. Read from the events and the
 * folded state. Pure.
 */

export interface DecisionFigure {
  at: number;
  /** Slack id, or a process ("worker", "scheduler") for what was decided automatically. */
  by: string;
  /** What was decided, in words: "approved", "held", "requested a rollback"… */
  what: string;
  /** The step or scenario it was about ("—" for the run as a whole). */
  about: string;
  why: string | null;
}

export interface GoLiveFigure {
  /** ISO 8601 from the switch step. */
  at: string;
  /** The WAL position recorded at go-live (a backup step's go-live checkpoint), when one was taken. */
  walLsn: string | null;
}

export interface BackupFigure {
  stepId: string;
  kind: 'postgres' | 'mssql';
  file: string;
  bytes: number | null;
  sha256: string | null;
  verified: boolean;
  at: number;
}

export interface RollbackFigure {
  scenario: string;
  title: string;
  requestedBy: string;
  requestedAt: number;
  reason: string;
  approvedBy: string | null;
  approvedAt: number | null;
  status: 'requested' | 'running' | 'done' | 'failed';
  steps: Array<{ stepId: string; title: string; status: string; startedAt: number | null; finishedAt: number | null; result: string | null }>;
}

const str = (e: Record<string, unknown>, name: string): string | null => (typeof e[name] === 'string' ? (e[name] as string) : null);

/** Every decision a person (or the bot on their behalf) took, oldest first. */
export function decisionsOf(state: RunState, events: readonly RunEvent[]): DecisionFigure[] {
  const titles = new Map([...allSteps(state.plan), ...state.plan.rollbackScenarios.flatMap((s) => s.steps ?? [])].map((s) => [s.id, s.title]));
  const scenarios = new Map(state.plan.rollbackScenarios.map((s) => [s.id, s.title]));
  const step = (id: string): string => titles.get(id) ?? id;
  const scenario = (id: string): string => `rollback ${scenarios.get(id) ?? id}`;
  const out: DecisionFigure[] = [];
  const add = (at: number, by: string, what: string, about: string, why: string | null = null): void => void out.push({ at, by, what, about, why });
  for (const e of events) {
    switch (e.type) {
      case 'run.started': add(e.at, e.by, e.dryRun ? 'started the run (dry run)' : 'started the run', '—'); break;
      case 'step.approved': add(e.at, e.by, e.evidence ? `approved (validation ${e.evidence.verdict})` : 'approved', step(e.stepId), e.attempt > 1 ? `attempt ${e.attempt}` : null); break;
      case 'step.held': add(e.at, e.by, 'held', step(e.stepId), e.reason); break;
      case 'step.released': add(e.at, e.by, 'released the hold', step(e.stepId)); break;
      case 'step.rejected': add(e.at, e.by, 'refused', step(e.stepId), e.reason); break;
      case 'step.retried': add(e.at, e.by, `retried (attempt ${e.attempt})`, step(e.stepId)); break;
      case 'step.skipped': add(e.at, e.by, 'skipped', step(e.stepId), e.reason); break;
      case 'gate.overridden': add(e.at, e.by, `overrode the gate on a ${e.verdict} verdict`, step(e.stepId), e.reason); break;
      case 'step.approvals_lapsed': add(e.at, 'bot', 'set the approvals aside', step(e.stepId), e.reason); break;
      case 'run.paused': add(e.at, e.by, 'paused the run', '—', e.reason); break;
      case 'run.resumed': add(e.at, e.by, 'resumed the run', '—'); break;
      case 'run.aborted': add(e.at, e.by, 'aborted the run', '—', e.reason); break;
      case 'rollback.requested': add(e.at, e.by, 'requested a rollback', scenario(e.scenario), e.reason); break;
      case 'rollback.approved': add(e.at, e.by, 'approved the rollback', scenario(e.scenario)); break;
      case 'rollback.cancelled': add(e.at, e.by, 'cancelled the rollback request', scenario(e.scenario), e.reason ?? null); break;
      case 'escalation.acknowledged': add(e.at, e.by, `acknowledged the ${e.level}`, step(e.stepId)); break;
      case 'rollback.acknowledged': add(e.at, e.by, `acknowledged the rollback ${e.level}`, '—'); break;
      case 'go_no_go.decided': add(e.at, e.by, e.decision === 'continue' ? 'decided to continue (go/no-go)' : 'decided to roll back (go/no-go)', '—'); break;
      case 'follow_up.snoozed': add(e.at, e.by, `snoozed until ${new Date(e.until).toISOString().slice(0, 16).replace('T', ' ')} UTC`, e.followUpId); break;
      case 'follow_up.done': add(e.at, e.by, 'marked done', e.followUpId); break;
      default: {
        // Events added later that name a person are kept rather than lost from the record.
        const rec: Record<string, unknown> = { ...e };
        const by = str(rec, 'by');
        if (by && !e.type.endsWith('.sent')) add(e.at, by, e.type, str(rec, 'stepId') ? step(str(rec, 'stepId') ?? '') : '—', str(rec, 'reason'));
      }
    }
  }
  return out;
}

/** When the switch went live and the WAL position recorded for it; null when nothing went live. */
export function goLiveFigure(state: RunState): GoLiveFigure | null {
  const { goLiveAt } = goLiveOf(state);
  if (!goLiveAt) return null;
  let walLsn: string | null = null;
  for (const id of Object.keys(state.steps)) {
    const details = state.steps[id]?.result?.details;
    const checkpoint = details?.['checkpoint'];
    if (checkpoint && typeof checkpoint === 'object' && 'lsn' in checkpoint && typeof checkpoint.lsn === 'string') walLsn = checkpoint.lsn;
    if (typeof details?.['walLsn'] === 'string' && state.plan.phases.some((p) => p.steps.some((s) => s.id === id && s.action === 'switch'))) walLsn = details['walLsn'];
  }
  return { at: goLiveAt, walLsn };
}

export function backupFigures(state: RunState): BackupFigure[] {
  return backupCatalogue(state).map((b) => ({ stepId: b.id, kind: b.kind, file: b.file, bytes: b.bytes, sha256: b.sha256, verified: b.verified, at: b.at }));
}

export function rollbackFigure(state: RunState): RollbackFigure | null {
  const rb = state.rollback;
  if (!rb) return null;
  const title = state.plan.rollbackScenarios.find((s) => s.id === rb.scenario)?.title ?? rb.scenario;
  return {
    scenario: rb.scenario,
    title,
    requestedBy: rb.requestedBy,
    requestedAt: rb.requestedAt,
    reason: rb.reason,
    approvedBy: rb.approvedBy ?? null,
    approvedAt: rb.approvedAt ?? null,
    status: rb.status,
    steps: rollbackSteps(state.plan, rb.scenario).map((s) => {
      const st = state.steps[s.id];
      return {
        stepId: s.id,
        title: s.title,
        status: st?.status ?? 'pending',
        startedAt: st?.startedAt ?? null,
        finishedAt: st?.finishedAt ?? null,
        result: st?.error?.message ?? st?.result?.summary ?? st?.skipped?.reason ?? null,
      };
    }),
  };
}

/**
 * The outcome in words: "completed", "rolled back before go-live",
 * "aborted after go-live"… — never a state name such as `rolled_back`.
 */
export function outcomeInWords(status: RunState['status'], wentLive: boolean, dryRun: boolean): string {
  const live = wentLive ? 'after go-live' : 'before go-live';
  const words: Record<RunState['status'], string> = {
    completed: wentLive ? 'completed: live on the new database' : 'completed',
    aborted: `aborted ${live}`,
    rolled_back: `rolled back ${live}`,
    active: 'still in progress',
    paused: 'paused, not finished',
  };
  return `${words[status]}${dryRun ? ' (dry run: SQL rolled back)' : ''}`;
}
