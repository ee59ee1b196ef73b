import { z } from 'zod';
import { backupMssqlSpec } from './actions/backup-mssql.js';
import { backupPostgresSpec } from './actions/backup-postgres.js';
import type { ErrorCode } from './error-codes.js';
import { allSteps, type PlanStep } from './plan.js';
import { restorePostgresParams } from './actions/restore-postgres.js';
import type { RunbookDoc, StepDoc } from './schema.js';
import type { RunState } from './state.js';

/** Action ids that produce a catalogued backup; `requires: backup.<id>` must name a step with one of them. */
const BACKUP_ACTIONS: readonly string[] = [backupPostgresSpec.id, backupMssqlSpec.id];

/**
 * The run's backup catalogue and the `requires: backup.<id>` guard. Derived
 * from the run's events (a backup step's result details), so it needs no
 * store of its own and is exactly as durable as the run. Pure.
 */

/** What backup.postgres / backup.mssql put under `details.backup`; read back with zod, never trusted. */
export const backupRecordSchema = z.object({
  id: z.string(),
  kind: z.enum(['postgres', 'mssql']),
  file: z.string(),
  bytes: z.number().nonnegative().nullable(),
  /** null for SQL Server: the file lives on the database host, the worker cannot read it. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/).nullable(),
  verified: z.boolean(),
  tables: z.number().int().nonnegative().nullable().optional(),
  startedAt: z.number().optional(),
  seconds: z.number().optional(),
  walLsn: z.string().nullable().optional(),
  firstLsn: z.string().nullable().optional(),
  lastLsn: z.string().nullable().optional(),
});
export type BackupRecord = z.infer<typeof backupRecordSchema>;

export interface CatalogueEntry {
  /** The backup step's id: what `requires: [backup.<id>]` names. */
  id: string;
  kind: 'postgres' | 'mssql';
  file: string;
  bytes: number | null;
  sha256: string | null;
  verified: boolean;
  /** When the step finished (epoch ms). */
  at: number;
}

/** Reads `details.backup` of a step result; null when absent or malformed. */
export function readBackup(details: Record<string, unknown> | undefined): BackupRecord | null {
  const parsed = backupRecordSchema.safeParse(details?.backup);
  return parsed.success ? parsed.data : null;
}

/** Every backup this run made: succeeded steps whose result carries a backup record, in runbook order. */
export function backupCatalogue(state: RunState): CatalogueEntry[] {
  const out: CatalogueEntry[] = [];
  for (const id of state.order) {
    const step = state.steps[id];
    if (step?.status !== 'succeeded') continue;
    const backup = readBackup(step.result?.details);
    if (!backup) continue;
    // The entry is keyed by the step, whatever id the action wrote: `requires` names steps.
    out.push({ id, kind: backup.kind, file: backup.file, bytes: backup.bytes, sha256: backup.sha256, verified: backup.verified, at: step.finishedAt ?? 0 });
  }
  return out;
}

const REQUIRES = /^backup\.([a-z0-9][a-z0-9_-]*)$/;

/** The backup step id named by a `requires` entry ("backup.pg-before-switch" → "pg-before-switch"); null if not one. */
export function requiredBackupId(requirement: string): string | null {
  return REQUIRES.exec(requirement)?.[1] ?? null;
}

/**
 * Why a step cannot be approved yet: a backup it requires has not been made
 * and verified in this run. null: nothing is missing. In a dry run the backup
 * step writes nothing, so its rehearsal (a succeeded step) is enough.
 */
export function backupRefusal(state: RunState, planStep: PlanStep): { code: ErrorCode; message: string } | null {
  const catalogue = backupCatalogue(state);
  const missing: string[] = [];
  for (const requirement of planStep.requires ?? []) {
    const id = requiredBackupId(requirement);
    if (id === null) continue;
    const met = state.dryRun ? state.steps[id]?.status === 'succeeded' : catalogue.some((b) => b.id === id && b.verified);
    if (!met) missing.push(describeBackupStep(state, id));
  }
  if (missing.length === 0) return null;
  const what = missing.length === 1 ? `a verified backup from step ${missing[0]}` : `verified backups from steps ${missing.join(' and ')}`;
  return { code: 'backup.required', message: `"${planStep.title}" needs ${what} first.` };
}

function describeBackupStep(state: RunState, id: string): string {
  const step = allSteps(state.plan).find((s) => s.id === id);
  return step ? `"${step.title}" (\`${id}\`)` : `\`${id}\``;
}

/** A byte count as people read it: 1.5 GB, 12 MB, 900 B. */
export function formatBytes(bytes: number | null): string {
  if (bytes === null) return 'size unknown';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/**
 * Load-time check of every `requires` entry: it must name a backup step of
 * the runbook's phases that comes before the requiring step (else the step
 * could never be approved). Rollback steps may name any phase backup.
 */
export function requiresProblems(doc: RunbookDoc): Array<{ path: Array<string | number>; message: string }> {
  const out: Array<{ path: Array<string | number>; message: string }> = [];
  const backups = new Map<string, { action: string; index: number }>();
  const forward = doc.phases.flatMap((ph, i) => ph.steps.map((step, j) => ({ step, path: ['phases', i, 'steps', j] as Array<string | number> })));
  forward.forEach(({ step }, index) => backups.set(step.id, { action: step.action, index }));
  const check = (step: StepDoc, path: Array<string | number>, index: number): void => {
    step.requires.forEach((requirement, k) => {
      const id = requiredBackupId(requirement) ?? requirement;
      const target = backups.get(id);
      const at = [...path, 'requires', k];
      const known = [...backups].filter(([, b]) => BACKUP_ACTIONS.includes(b.action)).map(([s]) => s);
      const expected = `expected one of ${known.length ? known.map((s) => `backup.${s}`).join(', ') : 'none: the runbook has no backup.postgres or backup.mssql step'}`;
      if (!target) out.push({ path: at, message: `"${requirement}" names no step of this runbook (${expected})` });
      else if (!BACKUP_ACTIONS.includes(target.action)) out.push({ path: at, message: `"${requirement}" names a ${target.action} step, not a backup (${expected})` });
      else if (target.index >= index) out.push({ path: at, message: `"${requirement}" comes at or after this step, so it could never be approved; move the backup before it` });
    });
  };
  forward.forEach(({ step, path }, index) => check(step, path, index));
  for (const [id, scenario] of Object.entries(doc.rollback)) scenario.steps.forEach((step, j) => check(step, ['rollback', id, 'steps', j], Number.MAX_SAFE_INTEGER));
  return out;
}

/**
 * Load-time check of restore.postgres `from:` entries: each must name a
 * backup.postgres step of the runbook's phases (only those make a dump the
 * worker can restore).
 */
export function restoreFromProblems(doc: RunbookDoc): Array<{ path: Array<string | number>; message: string }> {
  const dumps = doc.phases.flatMap((ph) => ph.steps).filter((s) => s.action === 'backup.postgres').map((s) => s.id);
  const expected = dumps.length ? `expected one of ${dumps.map((s) => `backup.${s}`).join(', ')}` : 'the runbook has no backup.postgres step';
  const out: Array<{ path: Array<string | number>; message: string }> = [];
  const check = (step: StepDoc, path: Array<string | number>): void => {
    if (step.action !== 'restore.postgres') return;
    const parsed = restorePostgresParams.safeParse(step.params);
    const from = parsed.success ? (parsed.data.from ?? []) : [];
    from.forEach((ref, k) => {
      const id = requiredBackupId(ref);
      if (id === null || !dumps.includes(id)) out.push({ path: [...path, 'params', 'from', k], message: `"${ref}" names no backup.postgres step of this runbook (${expected})` });
    });
  };
  doc.phases.forEach((ph, i) => ph.steps.forEach((step, j) => check(step, ['phases', i, 'steps', j])));
  for (const [id, scenario] of Object.entries(doc.rollback)) scenario.steps.forEach((step, j) => check(step, ['rollback', id, 'steps', j]));
  return out;
}
